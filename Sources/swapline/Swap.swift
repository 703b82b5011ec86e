import ArgumentParser
import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime
import Processors

enum FaceSelectorMode: String, ExpressibleByArgument, CaseIterable {
  case many, one
}

struct Swap: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Swap the face from the source image(s) into a target image.",
    discussion: """
      With no neural swapper model (none is implemented yet), the offline classic swapper warps the
      source face onto each target face's 68-point geometry, matches its colour and blends it in.
      The output format follows OUTPUT's extension (.png, .jpg, .webp) and carries a provenance
      label saying it was produced by face swapping. A target without faces is written unchanged
      with a warning; a source without a face is an error (exit 2).
      """)

  @Option(name: [.customShort("s"), .customLong("source")], parsing: .upToNextOption, help: "Source image(s) with the face to use.")
  var sources: [String] = []

  @Option(name: [.customShort("t"), .customLong("target")], help: "Target image whose faces are replaced.")
  var target: String

  @Option(name: [.customShort("o"), .customLong("output")], help: "Output image path.")
  var output: String

  @Option(name: .customLong("face-swapper-model"), help: "Swapper: classic (offline, the only one implemented so far).")
  var swapperModel: String = "classic"

  @Option(name: .customLong("face-selector-mode"), help: "many: every target face; one: the left-most target face.")
  var selectorMode: FaceSelectorMode = .many

  @Option(name: .customLong("output-image-quality"), help: "JPEG/WebP quality 0-100 (100 = lossless WebP).")
  var quality: Int = 90

  @Flag(name: .long, help: "Print the time spent in each stage.")
  var profile = false

  @OptionGroup(title: "Face detector") var detector: FaceDetectorArguments
  @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
  @OptionGroup(title: "Execution") var execution: ExecutionArguments
  @OptionGroup(title: "Memory") var memory: MemoryArguments

  func validate() throws {
    guard !sources.isEmpty else { throw ValidationError("give at least one source image with -s") }
    guard swapperModel == "classic" else {
      throw ValidationError("--face-swapper-model \(swapperModel) is not implemented yet; use classic")
    }
    guard (0...100).contains(quality) else { throw ValidationError("--output-image-quality must be 0-100") }
  }

  func run() async throws {
    try await reportingErrors {
      var timings: [(String, Double)] = []
      func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        defer { timings.append((stage, (ContinuousClock.now - started).milliseconds)) }
        return try body()
      }
      guard ImageFormat(pathExtension: (output as NSString).pathExtension) != nil else {
        throw CLIError.badInput("cannot write '\(output)': unsupported extension (use .png, .jpg, .jpeg or .webp)")
      }
      let (sourceImages, targetImage) = try timed("decode") {
        (try sources.map { try readInputImage($0).converted(toChannels: 3) }, try readInputImage(target))
      }
      let store = models.store
      let runtime = try execution.makeRuntime()
      let pool = InferencePool(runtime: runtime, configuration: memory.configuration(execution: execution.options))
      let faceDetector = try timed("load models") { try detector.makeDetector(pool: pool, store: store) }
      let predictor = try timed("load models") { try loadShapePredictor(from: store) }
      func shape(of face: DetectedFace, in image: Image) -> [Point2] { predictor.predict(in: image, box: face.box) }

      // The source face: the largest face of the first source image that has one.
      var sourceFace: (image: Image, shape: [Point2])?
      for (index, image) in sourceImages.enumerated() {
        let faces = try timed("detect") { try faceDetector.detect(image) }
        if let largest = faces.max(by: { $0.box.area < $1.box.area }) {
          sourceFace = (image, timed("landmark") { shape(of: largest, in: image) })
          break
        }
        printError("swapline: warning: no face in source \(sources[index])")
      }
      guard let sourceFace else { throw CLIError.badInput("no face found in the source image(s): \(sources.joined(separator: ", "))") }

      let rgbTarget = targetImage.converted(toChannels: 3)
      var targetFaces = try timed("detect") { try faceDetector.detect(rgbTarget) }
      if selectorMode == .one, let leftMost = targetFaces.min(by: { $0.box.x1 < $1.box.x1 }) { targetFaces = [leftMost] }
      var result = targetImage
      if targetFaces.isEmpty {
        printError("swapline: warning: no face in target \(target); writing it unchanged")
      } else {
        let swapper = ClassicFaceSwapper(referenceShape: predictor.meanShape)
        for face in targetFaces {
          let targetShape = timed("landmark") { shape(of: face, in: rgbTarget) }
          result = timed("swap") {
            swapper.swap(source: sourceFace.image, sourceShape: sourceFace.shape, target: result, targetShape: targetShape).image
          }
        }
      }
      let label = "face-swapped by swapline \(Swapline.configuration.version) (\(swapperModel) swapper); synthetic image"
      try timed("encode") {
        do {
          try ImageIO.write(result, to: output, quality: quality, textMetadata: [("swapline.provenance", label), ("Software", "swapline")])
        } catch { throw CLIError.failure("\(error)") }
      }
      print("\(output): swapped \(targetFaces.count) face\(targetFaces.count == 1 ? "" : "s")")
      if profile {
        var totals: [String: Double] = [:]
        var order: [String] = []
        for (stage, ms) in timings {
          if totals[stage] == nil { order.append(stage) }
          totals[stage, default: 0] += ms
        }
        for stage in order { print(String(format: "  %-12@ %9.1f ms", stage as NSString, totals[stage]!)) }
      }
    }
  }
}
