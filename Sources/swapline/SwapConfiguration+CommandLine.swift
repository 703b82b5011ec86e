import ArgumentParser
import Foundation
import OnnxRuntime
import Swapping

extension Swap {
  /// The run's typed configuration, from the parsed option groups.
  func makeConfiguration() throws -> SwapConfiguration {
    var configuration = SwapConfiguration(sources: sources, target: target, output: output)
    configuration.paths.modelsDirectory = models.modelsDirectory
    configuration.faceDetector = try detector.settings
    processing.apply(to: &configuration)
    try faceSwapper.apply(to: &configuration)
    faceMasker.apply(to: &configuration)
    selection.apply(to: &configuration)
    outputOptions.apply(to: &configuration)
    video.apply(to: &configuration)
    configuration.execution = execution.settings
    configuration.memory = memory.settings
    return configuration
  }
}
