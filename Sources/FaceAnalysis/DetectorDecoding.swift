import Foundation

/// Decoders turning raw detector outputs into faces in detector-input pixels (e.g. 640x640).
/// Pure functions over flat arrays, so they are tested without a model and reused by every
/// model family. Formulas follow FaceFusion's face_detector so its zoo files work unchanged.
public enum DetectorDecoding {
  /// Cell anchor points for one stride in row-major order, each repeated `anchorsPerCell` times.
  static func anchorPoints(stride: Int, anchorsPerCell: Int, inputWidth: Int, inputHeight: Int) -> [Point2] {
    let columns = inputWidth / stride
    let rows = inputHeight / stride
    var points: [Point2] = []
    points.reserveCapacity(columns * rows * anchorsPerCell)
    for row in 0..<rows {
      for column in 0..<columns {
        let point = Point2(Float(column * stride), Float(row * stride))
        for _ in 0..<anchorsPerCell { points.append(point) }
      }
    }
    return points
  }

  /// SCRFD and RetinaFace (FaceFusion's exports): per stride a score (N,1), distances to the box
  /// sides left/top/right/bottom (N,4) and keypoint offsets (N,10), all in units of the stride.
  public static func anchorDistance(
    scores: [[Float]], boxes: [[Float]], keypoints: [[Float]], strides: [Int] = [8, 16, 32], anchorsPerCell: Int = 2,
    inputWidth: Int, inputHeight: Int, scoreThreshold: Float
  ) -> [DetectedFace] {
    var faces: [DetectedFace] = []
    for (level, stride) in strides.enumerated() {
      let levelScores = scores[level]
      guard levelScores.contains(where: { $0 >= scoreThreshold }) else { continue }
      let anchors = anchorPoints(stride: stride, anchorsPerCell: anchorsPerCell, inputWidth: inputWidth, inputHeight: inputHeight)
      let levelBoxes = boxes[level]
      let levelKeypoints = keypoints[level]
      let scale = Float(stride)
      for index in 0..<min(levelScores.count, anchors.count) where levelScores[index] >= scoreThreshold {
        let anchor = anchors[index]
        let box = BoundingBox(
          x1: anchor.x - levelBoxes[index * 4] * scale, y1: anchor.y - levelBoxes[index * 4 + 1] * scale,
          x2: anchor.x + levelBoxes[index * 4 + 2] * scale, y2: anchor.y + levelBoxes[index * 4 + 3] * scale)
        let landmarks = (0..<5).map { point in
          Point2(anchor.x + levelKeypoints[index * 10 + point * 2] * scale,
                 anchor.y + levelKeypoints[index * 10 + point * 2 + 1] * scale)
        }
        faces.append(DetectedFace(box: box, score: levelScores[index], landmarks: landmarks))
      }
    }
    return faces
  }

  /// YOLOFace (yoloface_8n): one output (1, 20, N) whose rows are cx, cy, w, h, score and five
  /// keypoints as (x, y, confidence), already in input pixels.
  public static func yoloFace(output: [Float], candidates: Int, scoreThreshold: Float) -> [DetectedFace] {
    precondition(output.count >= 20 * candidates, "yoloface output too small")
    var faces: [DetectedFace] = []
    output.withUnsafeBufferPointer { rows in
      for column in 0..<candidates where rows[4 * candidates + column] > scoreThreshold {
        let centreX = rows[column], centreY = rows[candidates + column]
        let width = rows[2 * candidates + column], height = rows[3 * candidates + column]
        let box = BoundingBox(x1: centreX - width / 2, y1: centreY - height / 2, x2: centreX + width / 2, y2: centreY + height / 2)
        let landmarks = (0..<5).map { point in
          Point2(rows[(5 + point * 3) * candidates + column], rows[(6 + point * 3) * candidates + column])
        }
        faces.append(DetectedFace(box: box, score: rows[4 * candidates + column], landmarks: landmarks))
      }
    }
    return faces
  }

  /// YuNet (yunet_2023_mar): per stride class and objectness scores (score = cls * obj), a box
  /// as centre offset (in strides) and log size, and keypoint offsets, one anchor per cell.
  public static func yunet(
    classScores: [[Float]], objectness: [[Float]], boxes: [[Float]], keypoints: [[Float]], strides: [Int] = [8, 16, 32],
    inputWidth: Int, inputHeight: Int, scoreThreshold: Float
  ) -> [DetectedFace] {
    var faces: [DetectedFace] = []
    for (level, stride) in strides.enumerated() {
      let anchors = anchorPoints(stride: stride, anchorsPerCell: 1, inputWidth: inputWidth, inputHeight: inputHeight)
      let scale = Float(stride)
      let cls = classScores[level], obj = objectness[level], box = boxes[level], kps = keypoints[level]
      for index in 0..<min(cls.count, obj.count, anchors.count) {
        let score = cls[index] * obj[index]
        guard score >= scoreThreshold else { continue }
        let anchor = anchors[index]
        let centreX = box[index * 4] * scale + anchor.x
        let centreY = box[index * 4 + 1] * scale + anchor.y
        let width = exp(box[index * 4 + 2]) * scale
        let height = exp(box[index * 4 + 3]) * scale
        let landmarks = (0..<5).map { point in
          Point2(kps[index * 10 + point * 2] * scale + anchor.x, kps[index * 10 + point * 2 + 1] * scale + anchor.y)
        }
        faces.append(DetectedFace(
          box: BoundingBox(x1: centreX - width / 2, y1: centreY - height / 2, x2: centreX + width / 2, y2: centreY + height / 2),
          score: score, landmarks: landmarks))
      }
    }
    return faces
  }
}
