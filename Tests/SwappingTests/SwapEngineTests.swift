import FaceAnalysis
import Foundation
import Imaging
import Jobs
import Media
import Models
import OnnxRuntime
import Pipeline
import Swapping
import Synchronization
import TestSupport
import Testing

/// The engine in-process, from a configuration built in code: no binary, no argv. Real photos,
/// the offline models and the synthetic zoo models (scripts/make_test_models.py).
@Suite(.serialized) struct SwapEngineTests {
  static let root = projectRoot
  static var runtime: OrtRuntime { get throws { try runtimeResult.get() } }
  private static let runtimeResult = Result<OrtRuntime, any Error> {
    try OrtRuntime(locator: OrtLibraryLocator(currentDirectory: root), threading: ThreadingOptions(intraOpThreads: 2))
  }

  func engine(_ configuration: SwapConfiguration, models: String = root + "/models") throws -> SwapEngine {
    let pool = InferencePool(runtime: try Self.runtime, configuration: InferencePoolConfiguration(budgetBytes: 4 << 30))
    return SwapEngine(configuration: configuration, store: ModelStore(directory: models), pool: pool)
  }

  static func temporaryFolder() throws -> String {
    let folder = NSTemporaryDirectory() + "swapline-engine-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  /// 320x240 at 25 fps: the astronaut drifting over grey (with a tone when `audio`).
  static func clip(in folder: String, seconds: String, audio: Bool) throws -> String {
    let clip = folder + "/clip.mp4"
    let tone = audio ? ["-f", "lavfi", "-i", "sine=frequency=330:duration=\(seconds)"] : []
    try runFFmpeg(["-f", "lavfi", "-i", "color=c=0x303030:s=320x240:r=25:d=\(seconds)", "-loop", "1", "-i", root + "/samples/astronaut.png"]
                  + tone + ["-filter_complex", "[1]scale=200:200[face];[0][face]overlay=x='10+8*t':y=4:shortest=1,format=yuv420p[v]",
                            "-map", "[v]"] + (audio ? ["-map", "2:a", "-c:a", "aac"] : []) + ["-t", seconds, "-c:v", "libx264", "-g", "25", clip])
    return clip
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
    // Hand occlusion (auto) is on for the classic swapper when the offline pack has the hand models.
    #expect(try engine.modelFiles() == ["hand_landmark_full.onnx", "palm_detection_full.onnx", "scrfd_2.5g_kps.onnx",
                                        "shape_predictor_68_face_landmarks.dat"].map { Self.root + "/models/" + $0 })
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

  /// A chunked video job from a configuration value, in this process: the job spec, the
  /// embedded store, chunk events, the join. 2 s of 320x240 (the astronaut drifting over grey,
  /// a tone), lossless, chunks of 10 frames.
  @Test func aChunkedVideoJobRunsInProcess() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let clip = try Self.clip(in: folder, seconds: "2", audio: true)
    var configuration = SwapConfiguration(sources: [Self.root + "/samples/grace_hopper.jpg"], target: clip, output: folder + "/out.mkv")
    configuration.output.videoEncoder = .ffv1
    configuration.video.chunkSize = 10
    configuration.video.detectorInterval = 10
    try configuration.validate()
    let engine = try engine(configuration)
    let processor = try engine.makeProcessor(sourceImages: [try image("grace_hopper.jpg")], tracking: true)
    let info = try MediaProbe.probe(clip)
    let frames = try #require(configuration.frameRange(frameCount: info.frameCount))
    let spec = try configuration.videoJobSpec(frames: frames, encoding: VideoEncoding(encoder: .ffv1, quality: 80, preset: "veryfast"),
                                              label: engine.label(version: "test"), modelFiles: try engine.modelFiles(),
                                              modelsByContent: false, command: nil)
    #expect(try SwapConfiguration.decode(json: Data(try #require(spec.configuration).utf8)) == configuration)
    let jobs = try JobEngine(directory: folder + "/jobs")
    let prepared = try jobs.prepare(spec)
    #expect(prepared.chunkCount == 5 && !prepared.resumed)
    let events = Mutex<[JobEngine.ChunkEvent]>([])
    let committed = try jobs.work(job: prepared.job, spec: spec, info: info, processor: processor,
                                  chunkDone: { event in events.withLock { $0.append(event) } })
    #expect(committed == 5)
    let seen = events.withLock { $0 }.sorted { $0.index < $1.index }
    #expect(seen.map(\.index) == [0, 1, 2, 3, 4] && seen.allSatisfy { $0.frames == 10 && $0.committed })
    #expect(try jobs.completion(job: prepared.job) == .complete)
    #expect(try jobs.finalize(job: prepared.job, spec: spec, info: info) == .published)
    // Frames out: all 50, the face swapped in every one (the detector found it on each chunk's first frame).
    let output = try MediaProbe.probe(folder + "/out.mkv")
    #expect(output.frameCount == 50 && output.audioStreams == 1)
    #expect(processor.framesWithFaces.load(ordering: .relaxed) == 50)
    let original = try #require(try FrameReader(path: clip, info: info, count: 1).next())
    let swapped = try #require(try FrameReader(path: folder + "/out.mkv", info: output, count: 1).next())
    let face = try #require(try processor.analyse(original).faces.first).box
    #expect(difference(swapped, original, x: Int(face.x1)..<Int(face.x2), y: Int(face.y1)..<Int(face.y2)) > 8)
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

