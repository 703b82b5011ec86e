import FaceAnalysis
import Foundation
import Imaging
import Jobs
import Media
import Models
import ObjectStorage
import OnnxRuntime
import Pipeline

/// One swap, as asked for by any front door: an image at once, or a video as a job of chunks in
/// the embedded store that this process (and its local helpers) render and this process joins.
/// Running the same configuration again resumes an unfinished job.
public struct SwapRun: Sendable {
  public let configuration: SwapConfiguration
  public let settings: RunSettings
  public let events: RunEvents

  public init(configuration: SwapConfiguration, settings: RunSettings, events: @escaping RunEvents = { _ in }) {
    self.configuration = configuration
    self.settings = settings
    self.events = events
  }

  /// What a finished run did.
  public struct Outcome: Sendable {
    public enum Kind: Sendable {
      /// The image was written with this many faces processed.
      case image(faces: Int)
      case video(VideoResult)
    }
    public let kind: Kind
    /// Whether the face swapper ran (otherwise only enhancers).
    public let swapped: Bool
    public let timer: StageTimer
    public let pool: InferencePool
    /// The video thread plan, in words.
    public let placement: String?
    public let report: RunReport?
  }

  public struct VideoResult: Sendable {
    public let job: Int64
    public let frames: Range<Int>
    public let chunkCount: Int
    public let renderedHere: Int
    /// From the job's start to the output published (models loaded).
    public let seconds: Double
    /// Another run of the same job published the output.
    public let writtenElsewhere: Bool
  }

  // MARK: Checks before any work

  /// Refuses, before any work, an output this run cannot or must not write: an unknown extension,
  /// a missing or read-only folder, a directory, one of the inputs.
  public func checkOutput() throws(SwapError) {
    let output = configuration.paths.output
    let outputExtension = (output as NSString).pathExtension.lowercased()
    guard configuration.isVideo || ImageFormat(pathExtension: outputExtension) != nil else {
      throw .badInput("cannot write '\(output)': unsupported extension (use .png, .jpg, .webp, or .mp4, .mkv, .mov, .webm for video)")
    }
    // An object's folder and access are checked when the inputs are uploaded.
    if S3Location.isObjectURL(output) { return }
    // A long run must not fail at its very end.
    let folder = (output as NSString).deletingLastPathComponent.isEmpty ? "." : (output as NSString).deletingLastPathComponent
    guard FileManager.default.isWritableFile(atPath: folder) else {
      throw .badInput("cannot write '\(output)': folder '\(folder)' does not exist or is not writable")
    }
    var outputStatus = stat()
    guard stat(output, &outputStatus) == 0 else { return }
    if (outputStatus.st_mode & S_IFMT) == S_IFDIR { throw .badInput("cannot write '\(output)': it is a directory (nothing was changed)") }
    for (role, path) in [("target", configuration.paths.target)] + configuration.paths.sources.map({ ("source", $0) }) {
      var status = stat()
      if stat(path, &status) == 0, status.st_dev == outputStatus.st_dev, status.st_ino == outputStatus.st_ino {
        throw .badInput("OUTPUT '\(output)' is the \(role) '\(path)': choose another output name, the \(role) would be overwritten")
      }
    }
  }

  func warn(_ message: String) { events(.message(.warning, message)) }

  func readImage(_ path: String) throws(SwapError) -> Image {
    do { return try ImageIO.read(path: path) } catch { throw .badInput("\(error)") }
  }

  // MARK: The run

  /// Runs the swap. `launchHelpers` starts `workers - 1` local helper processes for a video job
  /// once it exists (before this process loads its models, so they load theirs meanwhile).
  public func run(stop: StopSignal, launchHelpers: (_ job: Int64, _ jobs: JobEngine) throws -> [Process] = { _, _ in [] }) throws -> Outcome {
    try checkOutput()
    if configuration.processors.contains(.faceSwapper) && configuration.faceSwapper.model == "classic" {
      if configuration.paths.sources.count > 1 {
        warn("the classic swapper uses one source face (the first image with a face); \(configuration.paths.sources.count - 1) more source image(s) only serve as fallbacks")
      }
      let neuralOnly = Set(configuration.faceMasker.types.map(\.rawValue)).subtracting(["box"])
      if !neuralOnly.isEmpty {
        warn("--face-mask-types \(neuralOnly.sorted().joined(separator: " ")) apply to neural swappers; the classic swapper blends with its own mask")
      }
    }
    let timer = StageTimer()
    let sourceImages = try timer.measure("decode") { try configuration.paths.sources.map { try readImage($0).converted(toChannels: 3) } }
    let isVideo = configuration.isVideo
    let threads = settings.threads(configuration.execution, video: isVideo)
    let runtime = try configuration.execution.makeRuntime(threads: threads.pool, locator: settings.ortLocator)
    let pool = InferencePool(runtime: runtime, configuration: configuration.execution.poolConfiguration(
      memory: configuration.memory, analysisOnCallerThread: threads.analysisOnCallerThread))
    let models = settings.models.store(explicit: configuration.paths.modelsDirectory, currentDirectory: settings.workingDirectory)
    let engine = SwapEngine(configuration: configuration, store: models, pool: pool, timer: timer, warn: warn)
    if isVideo {
      return try VideoSwap(run: self, engine: engine, sourceImages: sourceImages, stop: stop).run(launchHelpers: launchHelpers)
    }
    let faces = try renderImage(engine: engine, sourceImages: sourceImages, timer: timer)
    return Outcome(kind: .image(faces: faces), swapped: engine.swapping, timer: timer, pool: pool, placement: nil, report: nil)
  }

