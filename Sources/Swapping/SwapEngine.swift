import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime
import Processors

/// Why a swap cannot run: the input's fault (a missing model file, no face in the sources: FaceFusion's
/// exit 2) or a failure (a model that does not load: exit 1). Front doors map the kind.
public struct SwapError: Error, CustomStringConvertible {
  public enum Kind: Sendable { case badInput, failure }
  public let kind: Kind
  public let message: String
  public var description: String { message }

  public static func badInput(_ message: String) -> SwapError { SwapError(kind: .badInput, message: message) }
  public static func failure(_ message: String) -> SwapError { SwapError(kind: .failure, message: message) }
}

/// Everything a zoo swapper needs, prepared once per run (not per frame).
public struct NeuralPlan: @unchecked Sendable {  // @unchecked: immutable; Tensor is a value of plain floats
  public let swapper: NeuralFaceSwapper
  public let recognizer: FaceRecognizer?
  public let masks: FaceMaskOptions
  /// Averaged source identity (embedding families) or the source face crop (blendswap, uniface).
  public let identity: FaceEmbedding?
  public let sourceImage: Tensor?
  public let landmarker: FaceLandmarker?
  public let boost: Int?
}

/// Model planning and loading for one run: which files the configuration needs, loaded into the
/// inference pool under their stage's owner, and the frame processor built from them.
public struct SwapEngine: Sendable {
  public let configuration: SwapConfiguration
  public let store: ModelStore
  public let pool: InferencePool
  public let timer: StageTimer
  /// Told about things worth a warning (a source without a face).
  public let warn: @Sendable (String) -> Void

  public init(configuration: SwapConfiguration, store: ModelStore, pool: InferencePool, timer: StageTimer = StageTimer(),
              warn: @escaping @Sendable (String) -> Void = { _ in }) {
    self.configuration = configuration
    self.store = store
    self.pool = pool
    self.timer = timer
    self.warn = warn
  }

  /// The stages whose models run on the analysis thread (the rest run on the render thread).
  public static let analysisOwners: Set<String> = ["face_detector", "face_landmarker", "face_recognizer", "hand_landmarker"]

  public var swapping: Bool { configuration.processors.contains(.faceSwapper) }
  public var isClassic: Bool { configuration.faceSwapper.model == "classic" }
  /// dlib's 68 points are needed: the classic swapper's geometry, or a zoo swapper's area mask.
  public var needsShapes: Bool { swapping && (isClassic || configuration.faceMasker.types.contains(.area)) }

  /// Said after a missing zoo file: FaceFusion's own folder works as is.
  static let zooHint = "or point --models-dir at FaceFusion's .assets/models"

  /// The occlusion masks' xseg files.
  var occluderNames: [String] {
    let model = configuration.faceMasker.occluderModel
    return model == .many ? ["xseg_1", "xseg_2", "xseg_3"] : [model.rawValue]
  }

  /// Whether the occlusion mask a zoo swapper asks for comes from its xseg files.
  var occlusionFromXseg: Bool {
    configuration.faceMasker.types.contains(.occlusion)
      && (configuration.faceMasker.handOcclusion != .auto || occluderNames.allSatisfy { store.locate($0) != nil })
  }

  /// Whether hands are kept in front of swapped faces (see `HandOcclusionChoice`). auto turns it
  /// on only where the hand models are present.
  public var handOcclusion: Bool {
    guard swapping else { return false }
    switch configuration.faceMasker.handOcclusion {
    case .off: return false
    case .on: return true
    case .auto:
      let wanted = isClassic || (configuration.faceMasker.types.contains(.occlusion) && !occlusionFromXseg)
      return wanted && [HandLandmarker.palmDetectorName, HandLandmarker.landmarkerName].allSatisfy { store.locate($0) != nil }
    }
  }

  /// The hand models' files when hand occlusion is on.
  var handModelFiles: [String] {
    get throws {
      guard handOcclusion else { return [] }
      return try [HandLandmarker.palmDetectorName, HandLandmarker.landmarkerName].map { try locate($0, hint: "(offline pack: run `make setup`)") }
    }
  }

  /// The zoo landmarker that refines a zoo swapper's points: auto is 2dfan4 when its file is present.
  var landmarkerName: String? {
    switch configuration.faceLandmarker.model {
    case .auto: store.locate("2dfan4") != nil ? "2dfan4" : nil
    case .none: nil
    case .twoDFan4, .peppaWutz: configuration.faceLandmarker.model.rawValue
    }
  }

  /// A model file of the store; a missing one is bad input naming the fetch command.
  func locate(_ name: String, hint: String? = nil) throws -> String {
    guard let path = store.locate(name) else {
      throw SwapError.badInput("\(name).onnx is not in \(store.directory); run `swapline models fetch \(name)`" + (hint.map { " " + $0 } ?? ""))
    }
    return path
  }