  /// The whole run as a front door uses it (`SwapRun`, what the CLI's `swap` calls): a
  /// configuration in code, typed events out, the output published; then a stop raised before
  /// the work ends a second run as `interrupted`, and a third run resumes the job.
  @Test func aVideoRunReportsTypedEventsAndResumes() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let clip = try Self.clip(in: folder, seconds: "1.6", audio: false)
    var configuration = SwapConfiguration(sources: [Self.root + "/samples/grace_hopper.jpg"], target: clip, output: folder + "/out.mkv")
    configuration.output.videoEncoder = .ffv1
    configuration.video.chunkSize = 10
    configuration.execution.threadCount = 2
    try configuration.validate()
    var settings = RunSettings()
    settings.ortLocator = OrtLibraryLocator(currentDirectory: Self.root)
    settings.models = ModelsLocation(environment: ["SWAPLINE_MODELS_DIR": Self.root + "/models"], home: folder)
    settings.version = "test"
    let events = Mutex<[RunEvent]>([])
    let run = SwapRun(configuration: configuration, settings: settings) { event in events.withLock { $0.append(event) } }

    // A stop raised before the first chunk: nothing is rendered, the run says it was interrupted.
    let stopped = StopSignal()
    stopped.raise()
    #expect(throws: VideoRunError.self) { try run.run(stop: stopped) }
    #expect(!FileManager.default.fileExists(atPath: folder + "/out.mkv"))
    let firstStart = try #require(events.withLock { $0 }.compactMap { if case .jobStarted(let start) = $0 { start } else { nil } }.first)
    #expect(firstStart.chunkCount == 4 && !firstStart.resumed && firstStart.frames == 40)
    events.withLock { $0 = [] }

    let outcome = try run.run(stop: StopSignal())
    guard case .video(let video) = outcome.kind else { Issue.record("not a video outcome"); return }
    #expect(video.job == firstStart.job && video.frames == 0..<40 && video.renderedHere == 4 && !video.writtenElsewhere)
    let seen = events.withLock { $0 }
    let start = try #require(seen.compactMap { if case .jobStarted(let start) = $0 { start } else { nil } }.first)
    #expect(start.resumed && start.committedFrames() == 40)
    let chunks = seen.compactMap { if case .chunkRendered(let chunk) = $0 { chunk } else { nil } }
    #expect(chunks.map(\.index).sorted() == [0, 1, 2, 3] && chunks.allSatisfy { $0.committed && $0.frames == 10 })
    #expect(seen.filter { if case .frameRendered = $0 { true } else { false } }.count == 40)
    #expect(!seen.contains { if case .chunkFailed = $0 { true } else { false } })
    let output = try MediaProbe.probe(folder + "/out.mkv")
    #expect(output.frameCount == 40)
    #expect(outcome.timer.seconds("join") > 0 && outcome.placement != nil)
  }
}

