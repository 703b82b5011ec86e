import Foundation
import Imaging
import Models
import OnnxRuntime

/// An ArcFace identity: the raw 512-d embedding and its L2-normalised copy (FaceFusion keeps both:
/// some swappers want the raw vector, others the normalised one).
public struct FaceEmbedding: Sendable, Equatable {
  public let raw: [Float]
  public let normalized: [Float]

  public init(raw: [Float]) {
    self.raw = raw
    let norm = raw.map { $0 * $0 }.reduce(0, +).squareRoot()
    normalized = norm > 0 ? raw.map { $0 / norm } : raw
  }

  /// FaceFusion's face distance: (1 - cosine similarity) / 2, in 0...1.
  public func distance(to other: FaceEmbedding) -> Float {
    (1 - zip(normalized, other.normalized).map(*).reduce(0, +)) / 2
  }

  /// The mean of several identities (FaceFusion averages the embeddings of several sources).
  public static func average(_ embeddings: [FaceEmbedding]) -> FaceEmbedding? {
    guard let first = embeddings.first else { return nil }
    var sum = [Float](repeating: 0, count: first.raw.count)
    for embedding in embeddings { for index in sum.indices { sum[index] += embedding.raw[index] } }
    return FaceEmbedding(raw: sum.map { $0 / Float(embeddings.count) })
  }
}

/// arcface_w600k_r50: the face aligned to arcface_112_v2 at 112 px, RGB, x / 127.5 - 1.
public struct FaceRecognizer: Sendable {
  public let session: InferenceSession
  public let template: WarpTemplate
  public let size: Int

  public init(session: InferenceSession, template: WarpTemplate = .arcface_112_v2, size: Int = 112) {
    self.session = session
    self.template = template
    self.size = size
  }

  public func embedding(of frame: Image, landmarks: [Point2]) throws -> FaceEmbedding {
    guard let aligned = FaceAlignment.crop(frame, landmarks: landmarks, template: template, size: size) else {
      throw OnnxRuntimeError(.invalidInput, "degenerate face landmarks")
    }
    let tensor = PlanarTensor.rgb(aligned.crop, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
    let output = try session.run([session.inputs[0].name: tensor])[0]
    return FaceEmbedding(raw: output.floats())
  }
}

/// Image <-> NCHW float tensors with FaceFusion's per-channel normalisation.
public enum PlanarTensor {
  /// [1, 3, H, W] in RGB plane order with (x / 255 - mean) / std per channel.
  public static func rgb(_ image: Image, mean: [Float], std: [Float]) -> Tensor {
    let plane = image.width * image.height, c = image.channels
    var values = [Float](repeating: 0, count: 3 * plane)
    let scale = (0..<3).map { 1 / (255 * std[$0]) }, offset = (0..<3).map { mean[$0] / std[$0] }
    image.pixels.withUnsafeBufferPointer { pixels in
      values.withUnsafeMutableBufferPointer { out in
        for index in 0..<plane {
          for channel in 0..<3 { out[channel * plane + index] = Float(pixels[index * c + channel]) * scale[channel] - offset[channel] }
        }
      }
    }
    return Tensor(shape: [1, 3, image.height, image.width], floats: values)
  }

  /// The inverse: x * std + mean when `denormalize`, clipped to [0, 1], times 255, rounded.
  public static func image(_ tensor: Tensor, mean: [Float], std: [Float], denormalize: Bool) -> Image {
    let height = tensor.shape[2], width = tensor.shape[3], plane = width * height
    let values = tensor.floats()
    var image = Image(width: width, height: height, channels: 3)
    image.pixels.withUnsafeMutableBufferPointer { pixels in
      for index in 0..<plane {
        for channel in 0..<3 {
          var value = values[channel * plane + index]
          if denormalize { value = value * std[channel] + mean[channel] }
          pixels[index * 3 + channel] = UInt8(min(max(value, 0), 1) * 255 + 0.5)
        }
      }
    }
    return image
  }
}
