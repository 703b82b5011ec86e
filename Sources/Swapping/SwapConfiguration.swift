import FaceAnalysis
import Foundation
import Media
import Models
import OnnxRuntime
import Processors

/// Everything a swap run is asked to do, as one value: FaceFusion's option groups as structs,
/// closed choices as enums, checked by `validate()` with errors that name the option. Every front
/// door builds one (the CLI from its arguments, `jobs submit --config` from JSON) and the job
/// identity is taken from it. Execution and memory say how this machine runs the work, not what
/// the output is, so they are not part of a job's identity (see `Swap.jobOptions`).
public struct SwapConfiguration: Codable, Sendable, Hashable {
  public var paths: Paths
  public var processors: [ProcessorKind] = [.faceSwapper]
  public var faceDetector = FaceDetectorSettings()
  public var faceLandmarker = FaceLandmarkerSettings()
  public var faceSelector = FaceSelectorSettings()
  public var faceMasker = FaceMaskerSettings()
  public var faceSwapper = FaceSwapperSettings()
  public var faceEnhancer = EnhancerSettings(model: "gfpgan_1.4")
  public var frameEnhancer = EnhancerSettings(model: "span_kendata_x4")
  public var output = OutputSettings()
  public var video = VideoSettings()
  public var execution = ExecutionSettings()
  public var memory = MemorySettings()

  public init(sources: [String], target: String, output: String) {
    paths = Paths(sources: sources, target: target, output: output)
  }

  public struct Paths: Codable, Sendable, Hashable {
    public var sources: [String]
    public var target: String
    public var output: String
    /// Folder with the model files (nil: the default search, see `ModelsDirectory`).
    public var modelsDirectory: String?
  }

  /// FaceFusion's `--processors`, in the order they run on a frame.
  public enum ProcessorKind: String, Codable, Sendable, Hashable, CaseIterable {
    case faceSwapper = "face_swapper", faceEnhancer = "face_enhancer", frameEnhancer = "frame_enhancer"
  }

  public struct FaceDetectorSettings: Codable, Sendable, Hashable {
    public var model: FaceDetectorModel = .scrfd
    /// Square input side in pixels.
    public var size = 640
    public var score: Float = 0.5
    public var angles = [0]

    public init() {}
  }

  public struct FaceLandmarkerSettings: Codable, Sendable, Hashable {
    public var model: LandmarkerChoice = .auto
    public var score: Float = 0.5
  }

  /// auto: 2dfan4 when its file is present; none: the detector's five points.
  public enum LandmarkerChoice: String, Codable, Sendable, Hashable, CaseIterable {
    case auto, none, twoDFan4 = "2dfan4", peppaWutz = "peppa_wutz"
  }

  public struct FaceSelectorSettings: Codable, Sendable, Hashable {
    public var mode: FaceSelectorMode = .many
    public var order: FaceSelectorOrder = .largeSmall
    public var referencePosition = 0
    public var referenceDistance: Float = 0.3
  }

  public struct FaceMaskerSettings: Codable, Sendable, Hashable {
    public var types: [FaceMaskType] = [.box]
    public var blur: Float = 0.3
    /// Box padding in percent: top, right, bottom, left.
    public var padding = [0, 0, 0, 0]
    public var areas = FaceMaskArea.allCases
    public var regions = FaceMaskRegion.allCases
    public var occluderModel: OccluderModel = .xseg1
    public var parserModel: ParserModel = .bisenetResnet34
    /// Keep hands in front of swapped faces (MediaPipe's hand models, offline pack).
    public var handOcclusion: HandOcclusionChoice = .auto
  }

  /// auto: for the classic swapper, and for a zoo swapper whose occlusion mask has no xseg file;
  /// on: after every swap (the hand models must be present); off: never.
  public enum HandOcclusionChoice: String, Codable, Sendable, Hashable, CaseIterable {
    case auto, on, off
  }

  public enum OccluderModel: String, Codable, Sendable, Hashable, CaseIterable {
    case xseg1 = "xseg_1", xseg2 = "xseg_2", xseg3 = "xseg_3", many
  }

  public enum ParserModel: String, Codable, Sendable, Hashable, CaseIterable {
    case bisenetResnet18 = "bisenet_resnet_18", bisenetResnet34 = "bisenet_resnet_34"
  }

