import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime

/// FaceFusion's face enhancers (gfpgan, codeformer, gpen_bfr, restoreformer): the face aligned to
/// the model's template, (x/255 - 0.5)/0.5 RGB, the output clipped to [-1, 1] and mapped back,
/// pasted inside a box mask, then blended with the frame by `--face-enhancer-blend`.
public struct FaceEnhancer: Sendable {
  let session: InferenceSession
  public let template: WarpTemplate
  public let size: Int

  public init(spec: ModelSpec, session: InferenceSession) throws {
    guard spec.role == .faceEnhancer, let contract = spec.contract, let template = contract.template else {
      throw OnnxRuntimeError(.invalidInput, "\(spec.name) is not a face enhancer with a known contract")
    }
    self.session = session
    self.template = template
    size = contract.width
  }

  /// - Parameters:
  ///   - blend: 0...100, how much of the enhanced face replaces the frame (FaceFusion's default 80).
  ///   - weight: codeformer's fidelity weight, passed when the model has a `weight` input.
  public func enhance(frame: Image, landmarks: [Point2], blend: Int = 80, maskBlur: Float = 0.3, weight: Double = 1) throws -> Image {
    guard let aligned = FaceAlignment.crop(frame.converted(toChannels: 3), landmarks: landmarks, template: template, size: size) else {
      return frame
    }
    var inputs: [String: Tensor] = [:]
    for input in session.inputs {
      switch input.name {
      case "weight": inputs[input.name] = Tensor(shape: input.shape.map { max($0, 1) }, floats: [Float(weight)])
      default: inputs[input.name] = PlanarTensor.rgb(aligned.crop, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
      }
    }
    let output = try session.run(inputs)[0]
    let enhanced = PlanarTensor.image(output, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], denormalize: true)
    let mask = Mask.box(width: size, height: size, blur: maskBlur)
    let pasted = frame.pastingBack(enhanced, mask: mask, transform: aligned.transform)
    return Self.blend(frame, pasted, amount: Float(min(max(blend, 0), 100)) / 100)
  }

  /// frame * (1 - amount) + other * amount (cv2.addWeighted), rounded.
  static func blend(_ frame: Image, _ other: Image, amount: Float) -> Image {
    if amount >= 1 { return other }
    var result = frame
    for index in result.pixels.indices {
      result.pixels[index] = UInt8(Float(frame.pixels[index]) * (1 - amount) + Float(other.pixels[index]) * amount + 0.5)
    }
    return result
  }
}

/// FaceFusion's frame enhancers (real_esrgan, span_kendata, ...): the frame is cut into
/// overlapping tiles (size, pad, overlap from the catalog), each upscaled with RGB/255 input, the
/// tiles' centres stitched, and the result blended with a bilinear upscale of the frame.
/// Borders are padded by replication rather than FaceFusion's zeros, so edge tiles see no black.
public struct FrameEnhancer: Sendable {
  let session: InferenceSession
  public let scale: Int
  public let tileSize: Int
  public let overlap: Int

  public init(spec: ModelSpec, session: InferenceSession) throws {
    guard spec.role == .frameEnhancer, let scale = spec.scale, let tile = spec.tile, tile.count == 3 else {
      throw OnnxRuntimeError(.invalidInput, "\(spec.name) is not a frame enhancer with a known tiling")
    }
    self.init(session: session, scale: scale, tileSize: tile[0], overlap: tile[2])
  }

  public init(session: InferenceSession, scale: Int, tileSize: Int, overlap: Int) {
    self.session = session
    self.scale = scale
    self.tileSize = tileSize
    self.overlap = overlap
  }

  public func enhance(frame: Image, blend: Int = 80) throws -> Image {
    let rgb = frame.converted(toChannels: 3)
    let step = tileSize - 2 * overlap
    precondition(step > 0, "tile size must exceed twice the overlap")
    var output = Image(width: rgb.width * scale, height: rgb.height * scale, channels: 3)
    for top in stride(from: 0, to: rgb.height, by: step) {
      for left in stride(from: 0, to: rgb.width, by: step) {
        // The tile covers [left - overlap, left - overlap + tileSize) with replicated borders.
        var tile = Image(width: tileSize, height: tileSize, channels: 3)
        for y in 0..<tileSize {
          let sy = min(max(top - overlap + y, 0), rgb.height - 1)
          for x in 0..<tileSize {
            let sx = min(max(left - overlap + x, 0), rgb.width - 1)
            let s = (sy * rgb.width + sx) * 3, d = (y * tileSize + x) * 3
            tile.pixels[d] = rgb.pixels[s]; tile.pixels[d + 1] = rgb.pixels[s + 1]; tile.pixels[d + 2] = rgb.pixels[s + 2]
          }
        }
        let result = try session.run([session.inputs[0].name: PlanarTensor.rgb(tile, mean: [0, 0, 0], std: [1, 1, 1])])[0]
        let enhanced = PlanarTensor.image(result, mean: [0, 0, 0], std: [1, 1, 1], denormalize: false)
        guard enhanced.width == tileSize * scale else {
          throw OnnxRuntimeError(.invalidInput, "frame enhancer returned \(enhanced.width) px for a \(tileSize) px tile at x\(scale)")
        }
        // Keep the tile's centre (the overlap on each side is context only).
        let rows = min(step, rgb.height - top) * scale, columns = min(step, rgb.width - left) * scale
        for y in 0..<rows {
          for x in 0..<columns {
            let s = ((overlap * scale + y) * enhanced.width + overlap * scale + x) * 3
            let d = ((top * scale + y) * output.width + left * scale + x) * 3
            output.pixels[d] = enhanced.pixels[s]; output.pixels[d + 1] = enhanced.pixels[s + 1]; output.pixels[d + 2] = enhanced.pixels[s + 2]
          }
        }
      }
    }
    let amount = Float(min(max(blend, 0), 100)) / 100
    guard amount < 1 else { return output }
    return FaceEnhancer.blend(rgb.resizedBilinear(width: output.width, height: output.height), output, amount: amount)
  }
}
