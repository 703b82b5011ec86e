import Imaging
import Models

/// A face cropped to a model's template, with the map back to the frame for paste-back.
public struct AlignedFace: Sendable {
  public let crop: Image
  /// Frame pixel -> crop pixel.
  public let transform: AffineTransform
}

/// FaceFusion's warp_face_by_face_landmark_5: a 4-DOF similarity fitted to the five keypoints
/// and a model's template (scaled to the crop size), then a bilinear warp with replicated borders.
public enum FaceAlignment {
  /// The similarity taking `landmarks` (frame pixels) onto `template` at `size` x `size`.
  public static func transform(landmarks: [Point2], template: WarpTemplate, size: Int) -> AffineTransform? {
    let source = landmarks.map { (x: Double($0.x), y: Double($0.y)) }
    let target = template.points.map { (x: Double($0.x) * Double(size), y: Double($0.y) * Double(size)) }
    return AffineTransform.similarity(from: source, to: target)
  }

  /// The face crop for a model with `template` and square input `size`; nil for degenerate
  /// landmarks (all points on top of each other).
  public static func crop(_ frame: Image, landmarks: [Point2], template: WarpTemplate, size: Int) -> AlignedFace? {
    guard landmarks.count == 5, let transform = transform(landmarks: landmarks, template: template, size: size) else { return nil }
    return AlignedFace(crop: frame.warpedAffine(transform, width: size, height: size, border: .replicate), transform: transform)
  }
}
