import FaceAnalysis
import Foundation
import Processors
import Swapping
import Testing

struct SwapConfigurationTests {
  static let minimal = #"{"paths": {"sources": ["a.jpg"], "target": "clip.mp4", "output": "out.mp4"}}"#

  @Test func keysLeftOutTakeTheDefaultsAndTheValueRoundTrips() throws {
    let json = #"{"paths": {"sources": ["a.jpg", "b.jpg"], "target": "clip.mp4", "output": "out.mkv"},"#
      + #" "faceSwapper": {"model": "inswapper_128", "pixelBoost": 256}, "faceMasker": {"types": ["box", "occlusion"]},"#
      + #" "output": {"videoEncoder": "ffv1"}, "video": {"trimFrameEnd": 50, "trimFrameStart": null}}"#
    let configuration = try SwapConfiguration.decode(json: Data(json.utf8))
    var expected = SwapConfiguration(sources: ["a.jpg", "b.jpg"], target: "clip.mp4", output: "out.mkv")
    expected.faceSwapper.model = "inswapper_128"
    expected.faceSwapper.pixelBoost = 256
    expected.faceMasker.types = [.box, .occlusion]
    expected.output.videoEncoder = .ffv1
    expected.video.trimFrameEnd = 50
    #expect(configuration == expected)
    #expect(configuration.faceDetector.size == 640 && configuration.faceSelector.mode == .many && configuration.video.chunkSize == 100)
    try configuration.validate()
    // Its canonical JSON reads back as the same value, and equal values give equal bytes.
    #expect(try SwapConfiguration.decode(json: configuration.canonicalJSON) == configuration)
    #expect(try SwapConfiguration.decode(json: expected.canonicalJSON).canonicalJSON == configuration.canonicalJSON)
    var other = configuration
    other.faceSwapper.weight = 0.75
    #expect(other.canonicalJSON != configuration.canonicalJSON)
  }

  /// The job identity: settings that change the output, in one form; nothing else.
  @Test func jobOptionsSayWhatChangesTheOutputInOneForm() throws {
    var zoo = SwapConfiguration(sources: ["a.jpg"], target: "clip.mp4", output: "out.mp4")
    zoo.faceSwapper.model = "inswapper_128"
    zoo.faceMasker.types = [.occlusion, .box]
    var reordered = zoo
    reordered.faceMasker.types = [.box, .occlusion]
    reordered.execution.threadCount = 7
    reordered.memory.videoMemoryStrategy = .strict
    let resolve = { (path: String) in "/data/" + path }
    #expect(zoo.jobOptions(resolve: resolve) == reordered.jobOptions(resolve: resolve))
    #expect(zoo.jobOptions(resolve: resolve)["--face-mask-types"] == "box occlusion")
    #expect(zoo.jobOptions(resolve: resolve)["--source"] == "/data/a.jpg")
    var heavier = zoo
    heavier.faceSwapper.weight = 0.8
    #expect(heavier.jobOptions(resolve: resolve) != zoo.jobOptions(resolve: resolve))
    // The classic swapper has no weight or zoo masks: they do not make another job.
    var classic = SwapConfiguration(sources: ["a.jpg"], target: "clip.mp4", output: "out.mp4")
    let plain = classic.jobOptions(resolve: resolve)
    classic.faceSwapper.weight = 0.8
    classic.faceMasker.types = [.region]
    #expect(classic.jobOptions(resolve: resolve) == plain && plain["--face-swapper-weight"] == nil)
  }

  @Test(arguments: [
    (#"{"faceSwapper": {"wieght": 1}}"#, "faceSwapper.wieght", "is not a configuration key"),
    (#"{"procesors": ["face_swapper"]}"#, "procesors", "is not a configuration key"),
    (#"{"video": {"chunkSize": "ten"}}"#, "video.chunkSize", "wrong type"),
    (#"{"faceMasker": {"types": ["box", "hat"]}}"#, "faceMasker.types", "not a valid value"),
    (#"{"output": {"videoPreset": "fastest"}}"#, "output.videoPreset", "not a valid value"),
    (#"["not", "an", "object"]"#, "", "not a JSON object"),
  ])
  func aTypoOrAWrongTypeIsNamedByItsKey(extra: String, key: String, message: String) throws {
    var object = try JSONSerialization.jsonObject(with: Data(Self.minimal.utf8)) as! [String: Any]
    let data: Data
    if let given = try JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: Any] {
      object.merge(given) { $1 }
      data = try JSONSerialization.data(withJSONObject: object)
    } else {
      data = Data(extra.utf8)
    }
    do {
      _ = try SwapConfiguration.decode(json: data)
      Issue.record("accepted \(extra)")
    } catch {
      #expect(error.key.hasPrefix(key) && error.message.contains(message), "\(error.key): \(error.message)")
    }
  }

  @Test func everyRuleNamesItsOptionAndItsKey() throws {
    let base = SwapConfiguration(sources: ["a.jpg"], target: "clip.mp4", output: "out.mp4")
    try base.validate()
    let cases: [(String, String, (inout SwapConfiguration) -> Void)] = [
      ("--processors", "processors", { $0.processors = [] }),
      ("--source", "paths.sources", { $0.paths.sources = [] }),
      ("--face-detector-size", "faceDetector.size", { $0.faceDetector.size = 333 }),
      ("--face-detector-angles", "faceDetector.angles", { $0.faceDetector.angles = [45] }),
      ("--face-swapper-weight", "faceSwapper.weight", { $0.faceSwapper.weight = 1.5 }),
      ("--face-swapper-model", "faceSwapper.model", { $0.faceSwapper.model = "gfpgan_1.4" }),
      ("--face-swapper-pixel-boost", "faceSwapper.pixelBoost", { $0.faceSwapper.model = "inswapper_128"; $0.faceSwapper.pixelBoost = 200 }),
      ("--face-mask-padding", "faceMasker.padding", { $0.faceMasker.padding = [0, 0, 0] }),
      ("--face-enhancer-model", "faceEnhancer.model", { $0.processors = [.faceEnhancer]; $0.faceEnhancer.model = "inswapper_128" }),
      ("--output-video-encoder", "output.videoEncoder", { $0.output.videoEncoder = .ffv1 }),
      ("--chunk-size", "video.chunkSize", { $0.video.chunkSize = 0 }),
      ("--face-tracker-smoothing", "video.trackerSmoothing", { $0.video.trackerSmoothing = 0 }),
      ("--trim-frame-start/--trim-frame-end", "video.trimFrameStart", { $0.paths.output = "out.png"; $0.video.trimFrameEnd = 3 }),
      ("--execution-thread-count", "execution.threadCount", { $0.execution.threadCount = 0 }),
    ]
    for (option, key, change) in cases {
      var configuration = base
      change(&configuration)
      #expect(throws: ConfigurationError.self, "\(option)") { try configuration.validate() }
      do { try configuration.validate() } catch {
        #expect(error.option == option && error.key == key, "\(option): got \(error.option) / \(error.key): \(error.message)")
      }
    }
  }
}
