import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime
import Testing

/// 2dfan4, peppa_wutz and fan_68_5 decoding on synthetic models with their signatures.
@Suite struct LandmarkerTests {
  let box = BoundingBox(x1: 100, y1: 60, x2: 230, y2: 250)  // taller than wide: scale = 195 / 190

  func session(_ name: String) throws -> InferenceSession {
    try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.root + "/vendor/test-models/" + name)
  }

  /// Where the stand-ins' grid point i lands in the frame, computed from FaceFusion's formulas.
  func expected(_ index: Int) -> Point2 {
    let scale: Float = 195 / 190
    let tx = (256 - (box.x1 + box.x2) * scale) / 2, ty = (256 - (box.y1 + box.y2) * scale) / 2
    let gx = (10 + Float(index % 17) * 2.5) * 4, gy = (12 + Float(index / 17) * 9) * 4
    return Point2((gx - tx) / scale, (gy - ty) / scale)
  }

  @Test(arguments: [(FaceLandmarker.Kind.twoDFan4, "2dfan4_synthetic.onnx", Float(0.5)), (.peppaWutz, "peppa_wutz_synthetic.onnx", 0.6)])
  func decodesPointsAndScore(kind: FaceLandmarker.Kind, file: String, score: Float) throws {
    let landmarker = FaceLandmarker(kind: kind, session: try session(file))
    let frame = Image(width: 320, height: 320, channels: 3, fill: 100)
    let result = try landmarker.landmarks(in: frame, box: box)
    #expect(abs(result.score - score) < 1e-4)
    for index in [0, 16, 33, 67] {
      #expect(abs(result.points[index].x - expected(index).x) < 1e-2 && abs(result.points[index].y - expected(index).y) < 1e-2)
    }
  }

  @Test func fiveFromSixtyEightOnlyWhenTheScoreIsGood() {
    let detector = (0..<5).map { Point2(Float($0), 0) }
    let points = (0..<68).map { Point2(Float($0), Float($0)) }
    #expect(FaceLandmarker.alignmentPoints(detector: detector, landmarks: FaceLandmarks68(points: points, score: 0.4)) == detector)
    let fromSixtyEight = FaceLandmarker.alignmentPoints(detector: detector, landmarks: FaceLandmarks68(points: points, score: 0.6))
    #expect(fromSixtyEight == [Point2(38.5, 38.5), Point2(44.5, 44.5), Point2(30, 30), Point2(48, 48), Point2(54, 54)])
  }

  @Test func fan68From5MapsThroughTheFfhqFrame() throws {
    let estimator = Landmark68From5(session: try session("fan_68_5_synthetic.onnx"))
    let five = [Point2(200, 220), Point2(260, 218), Point2(232, 255), Point2(208, 290), Point2(255, 288)]
    let sixtyEight = try estimator.estimate(from: five)
    #expect(sixtyEight.count == 68)
    // The stand-in copies point i % 5 in the normalised frame, so the round trip returns it.
    for index in [0, 7, 33, 67] {
      #expect(abs(sixtyEight[index].x - five[index % 5].x) < 1e-2 && abs(sixtyEight[index].y - five[index % 5].y) < 1e-2)
    }
  }
}
