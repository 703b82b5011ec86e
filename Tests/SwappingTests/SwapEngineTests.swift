import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime
import Swapping
import Testing

/// The engine in-process, from a configuration built in code: no binary, no argv. Real photos,
/// the offline models and the synthetic zoo models (scripts/make_test_models.py).
@Suite(.serialized) struct SwapEngineTests {
  static let root: String = {
    var directory = (#filePath as NSString).deletingLastPathComponent
    while directory != "/" && !FileManager.default.fileExists(atPath: directory + "/Package.swift") {
      directory = (directory as NSString).deletingLastPathComponent
    }
    return directory
  }()
  static var runtime: OrtRuntime { get throws { try runtimeResult.get() } }
  private static let runtimeResult = Result<OrtRuntime, any Error> {
    try OrtRuntime(locator: OrtLibraryLocator(currentDirectory: root), threading: ThreadingOptions(intraOpThreads: 2))
  }

  func engine(_ configuration: SwapConfiguration, models: String = root + "/models") throws -> SwapEngine {
    let pool = InferencePool(runtime: try Self.runtime, configuration: InferencePoolConfiguration(budgetBytes: 4 << 30))
    return SwapEngine(configuration: configuration, store: ModelStore(directory: models), pool: pool)
  }

  func image(_ name: String) throws -> Image { try ImageIO.read(path: Self.root + "/samples/" + name).converted(toChannels: 3) }

  /// Mean absolute difference over a rectangle of two same-sized RGB images.
  func difference(_ a: Image, _ b: Image, x: Range<Int>, y: Range<Int>) -> Double {
    var total = 0
    for row in y { for column in x { for channel in 0..<3 {
      let index = (row * a.width + column) * 3 + channel
      total += abs(Int(a.pixels[index]) - Int(b.pixels[index]))
    } } }
    return Double(total) / Double(x.count * y.count * 3)
  }

  @Test func theClassicSwapRunsInProcessFromAConfigurationValue() throws {
    let configuration = SwapConfiguration(sources: ["samples/grace_hopper.jpg"], target: "samples/astronaut.png", output: "unused.png")
    try configuration.validate()
    let engine = try engine(configuration)
    let target = try image("astronaut.png")
    let processor = try engine.makeProcessor(sourceImages: [try image("grace_hopper.jpg")], tracking: false)
    let (result, faces) = try SwapEngine.swap(image: target, with: processor)
    #expect(faces == 1)
    let face = try #require(try processor.analyse(target).faces.first).box
    let (x, y) = (Int(face.x1)..<Int(face.x2), Int(face.y1)..<Int(face.y2))
    #expect(difference(result, target, x: x, y: y) > 8, "the face is not swapped")
    // Frames out: nothing outside the face's neighbourhood changes (the bottom band, under the chin).
    #expect(difference(result, target, x: 0..<target.width, y: (target.height - 40)..<target.height) == 0)
    #expect(engine.label(version: "test") == "face-swapped by swapline test (classic swapper); synthetic media")
    #expect(try engine.modelFiles() == [Self.root + "/models/scrfd_2.5g_kps.onnx", Self.root + "/models/shape_predictor_68_face_landmarks.dat"])
    #expect(engine.timer.seconds("landmark") > 0 && engine.timer.seconds("detect") > 0)
  }

  /// A zoo swapper with its exact I/O (synthetic weights): the configuration's selector mode
  /// decides whether target embeddings run; a missing file is bad input naming the fetch command.
  @Test func aZooSwapperRunsFromTheConfigurationAndSaysWhatIsMissing() throws {
    let models = NSTemporaryDirectory() + "swapline-engine-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: models) }
    for (file, name) in [("vendor/test-models/hyperswap_1a_256_negative.onnx", "hyperswap_1a_256.onnx"),
                         ("models/scrfd_2.5g_kps.onnx", "scrfd_2.5g_kps.onnx")] {
      try FileManager.default.createSymbolicLink(atPath: models + "/" + name, withDestinationPath: Self.root + "/" + file)
    }
    var configuration = SwapConfiguration(sources: ["samples/grace_hopper.jpg"], target: "samples/astronaut.png", output: "unused.png")
    configuration.faceSwapper.model = "hyperswap_1a_256"
    configuration.faceSelector.mode = .one
    try configuration.validate()
    let grace = try image("grace_hopper.jpg"), target = try image("astronaut.png")
    do {
      _ = try engine(configuration, models: models).makeProcessor(sourceImages: [grace], tracking: false)
      Issue.record("ran without arcface_w600k_r50.onnx")
    } catch let error as SwapError {
      #expect(error.kind == .badInput && error.message.contains("swapline models fetch arcface_w600k_r50"), "\(error)")
    }
    try FileManager.default.createSymbolicLink(atPath: models + "/arcface_w600k_r50.onnx",
                                               withDestinationPath: Self.root + "/vendor/test-models/arcface_w600k_r50_synthetic.onnx")
    for (mode, embeddings) in [(FaceSelectorMode.many, 1), (.reference, 3)] {
      configuration.faceSelector.mode = mode
      let engine = try engine(configuration, models: models)
      let processor = try engine.makeProcessor(sourceImages: [grace], tracking: false)
      let (result, faces) = try SwapEngine.swap(image: target, with: processor)
      #expect(faces == 1)
      let swapper = try #require(processor.neural?.swapper.session)
      let recognizer = try #require(processor.neural?.recognizer?.session)
      #expect(swapper.runs.count == 1)
      // many: the source's embedding only; reference: also the reference face and the candidate.
      #expect(recognizer.runs.count == embeddings, "\(mode): \(recognizer.runs.count) arcface runs")
      #expect(result.pixels != target.pixels)
      // The planned model files are exactly the ones loaded.
      #expect(try engine.modelFiles() == engine.pool.residentSessions.map(\.modelPath).sorted())
    }
  }

  @Test func aSourceWithoutAFaceIsBadInput() throws {
    var configuration = SwapConfiguration(sources: ["blank.png"], target: "samples/astronaut.png", output: "unused.png")
    let blank = Image(width: 320, height: 240, channels: 3, fill: 90)
    do {
      _ = try engine(configuration).makeProcessor(sourceImages: [blank], tracking: false)
      Issue.record("a blank source was accepted")
    } catch let error as SwapError {
      #expect(error.kind == .badInput && error.message.contains("no face found in the source image(s): blank.png"), "\(error)")
    }
  }
}