  func session(_ name: String, owner: String, hint: String? = nil) throws -> InferenceSession {
    let path = try locate(name, hint: hint)
    do { return try pool.session(for: path, owner: owner) } catch { throw SwapError.failure("cannot load \(path): \(error)") }
  }

  /// Model file for each detector family, from the store; a clear error names what is missing.
  public static func detectorPaths(_ options: FaceDetectorOptions, store: ModelStore) throws -> [(FaceDetectorModel, String)] {
    try options.model.families.map { family in
      guard let path = family.catalogNames.lazy.compactMap({ store.locate($0) }).first else {
        throw SwapError.badInput(
          "no model file for face detector '\(family.rawValue)' in \(store.directory) (looked for "
            + family.catalogNames.map { "\($0).onnx" }.joined(separator: " or ")
            + "); run `make setup` for the offline pack or `swapline models fetch \(family.catalogNames[0])`")
      }
      return (family, path)
    }
  }

  public static func makeDetector(_ options: FaceDetectorOptions, pool: InferencePool, store: ModelStore) throws -> FaceDetector {
    let backends = try detectorPaths(options, store: store).map { family, path in
      let session: InferenceSession
      do { session = try pool.session(for: path, owner: "face_detector") } catch { throw SwapError.failure("cannot load \(path): \(error)") }
      // Some exports (the offline SCRFD among them) fix their input size.
      let shape = session.inputs.first?.shape ?? []
      if shape.count == 4, shape[2] > 0, shape[3] > 0, shape[2] != options.size || shape[3] != options.size {
        throw SwapError.badInput("\((path as NSString).lastPathComponent) only accepts --face-detector-size \(shape[3])x\(shape[2])")
      }
      return FaceDetector.Backend(family: family, session: session)
    }
    return FaceDetector(backends: backends, options: options)
  }

  /// dlib's 68-point predictor file from the offline pack; a missing file is bad input.
  static func shapePredictorPath(in store: ModelStore) throws -> String {
    guard let path = store.locate("shape_predictor_68_face_landmarks") else {
      throw SwapError.badInput("shape_predictor_68_face_landmarks.dat is not in \(store.directory); run `make setup`")
    }
    return path
  }

  public static func loadShapePredictor(from store: ModelStore) throws -> ShapePredictor {
    let path = try shapePredictorPath(in: store)
    do { return try ShapePredictor(contentsOf: path) } catch { throw SwapError.failure("\(error)") }
  }

  public var detectorOptions: FaceDetectorOptions {
    let detector = configuration.faceDetector
    return FaceDetectorOptions(model: detector.model, size: detector.size, scoreThreshold: detector.score, angles: detector.angles)
  }

  /// The zoo swapper, its identity converter and (for embedding families) the recogniser, and
  /// the masks, all from the models folder.
  func makeNeuralSwapper() throws -> (swapper: NeuralFaceSwapper, recognizer: FaceRecognizer?, masks: FaceMaskOptions) {
    let settings = configuration.faceSwapper
    guard let spec = ModelCatalog.spec(named: settings.model) else { throw SwapError.badInput("unknown face swapper \(settings.model)") }
    let zooHint = Self.zooHint
    let converter = try spec.companions.first.map { try session($0, owner: "face_swapper", hint: zooHint) }
    let swapper: NeuralFaceSwapper
    do { swapper = try NeuralFaceSwapper(spec: spec, session: try session(spec.name, owner: "face_swapper", hint: zooHint), converter: converter) }
    catch let error as SwapError { throw error } catch { throw SwapError.failure("\(error)") }
    let recognizer = swapper.type.takesSourceImage ? nil : FaceRecognizer(session: try session("arcface_w600k_r50", owner: "face_recognizer", hint: zooHint))
    let masker = configuration.faceMasker
    // Without its xseg files (auto), the occlusion mask is the hands' (after the swap).
    let types = occlusionFromXseg ? Set(masker.types) : Set(masker.types).subtracting([.occlusion])
    let occluders = types.contains(.occlusion)
      ? try occluderNames.map { try session($0, owner: "face_masker") } : []
    let parser = types.contains(.region) ? try session(masker.parserModel.rawValue, owner: "face_masker") : nil
    let padding = masker.padding
    let masks = FaceMaskOptions(types: types, blur: masker.blur, padding: (padding[0], padding[1], padding[2], padding[3]),
                                areas: masker.areas, regions: masker.regions, occluders: occluders, parser: parser)
    return (swapper, recognizer, masks)
  }

