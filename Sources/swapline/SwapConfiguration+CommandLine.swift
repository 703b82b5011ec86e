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

extension SwapConfiguration {
  /// The `swapline swap` arguments that make this configuration (the inverse of
  /// `Swap.makeConfiguration`), for running a configuration given as JSON through the same command.
  var commandLineArguments: [String] { commandLineArguments(includingExecution: true) }

  /// Without the execution and memory groups: a job's stored command, which each worker or
  /// `jobs resume` runs with its own machine's settings.
  func commandLineArguments(includingExecution: Bool) -> [String] {
    func number(_ value: Float) -> String { "\(value)" }
    var arguments = ["-s"] + paths.sources + ["-t", paths.target, "-o", paths.output]
    if let directory = paths.modelsDirectory { arguments += ["--models-dir", directory] }
    arguments += ["--processors"] + processors.map(\.rawValue)
    arguments += ["--face-detector-model", faceDetector.model.rawValue, "--face-detector-size", String(faceDetector.size),
                  "--face-detector-score", number(faceDetector.score), "--face-detector-angles"] + faceDetector.angles.map(String.init)
    arguments += ["--face-landmarker-model", faceLandmarker.model.rawValue, "--face-landmarker-score", number(faceLandmarker.score)]
    arguments += ["--face-selector-mode", faceSelector.mode.rawValue, "--face-selector-order", faceSelector.order.rawValue,
                  "--reference-face-position", String(faceSelector.referencePosition),
                  "--reference-face-distance", number(faceSelector.referenceDistance)]
    arguments += ["--face-mask-types"] + faceMasker.types.map(\.rawValue)
    arguments += ["--face-mask-blur", number(faceMasker.blur), "--face-mask-padding"] + faceMasker.padding.map(String.init)
    arguments += ["--face-mask-areas"] + faceMasker.areas.map(\.rawValue) + ["--face-mask-regions"] + faceMasker.regions.map(\.rawValue)
    arguments += ["--face-occluder-model", faceMasker.occluderModel.rawValue, "--face-parser-model", faceMasker.parserModel.rawValue]
    arguments += ["--face-swapper-model", faceSwapper.model, "--face-swapper-weight", number(faceSwapper.weight)]
    if let boost = faceSwapper.pixelBoost { arguments += ["--face-swapper-pixel-boost", "\(boost)x\(boost)"] }
    arguments += ["--face-enhancer-model", faceEnhancer.model, "--face-enhancer-blend", String(faceEnhancer.blend),
                  "--frame-enhancer-model", frameEnhancer.model, "--frame-enhancer-blend", String(frameEnhancer.blend)]
    arguments += ["--output-image-quality", String(output.imageQuality), "--output-video-quality", String(output.videoQuality),
                  "--output-video-preset", output.videoPreset.rawValue, "--output-video-encoder", output.videoEncoder.rawValue]
    arguments += ["--chunk-size", String(video.chunkSize), "--face-detector-interval", String(video.detectorInterval),
                  "--face-tracker-smoothing", number(video.trackerSmoothing)]
    if let start = video.trimFrameStart { arguments += ["--trim-frame-start", String(start)] }
    if let end = video.trimFrameEnd { arguments += ["--trim-frame-end", String(end)] }
    guard includingExecution else { return arguments }
    arguments += ["--execution-providers"] + execution.providers.map(\.rawValue)
    arguments += ["--execution-device-ids"] + execution.deviceIDs.map(String.init)
    if let threads = execution.threadCount { arguments += ["--execution-thread-count", String(threads)] }
    if execution.strict { arguments.append("--execution-strict") }
    if let limit = execution.cudaMemoryLimitMiB { arguments += ["--cuda-memory-limit", String(limit)] }
    arguments += ["--cuda-conv-algo-search", execution.cudaConvAlgoSearch.rawValue, "--cuda-arena-extend-strategy", execution.cudaArenaExtendStrategy.rawValue,
                  "--tensorrt-cache-dir", execution.tensorrtCacheDirectory]
    if !execution.tensorrtFP16 { arguments.append("--tensorrt-fp32") }
    arguments += ["--video-memory-strategy", memory.videoMemoryStrategy.rawValue]
    if let budget = memory.budgetBytes { arguments += ["--memory-budget", String(budget)] }
    return arguments
  }
}
