import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime
import Processors

/// FaceFusion's processor contract in Swift: which model files a processor needs, how it is set up
/// from the configuration, and what it does to a frame. A new processor is one conforming type, its
/// name in `SwapConfiguration.ProcessorKind` and its line in `ProcessorKind.implementation`.
public protocol FrameProcessorStep: Sendable {
  static var kind: SwapConfiguration.ProcessorKind { get }
  /// Whether it works on faces: frames are then analysed (detection, selection, landmarks) and a
  /// frame without a face is left to the next step.
  static var needsFaces: Bool { get }
  /// The model files it loads, located without loading any (a job's identity includes them).
  static func modelFiles(engine: SwapEngine) throws -> [String]
  /// Loads its models into the engine's pool under its stage's owner and prepares what it takes
  /// from the sources.
  static func load(engine: SwapEngine, setup: ProcessorSetup) throws -> Self
  /// The frame with this step's work done.
  func process(_ frame: Image, analysis: SwapFrameProcessor.Analysis, context: ProcessorContext) throws -> Image
  /// One frame's model work on a grey frame with one face at `five` (the thread plan weighs it).
  func rehearse(grey: Image, five: [Point2], context: ProcessorContext) throws
}

extension SwapConfiguration.ProcessorKind {
  /// The type that does this processor's work.
  public var implementation: any FrameProcessorStep.Type {
    switch self {
    case .faceSwapper: FaceSwapperStep.self
    case .faceEnhancer: FaceEnhancerStep.self
    case .frameEnhancer: FrameEnhancerStep.self
    }
  }
}

/// What loading a step may use: the decoded sources and the analysis models already loaded.
public struct ProcessorSetup {
  public let sourceImages: [Image]
  public let detector: FaceDetector
  public let predictor: ShapePredictor?
}

/// What a step may use per frame.
public struct ProcessorContext: Sendable {
  public let timer: StageTimer
  public let runLog: ModelRunLog?
}

/// `face_swapper`: the classic swapper on dlib's 68 points, or a zoo swapper with its identity,
/// masks and landmarker.
public struct FaceSwapperStep: FrameProcessorStep {
  public static let kind = SwapConfiguration.ProcessorKind.faceSwapper
  public static let needsFaces = true
  /// The classic swapper's source face: the largest face of the first source image with one.
  let classicSource: (image: Image, shape: [Point2], swapper: ClassicFaceSwapper)?
  public let neural: NeuralPlan?
  let weight: Float

  public static func modelFiles(engine: SwapEngine) throws -> [String] {
    guard !engine.isClassic else { return [] }  // dlib's 68 points: the engine's (`needsShapes`)
    let configuration = engine.configuration
    guard let spec = ModelCatalog.spec(named: configuration.faceSwapper.model) else {
      throw SwapError.badInput("unknown face swapper \(configuration.faceSwapper.model)")
    }
    var files = try ([spec.name] + spec.companions).map { try engine.locate($0, hint: SwapEngine.zooHint) }
    if !(spec.swapperType.flatMap(SwapperType.init(rawValue:))?.takesSourceImage ?? false) {
      files.append(try engine.locate("arcface_w600k_r50", hint: SwapEngine.zooHint))
    }
    let masker = configuration.faceMasker
    if engine.occlusionFromXseg { files += try engine.occluderNames.map { try engine.locate($0) } }
    if masker.types.contains(.region) { files.append(try engine.locate(masker.parserModel.rawValue)) }
    if let landmarker = engine.landmarkerName { files.append(try engine.locate(landmarker)) }
    return files
  }

  public static func load(engine: SwapEngine, setup: ProcessorSetup) throws -> FaceSwapperStep {
    let weight = engine.configuration.faceSwapper.weight
    guard engine.isClassic else {
      return FaceSwapperStep(classicSource: nil, neural: try engine.prepareNeural(sourceImages: setup.sourceImages, detector: setup.detector),
                             weight: weight)
    }
    let timer = engine.timer, sources = engine.configuration.paths.sources
    guard let predictor = setup.predictor else { throw SwapError.failure("the classic swapper needs dlib's 68 points") }
    for (index, image) in setup.sourceImages.enumerated() {
      let faces = try timer.measure("detect") { try setup.detector.detect(image) }
      if let largest = faces.max(by: { $0.box.area < $1.box.area }) {
        let shape = timer.measure("landmark") { predictor.predict(in: image, box: largest.box) }
        return FaceSwapperStep(classicSource: (image, shape, ClassicFaceSwapper(referenceShape: predictor.meanShape)), neural: nil, weight: weight)
      }
      engine.warn("no face in source \(sources[index])")
    }
    throw SwapError.badInput("no face found in the source image(s): \(sources.joined(separator: ", "))")
  }

