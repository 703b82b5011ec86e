/// One face found by a detector, in the coordinates of the image given to the detector.
public struct DetectedFace: Sendable, Equatable, Codable {
  public var box: BoundingBox
  /// Detector confidence in [0, 1].
  public var score: Float
  /// Five keypoints in FaceFusion's (and InsightFace's) order: left eye, right eye, nose tip,
  /// left mouth corner, right mouth corner. "Left" is the image's left for a frontal face.
  public var landmarks: [Point2]

  public init(box: BoundingBox, score: Float, landmarks: [Point2]) {
    self.box = box
    self.score = score
    self.landmarks = landmarks
  }

  public static let landmarkNames = ["left_eye", "right_eye", "nose", "left_mouth", "right_mouth"]
}

/// Greedy non-maximum suppression with OpenCV NMSBoxes semantics: candidates under
/// `scoreThreshold` are dropped, the rest visited by descending score, and a candidate is kept
/// when its IoU with every kept box is at most `iouThreshold`. Returns kept faces, best first.
public func nonMaximumSuppression(_ faces: [DetectedFace], scoreThreshold: Float, iouThreshold: Float) -> [DetectedFace] {
  // Stable order for equal scores keeps results deterministic across runs.
  let ordered = faces.enumerated().filter { $0.element.score >= scoreThreshold }
    .sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
    .map(\.element)
  var kept: [DetectedFace] = []
  for candidate in ordered where kept.allSatisfy({ $0.box.intersectionOverUnion(candidate.box) <= iouThreshold }) {
    kept.append(candidate)
  }
  return kept
}
