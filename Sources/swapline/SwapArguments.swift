import ArgumentParser
import FaceAnalysis
import Foundation
import Media
import Processors
import Swapping

// Choices are the configuration's own enums, so a wrong value is refused while parsing (exit 2)
// with the list of valid ones.
extension FaceSelectorMode: ExpressibleByArgument {}
extension FaceSelectorOrder: ExpressibleByArgument {}
extension VideoEncoding.Encoder: ExpressibleByArgument {}
extension SwapConfiguration.ProcessorKind: ExpressibleByArgument {}
extension SwapConfiguration.LandmarkerChoice: ExpressibleByArgument {}
extension SwapConfiguration.OccluderModel: ExpressibleByArgument {}
extension SwapConfiguration.ParserModel: ExpressibleByArgument {}
extension SwapConfiguration.HandOcclusionChoice: ExpressibleByArgument {}
extension SwapConfiguration.VideoPreset: ExpressibleByArgument {}
extension FaceMaskType: ExpressibleByArgument {}
extension FaceMaskArea: ExpressibleByArgument {}
extension FaceMaskRegion: ExpressibleByArgument {}

/// FaceFusion's face swapper group.
struct FaceSwapperArguments: ParsableArguments {
  @Option(name: .customLong("face-swapper-model"),
          help: "classic (offline default) or a FaceFusion zoo swapper present in --models-dir: inswapper_128(_fp16), hyperswap_1a/1b/1c_256, simswap_256, simswap_unofficial_512, ghost_1/2/3_256, hififace_unofficial_256, blendswap_256, uniface_256.")
  var model: String = "classic"

  @Option(name: .customLong("face-swapper-weight"), parsing: .unconditional, help: "Identity weight 0-1 for neural swappers (0.5 = the source identity).")
  var weight: Float = 0.5

  @Option(name: .customLong("face-swapper-pixel-boost"), help: "Crop size for neural swappers, a multiple of the model size, e.g. 512x512 for a 128 or 256 model.")
  var pixelBoost: String?

  func apply(to configuration: inout SwapConfiguration) throws {
    configuration.faceSwapper.model = model
    configuration.faceSwapper.weight = weight
    guard let pixelBoost else { return }
    let parts = pixelBoost.lowercased().split(separator: "x").map { Int($0) }
    guard let first = parts.first ?? nil, parts.allSatisfy({ $0 == first }) else {
      throw ValidationError("--face-swapper-pixel-boost must be square, like 512x512 (got '\(pixelBoost)')")
    }
    configuration.faceSwapper.pixelBoost = first
  }
}

/// FaceFusion's face masker group.
struct FaceMaskerArguments: ParsableArguments {
  @Option(name: .customLong("face-mask-types"), parsing: .upToNextOption,
          help: "Neural swappers' masks, combined by per-pixel minimum (occlusion: xseg, region: bisenet, area: dlib's 68 points).")
  var types: [FaceMaskType] = [.box]

  @Option(name: .customLong("face-mask-blur"), parsing: .unconditional, help: "Box mask blur 0-1 for neural swappers.")
  var blur: Float = 0.3

  @Option(name: .customLong("face-mask-padding"), parsing: .upToNextOption, help: "Box mask padding in percent: top right bottom left.")
  var padding: [Int] = [0, 0, 0, 0]

  @Option(name: .customLong("face-mask-areas"), parsing: .upToNextOption, help: "Parts the area mask keeps.")
  var areas: [FaceMaskArea] = FaceMaskArea.allCases

  @Option(name: .customLong("face-mask-regions"), parsing: .upToNextOption,
          help: "Face parser classes the region mask keeps.")
  var regions: [FaceMaskRegion] = FaceMaskRegion.allCases

  @Option(name: .customLong("face-occluder-model"), help: "xseg model of the occlusion mask (many: the three combined).")
  var occluderModel: SwapConfiguration.OccluderModel = .xseg1

  @Option(name: .customLong("face-parser-model"), help: "bisenet model of the region mask.")
  var parserModel: SwapConfiguration.ParserModel = .bisenetResnet34

  @Option(name: .customLong("hand-occlusion"),
          help: "Keep hands in front of swapped faces (MediaPipe's hand models, offline pack). auto: for the classic swapper, and for a neural swapper whose occlusion mask has no xseg file; on: after every swap; off: never.")
  var handOcclusion: SwapConfiguration.HandOcclusionChoice = .auto

  func apply(to configuration: inout SwapConfiguration) {
    configuration.faceMasker.types = types
    configuration.faceMasker.blur = blur
    configuration.faceMasker.padding = padding
    configuration.faceMasker.areas = areas
    configuration.faceMasker.regions = regions
    configuration.faceMasker.occluderModel = occluderModel
    configuration.faceMasker.parserModel = parserModel
    configuration.faceMasker.handOcclusion = handOcclusion
  }
}

/// The processors and the enhancers' groups.
struct ProcessorArguments: ParsableArguments {
  @Option(name: .customLong("processors"), parsing: .upToNextOption, help: "Processors, applied in this order.")
  var processors: [SwapConfiguration.ProcessorKind] = [.faceSwapper]

  @Option(name: .customLong("face-enhancer-model"), help: "Face enhancer from --models-dir (gfpgan_1.4, codeformer, gpen_bfr_512, ...).")
  var faceEnhancerModel: String = "gfpgan_1.4"

  @Option(name: .customLong("face-enhancer-blend"), parsing: .unconditional, help: "Face enhancer blend 0-100.")
  var faceEnhancerBlend: Int = 80

  @Option(name: .customLong("frame-enhancer-model"), help: "Frame enhancer from --models-dir (real_esrgan_x2, real_esrgan_x4, span_kendata_x4, ...).")
  var frameEnhancerModel: String = "span_kendata_x4"