  public func process(_ frame: Image, analysis: SwapFrameProcessor.Analysis, context: ProcessorContext) throws -> Image {
    var result = frame
    // Hands in front of the faces come back from the frame as it was (every swapper alike).
    func keepingHands(_ swapped: Image) -> Image {
      guard !analysis.hands.isEmpty, swapped.channels == frame.channels else { return swapped }
      return context.timer.measure("hands") { HandOcclusion.restore(swapped, from: frame, hands: analysis.hands) }
    }
    if let source = classicSource {
      for (index, shape) in analysis.shapes.enumerated() {
        let kept = index < analysis.expressions.count ? analysis.expressions[index] : nil
        result = source.swapper.swap(source: source.image, sourceShape: source.shape, target: result, targetShape: shape, kept: kept,
                                     timing: context.timer).image
      }
      return keepingHands(result)
    }
    guard let neural else { return result }
    for (index, face) in analysis.faces.enumerated() {
      let source = try sourceTensor(neural, frame: analysis.rgb, landmarks: face.landmarks, timer: context.timer)
      let landmarks68 = analysis.shapes.isEmpty ? nil : analysis.shapes[index]
      result = try neural.swapper.swap(frame: result, landmarks: face.landmarks, source: source, pixelBoost: neural.boost,
                                       masks: neural.masks, landmarks68: landmarks68, timing: context.timer)
      context.runLog?.swapped(.init(frame: analysis.index, landmarks: face.landmarks, landmarks68: landmarks68, source: source))
    }
    return keepingHands(result)
  }

  public func rehearse(grey: Image, five: [Point2], context: ProcessorContext) throws {
    // The classic swapper runs no model: analysis (dlib's 68 points) sets its pace.
    guard let neural else { return }
    let source = try sourceTensor(neural, frame: grey, landmarks: five, timer: context.timer)
    _ = try neural.swapper.swap(frame: grey, landmarks: five, source: source, pixelBoost: neural.boost, masks: neural.masks)
  }

  /// The swapper's `source` input for a target face: the source identity (mixed with the target
  /// face's embedding only when the weight asks for it), or the source face crop.
  func sourceTensor(_ neural: NeuralPlan, frame: Image, landmarks: [Point2], timer: StageTimer) throws -> Tensor {
    guard let recognizer = neural.recognizer, let identity = neural.identity else { return neural.sourceImage! }
    let target = NeuralFaceSwapper.needsTargetEmbedding(weight: weight)
      ? try timer.measure("embed") { try recognizer.embedding(of: frame, landmarks: landmarks) } : nil
    return try neural.swapper.sourceIdentity(source: identity, target: target, weight: weight)
  }
}

/// `face_enhancer`: a FaceFusion face restorer (GFPGAN, CodeFormer, GPEN, ...) on each face.
public struct FaceEnhancerStep: FrameProcessorStep {
  public static let kind = SwapConfiguration.ProcessorKind.faceEnhancer
  public static let needsFaces = true
  let enhancer: FaceEnhancer
  let blend: Int
  let maskBlur: Float

  public static func modelFiles(engine: SwapEngine) throws -> [String] { [try engine.locate(engine.configuration.faceEnhancer.model)] }

  public static func load(engine: SwapEngine, setup: ProcessorSetup) throws -> FaceEnhancerStep {
    let configuration = engine.configuration
    let name = configuration.faceEnhancer.model
    guard let spec = ModelCatalog.spec(named: name) else { throw SwapError.badInput("unknown face enhancer \(name)") }
    do {
      return FaceEnhancerStep(enhancer: try FaceEnhancer(spec: spec, session: try engine.session(name, owner: kind.rawValue)),
                              blend: configuration.faceEnhancer.blend, maskBlur: configuration.faceMasker.blur)
    } catch let error as SwapError { throw error } catch { throw SwapError.failure("\(error)") }
  }

  public func process(_ frame: Image, analysis: SwapFrameProcessor.Analysis, context: ProcessorContext) throws -> Image {
    var result = frame
    for face in analysis.faces {
      result = try context.timer.measure("enhance") { try enhancer.enhance(frame: result, landmarks: face.landmarks, blend: blend, maskBlur: maskBlur) }
    }
    return result
  }

  public func rehearse(grey: Image, five: [Point2], context: ProcessorContext) throws {
    _ = try enhancer.enhance(frame: grey, landmarks: five)
  }
}

/// `frame_enhancer`: a FaceFusion super-resolution model (Real-ESRGAN, SPAN, ...) on the whole frame.
public struct FrameEnhancerStep: FrameProcessorStep {
  public static let kind = SwapConfiguration.ProcessorKind.frameEnhancer
  public static let needsFaces = false
  let enhancer: FrameEnhancer
  let blend: Int

  public static func modelFiles(engine: SwapEngine) throws -> [String] { [try engine.locate(engine.configuration.frameEnhancer.model)] }

  public static func load(engine: SwapEngine, setup: ProcessorSetup) throws -> FrameEnhancerStep {
    let name = engine.configuration.frameEnhancer.model
    guard let spec = ModelCatalog.spec(named: name) else { throw SwapError.badInput("unknown frame enhancer \(name)") }
    do {
      return FrameEnhancerStep(enhancer: try FrameEnhancer(spec: spec, session: try engine.session(name, owner: kind.rawValue)),
                               blend: engine.configuration.frameEnhancer.blend)
    } catch let error as SwapError { throw error } catch { throw SwapError.failure("\(error)") }
  }

  public func process(_ frame: Image, analysis: SwapFrameProcessor.Analysis, context: ProcessorContext) throws -> Image {
    try context.timer.measure("enhance") { try enhancer.enhance(frame: frame, blend: blend) }
  }

  public func rehearse(grey: Image, five: [Point2], context: ProcessorContext) throws {
    _ = try enhancer.enhance(frame: grey)
  }
}