  public struct FaceSwapperSettings: Codable, Sendable, Hashable {
    /// "classic" (offline) or a face swapper of the model catalog (the zoo is data, not a type).
    public var model = "classic"
    public var weight: Float = 0.5
    /// Crop side for a neural swapper, a multiple of the model's size (nil: the model's size).
    public var pixelBoost: Int?
  }

  public struct EnhancerSettings: Codable, Sendable, Hashable {
    public var model: String
    /// 0-100.
    public var blend = 80
  }

  public struct OutputSettings: Codable, Sendable, Hashable {
    public var imageQuality = 90
    /// 65: crf 18 for x264/x265 (visually lossless; FaceFusion's default 80, crf 10, gave a
    /// 640x360 clip 3.9x its bitrate and cost the encoder 1.4x the time).
    public var videoQuality = 65
    public var videoPreset: VideoPreset = .veryfast
    public var videoEncoder: VideoEncoding.Encoder = .libx264
  }

  public enum VideoPreset: String, Codable, Sendable, Hashable, CaseIterable {
    case ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow
  }

  public struct VideoSettings: Codable, Sendable, Hashable {
    /// Frames per chunk: the unit of resuming and of sharing work between workers.
    public var chunkSize = 100
    public var detectorInterval = 2
    public var trackerSmoothing: Float = 0.6
    /// Detection runs at half size between full-size runs while every face followed is large and
    /// no hand is near one (`--face-detector-coarse`; SwapFrameProcessor.coarseSize).
    public var coarseDetection = true
    public var trimFrameStart: Int?
    public var trimFrameEnd: Int?
  }

  public struct ExecutionSettings: Codable, Sendable, Hashable {
    public var providers: [ExecutionProviderKind] = [.cpu]
    public var deviceIDs = [0]
    /// Intra-op threads (nil: chosen from the cores and the stages' costs).
    public var threadCount: Int?
    public var strict = false
    /// CUDA arena limit in MiB (nil: no limit).
    public var cudaMemoryLimitMiB: Int?
    public var cudaConvAlgoSearch: CUDAProviderOptions.ConvAlgoSearch = .exhaustive
    public var cudaArenaExtendStrategy: CUDAProviderOptions.ArenaExtendStrategy = .sameAsRequested
    public var tensorrtFP16 = true
    public var tensorrtCacheDirectory = ".swapline/tensorrt"
    public init() {}
  }

  public struct MemorySettings: Codable, Sendable, Hashable {
    public var videoMemoryStrategy: VideoMemoryStrategy = .tolerant
    /// Byte budget for resident model sessions (nil: half of RAM, or 80% of GPU memory).
    public var budgetBytes: Int64?
    public init() {}
  }

  public static let videoExtensions: Set<String> = ["mp4", "mkv", "mov", "webm"]

  public var isVideo: Bool { Self.videoExtensions.contains((paths.output as NSString).pathExtension.lowercased()) }
}

/// A configuration value that cannot run: which option (and JSON key) and why.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
  /// The command-line option, e.g. `--face-swapper-weight`.
  public let option: String
  /// The key in the configuration JSON, e.g. `faceSwapper.weight`.
  public let key: String
  public let message: String
  public var description: String { "\(option) \(message)" }
}

