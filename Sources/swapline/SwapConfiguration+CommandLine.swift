import ArgumentParser
import Foundation
import OnnxRuntime
import Swapping

extension Swap {
  /// The run's typed configuration, from the parsed options. Option values that do not name a
  /// choice are reported with their option (exit 2).
  func makeConfiguration() throws -> SwapConfiguration {
    func choices<T: RawRepresentable>(_ values: [String], _ option: String) throws -> [T] where T.RawValue == String {
      try values.map { value in
        guard let choice = T(rawValue: value) else { throw ValidationError("unknown \(option) value '\(value)'") }
        return choice
      }
    }
    func choice<T: RawRepresentable & CaseIterable>(_ value: String, _ option: String) throws -> T where T.RawValue == String {
      guard let choice = T(rawValue: value) else {
        throw ValidationError("\(option): \(T.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(value)')")
      }
      return choice
    }
    var configuration = SwapConfiguration(sources: sources, target: target, output: output)
    configuration.paths.modelsDirectory = models.modelsDirectory
    configuration.processors = try choices(processors, "--processors")
    configuration.faceDetector = try detector.settings
    configuration.faceLandmarker.model = try choice(landmarkerModel, "--face-landmarker-model")
    configuration.faceLandmarker.score = landmarkerScore
    configuration.faceSelector.mode = selectorMode
    configuration.faceSelector.order = selectorOrder
    configuration.faceSelector.referencePosition = referencePosition
    configuration.faceSelector.referenceDistance = referenceDistance
    configuration.faceMasker.types = try choices(maskTypes, "--face-mask-types")
    configuration.faceMasker.blur = maskBlur
    configuration.faceMasker.padding = maskPadding
    configuration.faceMasker.areas = try choices(maskAreas, "--face-mask-areas")
    configuration.faceMasker.regions = try choices(maskRegions, "--face-mask-regions")
    configuration.faceMasker.occluderModel = try choice(occluderModel, "--face-occluder-model")
    configuration.faceMasker.parserModel = try choice(parserModel, "--face-parser-model")
    if let pixelBoost {
      let parts = pixelBoost.lowercased().split(separator: "x").map { Int($0) }
      guard let first = parts.first ?? nil, parts.allSatisfy({ $0 == first }) else {
        throw ValidationError("--face-swapper-pixel-boost must be square, like 512x512 (got '\(pixelBoost)')")
      }
      configuration.faceSwapper.pixelBoost = first
    }
    configuration.faceSwapper.model = swapperModel
    configuration.faceSwapper.weight = weight
    configuration.faceEnhancer.model = faceEnhancerModel
    configuration.faceEnhancer.blend = faceEnhancerBlend
    configuration.frameEnhancer.model = frameEnhancerModel
    configuration.frameEnhancer.blend = frameEnhancerBlend
    configuration.output.imageQuality = quality
    configuration.output.videoQuality = videoQuality
    configuration.output.videoPreset = try choice(videoPreset, "--output-video-preset")
    configuration.output.videoEncoder = videoEncoder
    configuration.video.chunkSize = chunkSize
    configuration.video.detectorInterval = detectorInterval
    configuration.video.trackerSmoothing = trackerSmoothing
    configuration.video.trimFrameStart = trimFrameStart
    configuration.video.trimFrameEnd = trimFrameEnd
    configuration.execution = try execution.settings
    configuration.memory.videoMemoryStrategy = memory.strategy
    configuration.memory.budgetBytes = memory.budget.flatMap(MemoryArguments.parseBytes)
    return configuration
  }
}
