import Foundation
import Imaging
import Models
import OnnxRuntime

/// 68 points with FaceFusion's landmark score (0...1).
public struct FaceLandmarks68: Sendable, Equatable {
  public let points: [Point2]
  public let score: Float

  public init(points: [Point2], score: Float) {
    self.points = points
    self.score = score
  }
}

/// FaceFusion's `--face-landmarker-model` choices over ONNX models: 2dfan4 (heatmaps) and
/// peppa_wutz, both on the box scaled so its longer side is 195 px and centred in 256 px, fed as
/// BGR planes / 255 (FaceFusion's OpenCV frames); and fan_68_5, which estimates 68 points from
/// the detector's five. Not done: FaceFusion's CLAHE contrast boost for very dark crops and the
/// per-face angle rotation.
public struct FaceLandmarker: Sendable {
  public enum Kind: String, Sendable, CaseIterable {
    case twoDFan4 = "2dfan4", peppaWutz = "peppa_wutz"
  }

  public let kind: Kind
  public let session: InferenceSession

  public init(kind: Kind, session: InferenceSession) {
    self.kind = kind
    self.session = session
  }

  public func landmarks(in frame: Image, box: BoundingBox) throws -> FaceLandmarks68 {
    let scale = 195 / max(1, max(box.width, box.height))
    let translation = (x: (256 - (box.x1 + box.x2) * scale) * 0.5, y: (256 - (box.y1 + box.y2) * scale) * 0.5)
    let transform = AffineTransform(a: Double(scale), b: 0, tx: Double(translation.x), c: 0, d: Double(scale), ty: Double(translation.y))
    let crop = frame.converted(toChannels: 3).warpedAffine(transform, width: 256, height: 256, border: .constant(0))
    // BGR planes / 255.
    let plane = 256 * 256
    var values = [Float](repeating: 0, count: 3 * plane)
    for index in 0..<plane {
      for channel in 0..<3 { values[channel * plane + index] = Float(crop.pixels[index * 3 + 2 - channel]) / 255 }
    }
    let outputs = try session.run([session.inputs[0].name: Tensor(shape: [1, 3, 256, 256], floats: values)])
    let rows: [Float], score: Float
    switch kind {
    case .twoDFan4:
      guard outputs.count >= 2 else { throw OnnxRuntimeError(.invalidInput, "2dfan4 needs landmark and heatmap outputs") }
      rows = outputs[0].floats()
      let heatmaps = outputs[1].floats(), maps = 68, mapSize = heatmaps.count / maps
      let peak = (0..<maps).map { map in heatmaps[(map * mapSize)..<((map + 1) * mapSize)].max() ?? 0 }.reduce(0, +) / Float(maps)
      score = min(max(peak / 0.9, 0), 1)
    case .peppaWutz:
      rows = outputs[0].floats()
      score = min(max(stride(from: 2, to: rows.count, by: 3).map { rows[$0] }.reduce(0, +) / 68 / 0.95, 0), 1)
    }
    guard rows.count >= 68 * 3, let inverse = transform.inverted else {
      throw OnnxRuntimeError(.invalidInput, "\(kind.rawValue) returned \(rows.count) values, expected 68 x 3")
    }
    let points = (0..<68).map { index -> Point2 in
      let mapped = inverse.apply(x: Double(rows[index * 3] / 64 * 256), y: Double(rows[index * 3 + 1] / 64 * 256))
      return Point2(Float(mapped.x), Float(mapped.y))
    }
    return FaceLandmarks68(points: points, score: score)
  }

  /// FaceFusion's rule: the five points used for alignment come from the 68 when the landmark
  /// score beats `--face-landmarker-score` (0.5), else from the detector.
  public static func alignmentPoints(detector: [Point2], landmarks: FaceLandmarks68?, threshold: Float = 0.5) -> [Point2] {
    guard let landmarks, landmarks.score > threshold else { return detector }
    return Landmarks68.fivePoints(landmarks.points)
  }
}

/// fan_68_5: 68 points estimated from five, in the ffhq_512 template's unit square.
public struct Landmark68From5: Sendable {
  let session: InferenceSession

  public init(session: InferenceSession) { self.session = session }

  public func estimate(from five: [Point2]) throws -> [Point2] {
    guard let transform = FaceAlignment.transform(landmarks: five, template: .ffhq_512, size: 1), let inverse = transform.inverted else {
      throw OnnxRuntimeError(.invalidInput, "degenerate five-point landmarks")
    }
    let normalized = five.flatMap { point -> [Float] in
      let mapped = transform.apply(x: Double(point.x), y: Double(point.y))
      return [Float(mapped.x), Float(mapped.y)]
    }
    let output = try session.run([session.inputs[0].name: Tensor(shape: [1, 5, 2], floats: normalized)])[0].floats()
    guard output.count >= 136 else { throw OnnxRuntimeError(.invalidInput, "fan_68_5 returned \(output.count) values") }
    return (0..<68).map { index in
      let mapped = inverse.apply(x: Double(output[index * 2]), y: Double(output[index * 2 + 1]))
      return Point2(Float(mapped.x), Float(mapped.y))
    }
  }
}