  /// The zoo swapper's source identity from every source image with a face, and the landmarker.
  func prepareNeural(sourceImages: [Image], detector: FaceDetector) throws -> NeuralPlan {
    let neural = try makeNeuralSwapper()
    var embeddings: [FaceEmbedding] = []
    var sourceImage: Tensor?
    for (index, image) in sourceImages.enumerated() {
      guard let face = try timer.measure("detect", { try detector.detect(image) }).max(by: { $0.box.area < $1.box.area }) else {
        warn("no face in source \(configuration.paths.sources[index])")
        continue
      }
      if let recognizer = neural.recognizer {
        embeddings.append(try timer.measure("embed") { try recognizer.embedding(of: image, landmarks: face.landmarks) })
      } else if sourceImage == nil {
        sourceImage = try neural.swapper.sourceImage(image, landmarks: face.landmarks)
      }
    }
    guard !embeddings.isEmpty || sourceImage != nil else {
      throw SwapError.badInput("no face found in the source image(s): \(configuration.paths.sources.joined(separator: ", "))")
    }
    // FaceFusion's 5/68 points: from a zoo landmarker when its score is good, else the detector's.
    let landmarker = try landmarkerName.map { name in
      FaceLandmarker(kind: FaceLandmarker.Kind(rawValue: name)!, session: try session(name, owner: "face_landmarker"))
    }
    return NeuralPlan(swapper: neural.swapper, recognizer: neural.recognizer, masks: neural.masks, identity: FaceEmbedding.average(embeddings),
                      sourceImage: sourceImage, landmarker: landmarker, boost: configuration.faceSwapper.pixelBoost)
  }

  /// Every model file the configuration loads (absolute paths as located, sorted), known without
  /// loading any: a job's identity includes these files, and the submitter and every worker must
  /// name the same ones. A missing file is bad input with the same message the loaders give.
  public func modelFiles() throws -> [String] {
    var files = try Self.detectorPaths(detectorOptions, store: store).map(\.1)
    if needsShapes { files.append(try Self.shapePredictorPath(in: store)) }
    for processor in configuration.processors { files += try processor.implementation.modelFiles(engine: self) }
    if configuration.faceSelector.mode == .reference { files.append(try locate("arcface_w600k_r50")) }
    files += try handModelFiles
    return Set(files).sorted()
  }

  /// Loads what the configuration needs and builds the frame processor. `sourceImages` are the
  /// decoded `paths.sources` (3 channels); `tracking` is true for video (faces tracked between
  /// detections). A source without a face is a warning, no face in any source is bad input.
  public func makeProcessor(sourceImages: [Image], tracking: Bool, runLog: ModelRunLog? = nil) throws -> SwapFrameProcessor {
    let faceDetector = try timer.measure("load models") { try Self.makeDetector(detectorOptions, pool: pool, store: store) }
    // The 100 MB dlib model is read only when something needs 68 points (classic swapper, area masks).
    let predictor = needsShapes ? try timer.measure("load models") { try Self.loadShapePredictor(from: store) } : nil
    let recognizer = configuration.faceSelector.mode == .reference
      ? FaceRecognizer(session: try session("arcface_w600k_r50", owner: "face_recognizer")) : nil
    let hands = try handModelFiles.isEmpty ? nil : HandLandmarker(
      palmDetector: try session(HandLandmarker.palmDetectorName, owner: "hand_landmarker"),
      landmarker: try session(HandLandmarker.landmarkerName, owner: "hand_landmarker"))
    if swapping, configuration.faceMasker.handOcclusion == .auto, isClassic, hands == nil {
      warn("hands in front of faces will be painted over: \(HandLandmarker.palmDetectorName).onnx or \(HandLandmarker.landmarkerName).onnx is not in \(store.directory) (offline pack: run `make setup`)")
    }
    let setup = ProcessorSetup(sourceImages: sourceImages, detector: faceDetector, predictor: predictor)
    let steps = try configuration.processors.map { try $0.implementation.load(engine: self, setup: setup) as any FrameProcessorStep }
    let processor = SwapFrameProcessor(settings: .init(configuration, tracking: tracking), detector: faceDetector, recognizer: recognizer,
                                       predictor: predictor, hands: hands, steps: steps, timer: timer, runLog: runLog)
    let inferencePool = pool
    processor.poolCounters = { (inferencePool.counters.residentBytes, inferencePool.counters.evictions) }
    return processor
  }

  /// The provenance label every output carries.
  public func label(version: String) -> String {
    let steps = configuration.processors.map { processor -> String in
      switch processor {
      case .faceSwapper: "\(configuration.faceSwapper.model) swapper"
      case .faceEnhancer: configuration.faceEnhancer.model
      case .frameEnhancer: configuration.frameEnhancer.model
      }
    }
    return "face-swapped by swapline \(version) (\(steps.joined(separator: ", "))); synthetic media"
  }

  /// One image through the processors: the result and how many faces were processed.
  public static func swap(image: Image, with processor: SwapFrameProcessor) throws -> (image: Image, faces: Int) {
    let analysis = try processor.analyse(image)
    return (try processor.render(image, analysis: analysis), analysis.faces.count)
  }
}

extension Duration {
  public var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
