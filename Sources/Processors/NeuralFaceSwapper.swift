import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime

/// Receives per-stage timings from processors (`--profile`); the default measures nothing.
public protocol StageTiming {
  func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T
}

public struct NoStageTiming: StageTiming {
  public init() {}
  public func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T { try body() }
}

/// FaceFusion's swapper families; each prepares the source identity its own way.
public enum SwapperType: String, Sendable, CaseIterable {
  case inswapper, hyperswap, ghost, simswap, hififace, blendswap, uniface

  /// Families whose output is de-normalised with the model's mean/std before clipping.
  var denormalizesOutput: Bool { [.ghost, .hififace, .hyperswap, .uniface].contains(self) }
  /// Families whose target embedding is L2-normalised before the identity weight mix.
  var normalizesTargetForWeight: Bool { [.hififace, .hyperswap, .inswapper, .simswap].contains(self) }
  /// Families that take a source face image instead of an embedding.
  public var takesSourceImage: Bool { self == .blendswap || self == .uniface }
}

/// Runs one of FaceFusion's zoo swappers unchanged: same crop template and size, input
/// normalisation, source identity preparation (inswapper's emap projection, crossface
/// converters, normalised embeddings, source face crops), identity weight and pixel boost.
public struct NeuralFaceSwapper: Sendable {
  public let type: SwapperType
  public let template: WarpTemplate
  public let size: Int
  public let mean: [Float]
  public let std: [Float]
  /// The swapper model (its run count and time feed `--profile` and `benchmark video`).
  public let session: InferenceSession
  /// crossface_* converter for ghost, simswap and hififace.
  let converter: InferenceSession?
  /// inswapper's 512x512 identity projection (the model file's last initializer), row-major.
  let emap: [Float]?

  public init(spec: ModelSpec, session: InferenceSession, converter: InferenceSession? = nil) throws {
    guard let typeName = spec.swapperType, let type = SwapperType(rawValue: typeName), let contract = spec.contract,
      let template = contract.template
    else { throw OnnxRuntimeError(.invalidInput, "\(spec.name) is not a face swapper with a known contract") }
    if [.ghost, .simswap, .hififace].contains(type), converter == nil {
      throw OnnxRuntimeError(.invalidInput, "\(spec.name) needs its identity converter \(spec.companions.joined(separator: ", "))")
    }
    self.type = type
    self.template = template
    size = contract.width
    mean = contract.mean
    std = contract.std
    self.session = session
    self.converter = converter
    if type == .inswapper {
      let initializer = try OnnxInitializer.last(inModelAt: session.modelPath)
      guard initializer.dimensions == [512, 512] else {
        throw OnnxRuntimeError(.invalidInput, "\(session.modelPath): last initializer is \(initializer.dimensions), expected inswapper's 512x512 emap")
      }
      emap = initializer.values
    } else {
      emap = nil
    }
  }

  /// FaceFusion's `--face-swapper-weight` (0...1, default 0.5) mapped to the mix factor
  /// 0.35...-0.35: source * (1 - w') + target * w'. 0.5 is the pure source identity.
  public static func mixFactor(weight: Float) -> Float { 0.35 - 0.7 * min(max(weight, 0), 1) }

  /// Whether `sourceIdentity` needs the target face's embedding: only when the weight mixes
  /// some of the target in (at the default 0.5 the mix factor is 0 and the target is unused, so
  /// the recogniser need not run on target faces).
  public static func needsTargetEmbedding(weight: Float) -> Bool { mixFactor(weight: weight) != 0 }

  /// The `source` input for embedding-driven families. `target` may be nil only when
  /// `needsTargetEmbedding(weight:)` is false.
  public func sourceIdentity(source: FaceEmbedding, target: FaceEmbedding?, weight: Float = 0.5) throws -> Tensor {
    var prepared: [Float]
    switch type {
    case .inswapper:
      guard let emap else { throw OnnxRuntimeError(.invalidInput, "inswapper emap missing") }
      let norm = source.raw.map { $0 * $0 }.reduce(0, +).squareRoot()
      prepared = [Float](repeating: 0, count: 512)
      for row in 0..<512 where source.raw[row] != 0 {
        let value = source.raw[row] / norm
        for column in 0..<512 { prepared[column] += value * emap[row * 512 + column] }
      }
    case .hyperswap:
      prepared = source.normalized
    case .ghost, .simswap, .hififace:
      guard let converter else { throw OnnxRuntimeError(.invalidInput, "identity converter missing") }
      let converted = try converter.run([converter.inputs[0].name: Tensor(shape: [1, 512], floats: source.raw)])[0].floats()
      prepared = type == .ghost ? converted : FaceEmbedding(raw: converted).normalized
    case .blendswap, .uniface:
      throw OnnxRuntimeError(.invalidInput, "\(type.rawValue) takes a source image, not an embedding")
    }
    let mix = Self.mixFactor(weight: weight)
    guard mix != 0 else { return Tensor(shape: [1, 512], floats: prepared) }
    guard let target else { throw OnnxRuntimeError(.invalidInput, "--face-swapper-weight \(weight) mixes in the target face: its embedding is needed") }
    let targetVector = type.normalizesTargetForWeight ? target.normalized : target.raw
    return Tensor(shape: [1, 512], floats: zip(prepared, targetVector).map { $0 * (1 - mix) + $1 * mix })
  }