/// Video detection at half size between full-size runs (SwapFrameProcessor.coarseSize): on
/// real footage with a large face, the schedule, and faces as the full-size detector finds them.
@Suite(.serialized) struct CoarseDetectionTests {
  /// The first 24 frames of the footage clip (640x360, a ~210x270 face, no hand yet), through the
  /// video path's prepare and analyse, with the detector runs logged.
  func run(_ file: String, frames: Int, coarse: Bool) throws -> (runs: [(frame: Int, size: Int)], boxes: [[BoundingBox]]) {
    var configuration = SwapConfiguration(sources: ["samples/grace_hopper.jpg"], target: file, output: "unused.mp4")
    configuration.video.coarseDetection = coarse
    let engine = try SwapEngineTests().engine(configuration)
    let log = ModelRunLog()
    let processor = try engine.makeProcessor(sourceImages: [try SwapEngineTests().image("grace_hopper.jpg")], tracking: true, runLog: log)
    let info = try MediaProbe.probe(file)
    let reader = try FrameReader(path: file, info: info, start: 0, count: frames)
    processor.beginChunk(at: 0)
    var boxes: [[BoundingBox]] = []
    var position = 0
    while let frame = try reader.next() {
      let prepared = try processor.prepare(frame, index: position, position: position)
      boxes.append(try processor.analyse(frame, prepared: prepared, index: position).faces.map(\.box))
      position += 1
    }
    return (log.detections, boxes)
  }

  @Test func aLargeFaceIsDetectedAtHalfSizeBetweenFullSizeRuns() throws {
    let clip = SwapEngineTests.root + "/samples/footage/crying_hand_laugh.mp4"
    let coarse = try run(clip, frames: 24, coarse: true)
    // Frame 0 at full size (nothing followed yet); then every 2nd frame at 320, and every 8th
    // also at 640 for new faces.
    let expected = [(0, 640)] + stride(from: 2, to: 24, by: 2).flatMap { frame in frame % 8 == 0 ? [(frame, 320), (frame, 640)] : [(frame, 320)] }
    #expect(coarse.runs.map { [$0.frame, $0.size] } == expected.map { [$0.0, $0.1] }, "\(coarse.runs)")
    let full = try run(clip, frames: 24, coarse: false)
    #expect(full.runs.map { [$0.frame, $0.size] } == stride(from: 0, to: 24, by: 2).map { [$0, 640] }, "\(full.runs)")
    // The same one face on every frame, where the full-size detector puts it (required: the
    // comparison below reads each frame's first face).
    try #require(coarse.boxes.allSatisfy { $0.count == 1 } && full.boxes.allSatisfy { $0.count == 1 }, "\(coarse.boxes) \(full.boxes)")
    let overlaps = zip(coarse.boxes, full.boxes).map { $0[0].intersectionOverUnion($1[0]) }
    print("coarse vs full box IoU: worst \(overlaps.min()!), mean \(overlaps.reduce(0, +) / Float(overlaps.count))")
    #expect(overlaps.allSatisfy { $0 > 0.9 }, "\(overlaps)")
  }

  /// A face under 128 px (the astronaut, ~70 px, in a 320x240 clip) keeps every run at full size.
  @Test func aSmallFaceKeepsTheFullSize() throws {
    let folder = try SwapEngineTests.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let clip = try SwapEngineTests.clip(in: folder, seconds: "1", audio: false)
    let result = try run(clip, frames: 12, coarse: true)
    #expect(result.boxes.allSatisfy { $0.count == 1 })
    #expect(result.runs.map { [$0.frame, $0.size] } == stride(from: 0, to: 12, by: 2).map { [$0, 640] }, "\(result.runs)")
  }
}
