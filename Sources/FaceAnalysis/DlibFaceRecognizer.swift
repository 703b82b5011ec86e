import Foundation
import Imaging
import OnnxRuntime

/// The offline identity model: dlib's ResNet face recogniser (CC0, from the
/// `face_recognition_models` package), converted to ONNX at setup by
/// scripts/convert_dlib_recognizer.py. A 128-d descriptor of a 150 px face chip aligned by the
/// 68 points; two faces are the same person below a Euclidean distance of 0.6 (dlib's threshold,
/// stored in the model file itself).
///
/// The chip follows dlib's get_face_chip_details(shape, 150, 0.25) and extract_image_chip: a
/// least-squares similarity from 33 of the 68 points (nose, eyes, upper lips) to dlib's mean
/// face, sampled bilinearly, truncated to whole levels, black outside the frame. dlib first
/// shrinks the frame by pyramid levels for faces over ~2x the chip; this reader samples the
/// full frame (the descriptor moves by at most ~0.02, checked against dlib itself).
public struct DlibFaceRecognizer: Sendable {
  public static let fileName = "dlib_face_recognition_resnet_model_v1.onnx"
  /// dlib's same-person threshold on the Euclidean distance of two descriptors.
  public static let sameFaceDistance: Float = 0.6
  static let chipSize = 150

  public let session: InferenceSession

  public init(session: InferenceSession) { self.session = session }

  /// The face's descriptor (128 values, not normalised).
  public func descriptor(of image: Image, shape: [Point2]) throws -> [Float] {
    guard shape.count == 68 else { throw OnnxRuntimeError(.invalidInput, "dlib's recogniser needs the 68 points") }
    let chip = Self.chip(of: image, shape: shape)
    let output = try session.run([session.inputs[0].name: Tensor(shape: [1, 3, Self.chipSize, Self.chipSize], floats: chip)])[0]
    return output.floats()
  }

  public static func distance(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
  }

  /// dlib's mean face (its `mean_face_shape_x/y`, unit square) for points 27-54 and 60-64, in
  /// that order.
  static let templatePoints: [(Double, Double)] = [
    (0.490127, 0.203352), (0.490127, 0.307009), (0.490127, 0.409805), (0.490127, 0.515625),
    (0.36688, 0.587326), (0.426036, 0.609345), (0.490127, 0.628106), (0.554217, 0.609345), (0.613373, 0.587326),
    (0.121737, 0.216423), (0.187122, 0.178758), (0.265825, 0.179852), (0.334606, 0.231733), (0.260918, 0.245099),
    (0.182743, 0.244077), (0.645647, 0.231733), (0.714428, 0.179852), (0.793132, 0.178758), (0.858516, 0.216423),
    (0.79751, 0.244077), (0.719335, 0.245099),
    (0.254149, 0.780233), (0.340985, 0.745405), (0.428858, 0.727388), (0.490127, 0.742578), (0.551395, 0.727388),
    (0.639268, 0.745405), (0.726104, 0.780233),
    (0.290379, 0.784792), (0.428096, 0.778746), (0.490127, 0.785343), (0.552157, 0.778746), (0.689874, 0.784792),
  ]
  static let templateIndices = Array(27...54) + Array(60...64)

  /// The 150 x 150 chip as R, G, B planes of levels 0...255 (the model folds in dlib's mean).
  static func chip(of image: Image, shape: [Point2]) -> [Float] {
    let size = Double(chipSize), padding = 0.25
    let chipPoints = templatePoints.map { ((padding + $0.0) / (1 + 2 * padding) * size, (padding + $0.1) / (1 + 2 * padding) * size) }
    let imagePoints = templateIndices.map { (Double(shape[$0].x), Double(shape[$0].y)) }
    // Least-squares similarity chip -> image (rotation, scale, shift; no reflection).
    let n = Double(chipPoints.count)
    let chipMean = (chipPoints.map(\.0).reduce(0, +) / n, chipPoints.map(\.1).reduce(0, +) / n)
    let imageMean = (imagePoints.map(\.0).reduce(0, +) / n, imagePoints.map(\.1).reduce(0, +) / n)
    var dot = 0.0, cross = 0.0, spread = 0.0
    for (c, i) in zip(chipPoints, imagePoints) {
      let (cx, cy) = (c.0 - chipMean.0, c.1 - chipMean.1), (ix, iy) = (i.0 - imageMean.0, i.1 - imageMean.1)
      dot += cx * ix + cy * iy
      cross += cx * iy - cy * ix
      spread += cx * cx + cy * cy
    }
    let angle = atan2(cross, dot), scale = (dot * dot + cross * cross).squareRoot() / max(spread, 1e-12)
    let (cosine, sine) = (cos(angle) * scale, sin(angle) * scale)
    func transform(_ x: Double, _ y: Double) -> (Double, Double) {
      let (dx, dy) = (x - chipMean.0, y - chipMean.1)
      return (imageMean.0 + cosine * dx - sine * dy, imageMean.1 + sine * dx + cosine * dy)
    }
    // dlib maps the chip's corner pixel centres onto the corners of a (150 * scale - 1) wide box
    // around the image of the chip's centre.
    let centre = transform(size / 2, size / 2)
    let step = (size * scale - 1) / (size - 1)
    let (ux, uy) = (cos(angle) * step, sin(angle) * step)
    let plane = chipSize * chipSize, width = image.width, height = image.height, channels = image.channels
    var out = [Float](repeating: 0, count: 3 * plane)
    image.pixels.withUnsafeBufferPointer { pixels in
      for y in 0..<chipSize {
        for x in 0..<chipSize {
          let (dx, dy) = (Double(x) - (size - 1) / 2, Double(y) - (size - 1) / 2)
          let px = centre.0 + ux * dx - uy * dy, py = centre.1 + uy * dx + ux * dy
          let left = Int(px.rounded(.down)), top = Int(py.rounded(.down))
          guard left >= 0, top >= 0, left + 1 < width, top + 1 < height else { continue }
          let fx = px - Double(left), fy = py - Double(top)
          for channel in 0..<3 {
            func at(_ column: Int, _ row: Int) -> Double { Double(pixels[(row * width + column) * channels + min(channel, channels - 1)]) }
            let value = (1 - fy) * ((1 - fx) * at(left, top) + fx * at(left + 1, top)) + fy * ((1 - fx) * at(left, top + 1) + fx * at(left + 1, top + 1))
            out[channel * plane + y * chipSize + x] = Float(Int(value))
          }
        }
      }
    }
    return out
  }
}
