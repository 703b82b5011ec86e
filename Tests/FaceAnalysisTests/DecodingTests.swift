import FaceAnalysis
import Imaging
import Testing

@Suite struct DecodingTests {
  func face(_ x1: Float, _ y1: Float, _ x2: Float, _ y2: Float, score: Float) -> DetectedFace {
    DetectedFace(box: BoundingBox(x1: x1, y1: y1, x2: x2, y2: y2), score: score, landmarks: [])
  }

  @Test func nmsKeepsTheBestOfOverlappingBoxesLikeOpenCV() {
    let strong = face(0, 0, 100, 100, score: 0.9)
    let overlapping = face(10, 0, 110, 100, score: 0.8)  // IoU = 90*100 / (2*10000 - 9000) = 0.818
    let separate = face(200, 200, 260, 260, score: 0.7)
    let weak = face(300, 300, 320, 320, score: 0.4)
    let kept = nonMaximumSuppression([separate, overlapping, weak, strong], scoreThreshold: 0.5, iouThreshold: 0.4)
    #expect(kept == [strong, separate])
    // Boxes overlapping exactly at the threshold are kept (OpenCV keeps IoU <= threshold).
    let half = face(0, 0, 100, 100, score: 0.9)
    let third = face(50, 0, 150, 100, score: 0.8)  // IoU = 5000 / 15000 = 1/3
    #expect(nonMaximumSuppression([half, third], scoreThreshold: 0.5, iouThreshold: 1.0 / 3.0 + 1e-6).count == 2)
    #expect(nonMaximumSuppression([half, third], scoreThreshold: 0.5, iouThreshold: 0.3).count == 1)
  }

  @Test func anchorDistanceDecodingFollowsStridesAndAnchors() {
    // 32x32 input: stride 8 -> 4x4 cells x 2 anchors = 32 candidates; strides 16 and 32 empty.
    var scores8 = [Float](repeating: 0, count: 32)
    var boxes8 = [Float](repeating: 0, count: 32 * 4)
    var kps8 = [Float](repeating: 0, count: 32 * 10)
    // Cell row 1, column 2, second anchor -> index (1 * 4 + 2) * 2 + 1 = 13, anchor point (16, 8).
    scores8[13] = 0.8
    boxes8.replaceSubrange(52..<56, with: [1, 0.5, 2, 3])
    kps8.replaceSubrange(130..<140, with: [0, 0, 1, 0, 0.5, 1, 0, 2, 1, 2])
    let faces = DetectorDecoding.anchorDistance(
      scores: [scores8, [Float](repeating: 0, count: 8), [0, 0]],
      boxes: [boxes8, [Float](repeating: 0, count: 32), [Float](repeating: 0, count: 8)],
      keypoints: [kps8, [Float](repeating: 0, count: 80), [Float](repeating: 0, count: 20)],
      inputWidth: 32, inputHeight: 32, scoreThreshold: 0.5)
    #expect(faces.count == 1)
    #expect(faces[0].box == BoundingBox(x1: 8, y1: 4, x2: 32, y2: 32))
    #expect(faces[0].landmarks == [Point2(16, 8), Point2(24, 8), Point2(20, 16), Point2(16, 24), Point2(24, 24)])
  }

  @Test func preparedInputIsBgrNormalisedAndPaddedTopLeft() throws {
    // 2x1 image: a red and a blue pixel; the canvas is 4x4.
    let image = try Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 0, 0, 255])
    let prepared = FaceDetector.prepareInput(image, size: 4, family: .scrfd)
    let values = prepared.tensor.floats()
    #expect(prepared.tensor.shape == [1, 3, 4, 4])
    #expect(prepared.ratioX == 1 && prepared.ratioY == 1)
    let pad = (0 - 127.5) / 128 as Float
    // Plane 0 is blue: the second pixel.
    #expect(values[0] == pad + 0 && values[1] == (255 - 127.5) / 128)
    // Plane 2 is red: the first pixel.
    #expect(values[32] == (255 - 127.5) / 128 && values[33] == pad)
    #expect(values[4] == pad && values[15] == pad)  // padding below and right
    // YuNet takes raw 0-255, YOLOFace x / 255.
    #expect(FaceDetector.prepareInput(image, size: 4, family: .yunet).tensor.floats()[1] == 255)
    #expect(FaceDetector.prepareInput(image, size: 4, family: .yoloFace).tensor.floats()[1] == 1)
  }

  @Test func largeFramesShrinkToFitKeepingAspectAndSmallOnesDoNotGrow() throws {
    let wide = try Image(width: 64, height: 16, channels: 3, pixels: [UInt8](repeating: 128, count: 64 * 16 * 3))
    let prepared = FaceDetector.prepareInput(wide, size: 32, family: .scrfd)
    #expect(prepared.ratioX == 2 && prepared.ratioY == 2)
    let small = try Image(width: 8, height: 8, channels: 3, pixels: [UInt8](repeating: 128, count: 8 * 8 * 3))
    #expect(FaceDetector.prepareInput(small, size: 32, family: .scrfd).ratioX == 1)
  }

  @Test func nmsThresholdTightensWithMoreAnglesLikeFaceFusion() {
    #expect(FaceDetectorOptions().nmsThreshold == 0.4)
    #expect(FaceDetectorOptions(angles: [0, 90]).nmsThreshold == 0.3)
    #expect(FaceDetectorOptions(angles: [0, 90, 180]).nmsThreshold == 0.2)
    #expect(FaceDetectorOptions(angles: [0, 90, 180, 270]).nmsThreshold == 0.1)
    #expect(FaceDetectorOptions(model: .many).nmsThreshold == 0.1)
  }
}