extension SwapConfiguration {
  /// Checks every rule that needs no file system; throws the first violation.
  public func validate() throws(ConfigurationError) {
    func check(_ condition: Bool, _ option: String, _ key: String, _ message: @autoclosure () -> String) throws(ConfigurationError) {
      if !condition { throw ConfigurationError(option: option, key: key, message: message()) }
    }
    try check(!processors.isEmpty, "--processors", "processors", "needs at least one processor (face_swapper, face_enhancer, frame_enhancer)")
    try check(Set(processors).count == processors.count, "--processors", "processors", "names a processor twice")
    try check(!processors.contains(.faceSwapper) || !paths.sources.isEmpty, "--source", "paths.sources", "needs at least one source image")
    try check(!paths.target.isEmpty, "--target", "paths.target", "needs the target image or video")
    try check(!paths.output.isEmpty, "--output", "paths.output", "needs the output path")

    try faceDetector.validate()
    try check((0...1).contains(faceLandmarker.score), "--face-landmarker-score", "faceLandmarker.score", "takes 0 to 1")
    try check((0...100).contains(faceSelector.referencePosition), "--reference-face-position", "faceSelector.referencePosition", "takes 0 to 100")
    try check((0...1).contains(faceSelector.referenceDistance), "--reference-face-distance", "faceSelector.referenceDistance", "takes 0 to 1")

    try check((0...1).contains(faceMasker.blur), "--face-mask-blur", "faceMasker.blur", "takes 0 to 1")
    try check(faceMasker.padding.count == 4 && faceMasker.padding.allSatisfy { (0...100).contains($0) }, "--face-mask-padding", "faceMasker.padding",
              "takes four percentages: top right bottom left")
    try check(!faceMasker.types.isEmpty, "--face-mask-types", "faceMasker.types", "needs at least one mask type")

    try check((0...1).contains(faceSwapper.weight), "--face-swapper-weight", "faceSwapper.weight", "takes 0 to 1")
    if faceSwapper.model != "classic" {
      let spec = ModelCatalog.spec(named: faceSwapper.model)
      guard let spec, spec.role == .faceSwapper, let size = spec.contract?.width else {
        throw ConfigurationError(option: "--face-swapper-model", key: "faceSwapper.model",
                                 message: "\(faceSwapper.model) is not a known face swapper (see `swapline models list --role face_swapper`)")
      }
      if let boost = faceSwapper.pixelBoost {
        try check(boost >= size && boost % size == 0, "--face-swapper-pixel-boost", "faceSwapper.pixelBoost",
                  "must be a square multiple of \(size), like \(size * 2)x\(size * 2)")
      }
    }
    if processors.contains(.faceEnhancer) {
      try check(ModelCatalog.spec(named: faceEnhancer.model)?.role == .faceEnhancer, "--face-enhancer-model", "faceEnhancer.model",
                "\(faceEnhancer.model) is not a known face enhancer")
    }
    if processors.contains(.frameEnhancer) {
      try check(ModelCatalog.spec(named: frameEnhancer.model)?.role == .frameEnhancer, "--frame-enhancer-model", "frameEnhancer.model",
                "\(frameEnhancer.model) is not a known frame enhancer")
    }
    try check((0...100).contains(faceEnhancer.blend), "--face-enhancer-blend", "faceEnhancer.blend", "takes 0 to 100")
    try check((0...100).contains(frameEnhancer.blend), "--frame-enhancer-blend", "frameEnhancer.blend", "takes 0 to 100")

    try check((0...100).contains(output.imageQuality), "--output-image-quality", "output.imageQuality", "takes 0 to 100")
    try check((0...100).contains(output.videoQuality), "--output-video-quality", "output.videoQuality", "takes 0 to 100")
    let outputExtension = (paths.output as NSString).pathExtension.lowercased()
    if isVideo {
      try check(output.videoEncoder.containers.contains(outputExtension), "--output-video-encoder", "output.videoEncoder",
                "\(output.videoEncoder.rawValue) cannot be written to .\(outputExtension) (use \(output.videoEncoder.containers.sorted().map { "." + $0 }.joined(separator: ", ")))")
    } else {
      try check(video.trimFrameStart == nil && video.trimFrameEnd == nil, "--trim-frame-start/--trim-frame-end", "video.trimFrameStart",
                "apply to videos only (OUTPUT '\(paths.output)' is an image)")
    }
    try check(video.chunkSize >= 1, "--chunk-size", "video.chunkSize", "must be at least 1 frame")
    try check(video.detectorInterval >= 1, "--face-detector-interval", "video.detectorInterval", "must be at least 1")
    try check(video.trackerSmoothing > 0 && video.trackerSmoothing <= 1, "--face-tracker-smoothing", "video.trackerSmoothing", "takes a value in (0, 1]")
    try check(video.trimFrameStart.map { $0 >= 0 } ?? true, "--trim-frame-start", "video.trimFrameStart", "must be 0 or more")
    try check(video.trimFrameEnd.map { $0 >= 1 } ?? true, "--trim-frame-end", "video.trimFrameEnd", "must be 1 or more")

    try check(!execution.providers.isEmpty, "--execution-providers", "execution.providers", "needs at least one provider")
    try check(execution.threadCount.map { $0 >= 1 } ?? true, "--execution-thread-count", "execution.threadCount", "must be at least 1")
    try check(execution.cudaMemoryLimitMiB.map { $0 >= 1 } ?? true, "--cuda-memory-limit", "execution.cudaMemoryLimitMiB", "must be at least 1 MiB")
    try check(memory.budgetBytes.map { $0 > 0 } ?? true, "--memory-budget", "memory.budgetBytes", "must be more than 0 bytes")
  }
}