  /// The `source` input for blendswap (arcface_112_v2 crop at 112) and uniface (ffhq_512 at 256):
  /// RGB / 255.
  public func sourceImage(_ frame: Image, landmarks: [Point2]) throws -> Tensor {
    let (template, side) = type == .blendswap ? (WarpTemplate.arcface_112_v2, 112) : (WarpTemplate.ffhq_512, 256)
    guard let aligned = FaceAlignment.crop(frame.converted(toChannels: 3), landmarks: landmarks, template: template, size: side) else {
      throw OnnxRuntimeError(.invalidInput, "degenerate source landmarks")
    }
    return PlanarTensor.rgb(aligned.crop, mean: [0, 0, 0], std: [1, 1, 1])
  }

  /// One model run on a crop of the model's size: RGB, (x/255 - mean)/std, NCHW.
  public func forward(crop: Tensor, source: Tensor) throws -> Tensor {
    var inputs: [String: Tensor] = [:]
    for input in session.inputs {
      switch input.name {
      case "source": inputs[input.name] = source
      case "target": inputs[input.name] = crop
      default: throw OnnxRuntimeError(.invalidInput, "\(session.modelPath) has an unexpected input '\(input.name)'")
      }
    }
    return try session.run(inputs)[0]
  }

  /// Swaps one aligned crop (model size x boost factor); pixel boost splits it into model-size
  /// tiles and interleaves the results back.
  public func swapCrop(_ crop: Image, source: Tensor) throws -> Image {
    let factor = crop.width / size
    precondition(crop.width == crop.height && crop.width % size == 0, "crop must be a multiple of \(size)")
    let parts = factor == 1 ? [crop] : PixelBoost.implode(crop, factor: factor)
    let swapped = try parts.map { part in
      let output = try forward(crop: PlanarTensor.rgb(part, mean: mean, std: std), source: source)
      return PlanarTensor.image(output, mean: mean, std: std, denormalize: type.denormalizesOutput)
    }
    return factor == 1 ? swapped[0] : PixelBoost.explode(swapped, factor: factor)
  }

  /// Swaps the face with `landmarks` (5 points) in `frame`: crop to the template at
  /// `pixelBoost` (a multiple of the model size; default the model size), swap, paste back
  /// inside the combined crop mask (per-pixel minimum). All masks are computed on the target
  /// crop: FaceFusion parses regions on the swapped crop, but an occluder such as a scarf exists
  /// only in the target, and a swapper that paints skin over it hides it from the parser.
  /// `landmarks68` (frame pixels) are needed for area masks.
  public func swap(frame: Image, landmarks: [Point2], source: Tensor, pixelBoost: Int? = nil,
                   masks: FaceMaskOptions = FaceMaskOptions(), landmarks68: [Point2]? = nil,
                   timing: some StageTiming = NoStageTiming()) throws -> Image {
    let side = pixelBoost ?? size
    guard let aligned = FaceAlignment.crop(frame.converted(toChannels: 3), landmarks: landmarks, template: template, size: side) else {
      return frame
    }
    let cropLandmarks = landmarks68?.map { point in
      let mapped = aligned.transform.apply(x: Double(point.x), y: Double(point.y))
      return Point2(Float(mapped.x), Float(mapped.y))
    }
    let mask = try timing.measure("mask") { try FaceMasker.mask(for: aligned.crop, options: masks, landmarks68: cropLandmarks) }
    let swapped = try timing.measure("swap") { try swapCrop(aligned.crop, source: source) }
    return timing.measure("paste") { frame.pastingBack(swapped, mask: mask, transform: aligned.transform) }
  }
}