  /// The image swap: reads the target, swaps, writes the output (atomically, with the provenance
  /// label); the faces processed.
  func renderImage(engine: SwapEngine, sourceImages: [Image], timer: StageTimer) throws -> Int {
    let target: Image
    do { target = try timer.measure("decode") { try ImageIO.read(path: configuration.paths.target) } } catch {
      // A video given with an image OUTPUT: say so instead of "cannot read image".
      if (try? MediaProbe.probe(configuration.paths.target)) != nil {
        throw SwapError.badInput("the target '\(configuration.paths.target)' is a video: give OUTPUT a video extension (.mp4, .mkv, .mov or .webm)")
      }
      throw SwapError.badInput("\(error)")
    }
    let processor = try engine.makeProcessor(sourceImages: sourceImages, tracking: false)
    reportProviderFallbacks(engine.pool)
    let (result, faces) = try SwapEngine.swap(image: target, with: processor)
    releaseProcessorModels(engine.pool)
    if faces == 0 && configuration.processors != [.frameEnhancer] {
      warn("no face in target \(configuration.paths.target); face processors leave it unchanged")
    }
    try timer.measure("encode") {
      do {
        try ImageIO.write(result, to: configuration.paths.output, quality: configuration.output.imageQuality,
                          textMetadata: [("swapline.provenance", engine.label(version: settings.version)), ("Software", "swapline")])
      } catch { throw SwapError.failure("\(error)") }
    }
    return faces
  }

  /// A requested provider that could not attach is said once per provider.
  func reportProviderFallbacks(_ pool: InferencePool) {
    var said = Set<ExecutionProviderKind>()
    for session in pool.residentSessions {
      for fallback in session.fallbacks where said.insert(fallback.provider).inserted {
        warn("\(fallback.provider.rawValue) unavailable, running on \(session.provider.rawValue): \(fallback.failure ?? "")")
      }
    }
  }

  /// FaceFusion's --video-memory-strategy once the frames are processed (before the join or the
  /// image encode): strict frees every model, moderate the processors' own (the face analysis
  /// models stay), tolerant none.
  func releaseProcessorModels(_ pool: InferencePool) {
    let released = configuration.processors.flatMap { pool.stageFinished(owner: $0.rawValue) }
    guard !released.isEmpty else { return }
    let names = released.map { (($0.modelPath as NSString).lastPathComponent as NSString).deletingPathExtension }.sorted()
    events(.message(.debug, "--video-memory-strategy \(configuration.memory.videoMemoryStrategy.rawValue): released \(released.count) "
                      + "model session\(released.count == 1 ? "" : "s") (\(names.joined(separator: ", ")))"))
  }