  @Option(name: .customLong("frame-enhancer-blend"), parsing: .unconditional, help: "Frame enhancer blend 0-100.")
  var frameEnhancerBlend: Int = 80

  func apply(to configuration: inout SwapConfiguration) {
    configuration.processors = processors
    (configuration.faceEnhancer.model, configuration.faceEnhancer.blend) = (faceEnhancerModel, faceEnhancerBlend)
    (configuration.frameEnhancer.model, configuration.frameEnhancer.blend) = (frameEnhancerModel, frameEnhancerBlend)
  }
}

/// FaceFusion's face landmarker and face selector groups.
struct FaceSelectionArguments: ParsableArguments {
  @Option(name: .customLong("face-landmarker-model"),
          help: "2dfan4 or peppa_wutz (from --models-dir) refine the five alignment points of neural swappers; auto uses 2dfan4 when present, none keeps the detector's points.")
  var landmarkerModel: SwapConfiguration.LandmarkerChoice = .auto

  @Option(name: .customLong("face-landmarker-score"), parsing: .unconditional, help: "Minimum landmark score for the five points to come from the 68 (0.5).")
  var landmarkerScore: Float = 0.5

  @Option(name: .customLong("face-selector-mode"),
          help: "many: every target face; one: the first in --face-selector-order; reference: faces like the reference face (needs arcface_w600k_r50.onnx). FaceFusion defaults to reference; ours is many because the offline pack has no recogniser.")
  var mode: FaceSelectorMode = .many

  @Option(name: .customLong("face-selector-order"), help: "Order of the target's faces for one and reference (best-worst: detector score).")
  var order: FaceSelectorOrder = .largeSmall

  @Option(name: .customLong("reference-face-position"), parsing: .unconditional, help: "Which face of the target (in selector order) is the reference.")
  var referencePosition: Int = 0

  @Option(name: .customLong("reference-face-distance"), parsing: .unconditional, help: "Largest face distance 0-1 that still matches the reference (0.3).")
  var referenceDistance: Float = 0.3

  func apply(to configuration: inout SwapConfiguration) {
    configuration.faceLandmarker.model = landmarkerModel
    configuration.faceLandmarker.score = landmarkerScore
    configuration.faceSelector.mode = mode
    configuration.faceSelector.order = order
    configuration.faceSelector.referencePosition = referencePosition
    configuration.faceSelector.referenceDistance = referenceDistance
  }
}

/// FaceFusion's output group.
struct OutputArguments: ParsableArguments {
  @Option(name: .customLong("output-image-quality"), parsing: .unconditional, help: "JPEG/WebP quality 0-100 (100 = lossless WebP).")
  var imageQuality: Int = 90

  @Option(name: .customLong("output-video-quality"), parsing: .unconditional, help: "Video quality 0-100 (libx264 crf = 51 - 0.51 x quality, FaceFusion's mapping). Default 65: crf 18, x264's visually lossless point, about the bitrate of a typical input (FaceFusion's 80 is crf 10, several times it).")
  var videoQuality: Int = 65

  @Option(name: .customLong("output-video-preset"), help: "Encoder preset (mapped for nvenc and vp9).")
  var videoPreset: SwapConfiguration.VideoPreset = .veryfast

  @Option(name: .customLong("output-video-encoder"),
          help: "libx264, libx265, libvpx-vp9, h264_nvenc, hevc_nvenc (fall back to libx264/libx265 without an NVIDIA GPU), or ffv1 (lossless, .mkv).")
  var videoEncoder: VideoEncoding.Encoder = .libx264

  func apply(to configuration: inout SwapConfiguration) {
    configuration.output.imageQuality = imageQuality
    configuration.output.videoQuality = videoQuality
    configuration.output.videoPreset = videoPreset
    configuration.output.videoEncoder = videoEncoder
  }
}

/// Video frames, chunks and tracking.
struct VideoArguments: ParsableArguments {
  @Option(name: .customLong("chunk-size"), parsing: .unconditional, help: "Video: frames per chunk, the unit of resuming and of sharing work between workers.")
  var chunkSize: Int = 100

  @Option(name: .customLong("face-detector-interval"), parsing: .unconditional,
          help: "Video: run the detector on every k-th frame and track faces in between (1 = every frame).")
  var detectorInterval: Int = 2

  @Option(name: .customLong("face-tracker-smoothing"), parsing: .unconditional,
          help: "Video: weight 0-1 of a new detection in the tracked face position; below 1 the 68 points are also steadied along each track (1 = no smoothing).")
  var trackerSmoothing: Float = 0.6

  @Option(name: .customLong("face-detector-coarse"),
          help: "Video: on runs the detector at half its size between full-size detections while every face followed is at least 128 px and no hand is near it (a quarter of the compute; new faces are still looked for at full size every 4th detection); off: always full size.")
  var coarseDetection: Switch = .on

  @Option(name: .customLong("trim-frame-start"), parsing: .unconditional, help: "First video frame to process.")
  var trimFrameStart: Int?

  @Option(name: .customLong("trim-frame-end"), parsing: .unconditional, help: "Video frame to stop before.")
  var trimFrameEnd: Int?

  func apply(to configuration: inout SwapConfiguration) {
    configuration.video.chunkSize = chunkSize
    configuration.video.detectorInterval = detectorInterval
    configuration.video.trackerSmoothing = trackerSmoothing
    configuration.video.coarseDetection = coarseDetection == .on
    configuration.video.trimFrameStart = trimFrameStart
    configuration.video.trimFrameEnd = trimFrameEnd
  }
}

/// An option that is on or off.
enum Switch: String, ExpressibleByArgument, CaseIterable {
  case on, off
}
