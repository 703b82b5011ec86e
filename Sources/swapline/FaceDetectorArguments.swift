import ArgumentParser
import FaceAnalysis
import Foundation
import Models
import OnnxRuntime
import Swapping

extension FaceDetectorModel: ExpressibleByArgument {}

/// Where model files live (`--models-dir`).
struct ModelsDirectoryArguments: ParsableArguments {
  @Option(name: .customLong("models-dir"),
          help: "Folder with model files (default: $SWAPLINE_MODELS_DIR, else ./models, else ~/.local/share/swapline/models). FaceFusion's .assets/models works as is.")
  var modelsDirectory: String?

  var resolved: String {
    ModelsDirectory.resolve(explicit: modelsDirectory, environment: ProcessInfo.processInfo.environment,
                            currentDirectory: FileManager.default.currentDirectoryPath, home: NSHomeDirectory())
  }

  var store: ModelStore { ModelStore(directory: resolved) }
}

/// FaceFusion's face detector group.
struct FaceDetectorArguments: ParsableArguments {
  @Option(name: .customLong("face-detector-model"), help: "many, retinaface, scrfd, yolo_face or yunet.")
  var model: FaceDetectorModel = .scrfd

  @Option(name: .customLong("face-detector-size"), help: "Detector input size, e.g. 640 or 640x640 (square).")
  var size: String = "640x640"

  @Option(name: .customLong("face-detector-score"), parsing: .unconditional, help: "Minimum detection confidence, 0 to 1.")
  var score: Float = 0.5

  @Option(name: .customLong("face-detector-angles"), parsing: .upToNextOption,
          help: "Also detect on the frame turned by these angles: 0, 90, 180, 270.")
  var angles: [Int] = [0]

  var side: Int? {
    let parts = size.lowercased().split(separator: "x").map(String.init)
    guard let first = parts.first.flatMap(Int.init), parts.count <= 2, parts.allSatisfy({ Int($0) == first }) else { return nil }
    return first
  }

  func validate() throws {
    let settings = try self.settings
    do { try settings.validate() } catch { throw ValidationError(error.description) }
  }

  /// The group as the configuration holds it (the size as one side).
  var settings: SwapConfiguration.FaceDetectorSettings {
    get throws {
      guard let side else { throw ValidationError("--face-detector-size must be square, like 640 or 640x640 (got '\(size)')") }
      var settings = SwapConfiguration.FaceDetectorSettings()
      (settings.model, settings.size, settings.score, settings.angles) = (model, side, score, angles)
      return settings
    }
  }

  var options: FaceDetectorOptions {
    FaceDetectorOptions(model: model, size: side ?? 640, scoreThreshold: score, angles: angles)
  }

  /// Model file for each family, from the store; a clear error names what is missing.
  func modelPaths(store: ModelStore) throws -> [(FaceDetectorModel, String)] { try SwapEngine.detectorPaths(options, store: store) }

  func makeDetector(pool: InferencePool, store: ModelStore) throws -> FaceDetector { try SwapEngine.makeDetector(options, pool: pool, store: store) }
}