extension SwapConfiguration.FaceDetectorSettings {
  /// The detector group's rules, also checked by `swapline detect` and the benchmarks.
  public func validate() throws(ConfigurationError) {
    let allowed = model.families.map { Set($0.supportedSizes) }.reduce(Set(model.families[0].supportedSizes)) { $0.intersection($1) }
    guard allowed.contains(size) else {
      throw ConfigurationError(option: "--face-detector-size", key: "faceDetector.size",
                               message: "\(size) is not offered for \(model.rawValue); choose one of \(allowed.sorted().map(String.init).joined(separator: ", "))")
    }
    guard (0...1).contains(score) else {
      throw ConfigurationError(option: "--face-detector-score", key: "faceDetector.score", message: "must be between 0 and 1")
    }
    for angle in angles where ![0, 90, 180, 270].contains(angle) {
      throw ConfigurationError(option: "--face-detector-angles", key: "faceDetector.angles", message: "accepts 0, 90, 180 and 270 (got \(angle))")
    }
  }
}

extension SwapConfiguration {
  /// Reads a configuration from JSON written by hand or by a program: keys left out take their
  /// defaults, a key this type does not have is an error (a typo must not be ignored), and a
  /// value of the wrong type names its key.
  public static func decode(json data: Data) throws(ConfigurationError) -> SwapConfiguration {
    func failure(_ key: String, _ message: String) -> ConfigurationError { ConfigurationError(option: "--config", key: key, message: message) }
    guard let given = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw failure("", "is not a JSON object")
    }
    let defaults = SwapConfiguration(sources: [], target: "", output: "")
    let defaultObject = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults))) as? [String: Any] ?? [:]
    /// The given object laid over the defaults, group by group.
    func merged(_ base: [String: Any], _ over: [String: Any]) -> [String: Any] {
      var result = base
      for (key, value) in over {
        if let inner = value as? [String: Any], let baseInner = base[key] as? [String: Any] {
          result[key] = merged(baseInner, inner)
        } else if !(value is NSNull) {
          result[key] = value
        }
      }
      return result
    }
    /// `faceMasker.types[1]`, not `faceMasker.types.Index 1`.
    func keyPath(_ path: [any CodingKey]) -> String {
      path.reduce("") { text, key in key.intValue.map { text + "[\($0)]" } ?? (text.isEmpty ? key.stringValue : text + "." + key.stringValue) }
    }
    let configuration: SwapConfiguration
    do {
      let data = try JSONSerialization.data(withJSONObject: merged(defaultObject, given))
      configuration = try JSONDecoder().decode(SwapConfiguration.self, from: data)
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
      throw failure(keyPath(context.codingPath), "has the wrong type: \(context.debugDescription)")
    } catch let DecodingError.dataCorrupted(context) {
      throw failure(keyPath(context.codingPath), "is not a valid value: \(context.debugDescription)")
    } catch let DecodingError.keyNotFound(key, context) {
      throw failure(keyPath(context.codingPath + [key]), "is missing")
    } catch {
      throw failure("", "cannot be read: \(error)")
    }
    // Every key given must exist in the value read back (optional ones appear once set).
    let known = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration))) as? [String: Any] ?? [:]
    func unknownKey(_ given: [String: Any], _ known: [String: Any], _ path: [String]) -> String? {
      for (key, value) in given.sorted(by: { $0.key < $1.key }) where !(value is NSNull) {
        guard let knownValue = known[key] else { return (path + [key]).joined(separator: ".") }
        if let inner = value as? [String: Any], let knownInner = knownValue as? [String: Any],
          let found = unknownKey(inner, knownInner, path + [key]) { return found }
      }
      return nil
    }
    if let key = unknownKey(given, known, []) { throw failure(key, "is not a configuration key") }
    return configuration
  }

  /// Canonical JSON (sorted keys): equal configurations give equal bytes.
  public var canonicalJSON: Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(self)) ?? Data()
  }
}