  /// The job engine over the embedded store in `settings.jobsDirectory` (default `.swapline-jobs`
  /// next to the output). A damaged store is named with what to do; with `restart` it is set
  /// aside and a new one started.
  public func openJobs() throws(SwapError) -> JobEngine {
    let outputFolder = (configuration.paths.output as NSString).deletingLastPathComponent
    let directory = URL(fileURLWithPath: settings.jobsDirectory ?? (outputFolder.isEmpty ? "." : outputFolder) + "/.swapline-jobs",
                        relativeTo: URL(fileURLWithPath: settings.workingDirectory + "/")).standardizedFileURL.path
    do {
      try createFolder(directory)
      return try JobEngine(directory: directory, leaseSeconds: settings.leaseSeconds)
    } catch let failure as SQLiteChunkStore.Failure where failure.isDamaged {
      let path = directory + "/jobs.sqlite"
      guard settings.restart else {
        throw .failure("the job store \(path) is damaged (\(failure)); run the same command with --restart to set it aside "
                       + "and start afresh, or remove \(directory) (outputs already written are not affected)")
      }
      let aside = path + ".damaged-\(Int(Date().timeIntervalSince1970))"
      for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
        guard rename(path + suffix, aside + suffix) == 0 else {
          throw .failure("the job store \(path) is damaged and cannot be moved aside: \(String(cString: strerror(errno)))")
        }
      }
      warn("the job store \(path) was damaged (\(failure)); moved it to \(aside) and started a new one")
      do { return try JobEngine(directory: directory, leaseSeconds: settings.leaseSeconds) } catch {
        throw .failure("cannot open the job store \(path): \(error)")
      }
    } catch let error as SwapError {
      throw error
    } catch {
      throw .failure("cannot open the job store \(directory)/jobs.sqlite: \(error)")
    }
  }

  /// The video job's spec (frames, encoding, identity) from what the engine plans to load; no
  /// model is loaded. `modelsByContent`: for the cluster, whose nodes hold their own copies.
  public func videoJobSpec(engine: SwapEngine, info: MediaInfo, modelsByContent: Bool, objects: ObjectStore? = nil) throws -> VideoJobSpec {
    guard let frames = configuration.frameRange(frameCount: info.frameCount) else {
      throw SwapError.badInput("--trim-frame-start/--trim-frame-end select no frames of the video's \(info.frameCount)")
    }
    let output = configuration.output
    var encoder = output.videoEncoder
    if encoder.isHardware && !VideoEncoding.isUsable(encoder) {
      encoder = encoder.softwareFallback
      warn("\(output.videoEncoder.rawValue) is not usable here (no NVIDIA GPU or driver); encoding with \(encoder.rawValue)")
    }
    return try configuration.videoJobSpec(
      frames: frames, encoding: VideoEncoding(encoder: encoder, quality: output.videoQuality, preset: output.videoPreset.rawValue),
      label: engine.label(version: settings.version), modelFiles: try engine.modelFiles(), modelsByContent: modelsByContent,
      command: .init(arguments: [], directory: settings.workingDirectory), objects: objects)
  }

  /// Submits the video job to a store whose workers render it and whose coordinator joins it
  /// (a cluster, or `swapline serve`): nothing is rendered here, and only the detector is loaded
  /// (to check the sources have a face). `tenant`: the HTTP API's tenant, for fair claims.
  public func submit(to jobs: JobEngine, tenant: String = "") throws -> JobEngine.Prepared {
    if let objects = jobs.objects { return try submit(to: jobs, objects: objects, tenant: tenant) }
    try checkOutput()
    let info = try probeTarget()
    let (engine, pool, models) = try submissionEngine()
    let spec = try videoJobSpec(engine: engine, info: info, modelsByContent: true)
    try checkSourcesHaveFaces(engine: engine, pool: pool, models: models)
    return try jobs.prepare(spec, tenant: tenant)
  }

  /// Queues the image swap as a job of one frame (`ImageJobSpec`) that a worker renders whole.
  /// The configuration's paths must be absolute (workers run elsewhere).
  public func submitImage(to store: any ChunkStore, tenant: String) throws -> Int64 {
    try checkOutput()
    let (engine, pool, models) = try submissionEngine()
    try checkSourcesHaveFaces(engine: engine, pool: pool, models: models)
    let spec = ImageJobSpec(configuration: String(decoding: configuration.canonicalJSON, as: UTF8.self),
                            label: engine.label(version: settings.version))
    return try store.createJob(name: (configuration.paths.output as NSString).lastPathComponent, fingerprint: "", spec: spec.json,
                               tenant: tenant, chunks: [(startFrame: 0, frameCount: 1)])
  }

  func submissionEngine() throws -> (SwapEngine, InferencePool, ModelStore) {
    let runtime = try settings.submissionRuntime ?? configuration.execution.makeRuntime(threads: 1, locator: settings.ortLocator)
    let pool = InferencePool(runtime: runtime, configuration: InferencePoolConfiguration(budgetBytes: 1 << 30))
    let models = settings.models.store(explicit: configuration.paths.modelsDirectory, currentDirectory: settings.workingDirectory)
    return (SwapEngine(configuration: configuration, store: models, pool: pool, warn: warn), pool, models)
  }

  /// A source without a face is said at submission, not by every worker: only the detector is loaded.
  func checkSourcesHaveFaces(engine: SwapEngine, pool: InferencePool, models: ModelStore) throws {
    guard configuration.processors.contains(.faceSwapper) else { return }
    let detector = try SwapEngine.makeDetector(engine.detectorOptions, pool: pool, store: models)
    let sources = try configuration.paths.sources.map { try readImage($0).converted(toChannels: 3) }
    guard try sources.contains(where: { !(try detector.detect($0)).isEmpty }) else {
      throw SwapError.badInput("no face found in the source image(s): \(configuration.paths.sources.joined(separator: ", "))")
    }
  }

  func probeTarget() throws(SwapError) -> MediaInfo {
    do { return try MediaProbe.probe(configuration.paths.target) } catch { throw .badInput("\(error)") }
  }
}

/// mkdir -p with the system's reason on failure ("Permission denied", "Not a directory", ...).
public func createFolder(_ path: String) throws(SwapError) {
  var built = path.hasPrefix("/") ? "" : FileManager.default.currentDirectoryPath
  for component in path.split(separator: "/") {
    built += "/" + component
    if mkdir(built, 0o755) != 0 && errno != EEXIST {
      throw .badInput("cannot create the folder \(built): \(String(cString: strerror(errno)))")
    }
  }
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
    throw .badInput("cannot create the folder \(path): a file of that name is in the way")
  }
}
