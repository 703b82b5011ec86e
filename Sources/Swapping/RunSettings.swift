import Foundation
import Jobs
import Media
import Models
import OnnxRuntime
import Pipeline

/// How and where a run works. None of it changes what the run makes, so none of it is part of the
/// job's identity (that is the `SwapConfiguration`).
public struct RunSettings: Sendable {
  /// Processes on this machine rendering the job (this one included): the cores are divided by it.
  public var workers = 1
  /// The embedded job store's folder (nil: `.swapline-jobs` next to the output).
  public var jobsDirectory: String?
  /// Start over instead of resuming an unfinished run of the same job (and set a damaged store aside).
  public var restart = false
  public var leaseSeconds = 30.0
  /// On CPU: pin inference to the first core and decoding/rendering/encoding to the others.
  public var threadPinning = true
  /// Video: measure the run for a `RunReport` (model runs logged, then re-timed alone).
  public var recordReport = false
  public var faults = FaultInjection()
  /// Written into the provenance label.
  public var version = "dev"
  /// Where the run was asked for: stored with a job (its helpers and `jobs resume` resolve the
  /// configuration's relative paths against it), and the base of a relative jobs or models folder.
  /// The run itself opens the configuration's paths as given (relative to the process's folder).
  public var workingDirectory = FileManager.default.currentDirectoryPath
  /// Finds ONNX Runtime's library.
  public var ortLocator = OrtLibraryLocator()
  /// Where model files are when the configuration names no folder.
  public var models = ModelsLocation()
  /// A long-lived process's one ONNX Runtime for checking submissions (the API server), instead
  /// of one per submission.
  public var submissionRuntime: OrtRuntime?

  public init() {}

  /// ONNX Runtime's global pool size and whether analysis models keep to their own thread: all
  /// cores for an image; for video, ThreadPlan's choice for this many workers.
  public func threads(_ execution: SwapConfiguration.ExecutionSettings, video: Bool) -> (pool: Int, analysisOnCallerThread: Bool) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard video else { return (execution.threadCount ?? cores, false) }
    return ThreadPlan.threads(cores: cores, workers: workers, threadOverride: execution.threadCount, cpuOnly: execution.cpuOnly)
  }

  func videoPlan(_ execution: SwapConfiguration.ExecutionSettings, costs: StageCosts?) -> ThreadPlan {
    ThreadPlan.forVideo(cores: ProcessInfo.processInfo.activeProcessorCount, workers: workers, threadOverride: execution.threadCount,
                        cpuOnly: execution.cpuOnly, pinning: threadPinning, costs: costs)
  }
}

/// Faults tests inject into real runs (from the environment, read at the entry point; none in
/// normal runs).
public struct FaultInjection: Sendable, Equatable {
  /// Rendering any chunk containing this frame fails as if the frame were corrupt.
  public var corruptFrame: Int?
  /// Seconds between a verified join and its publish, so a test can kill the process mid-join.
  public var pauseBeforePublish: Double?
  /// Seconds before this process's first segment upload to object storage, so a test can stop
  /// the S3 server under it.
  public var pauseBeforeUpload: Double?

  public init(corruptFrame: Int? = nil, pauseBeforePublish: Double? = nil, pauseBeforeUpload: Double? = nil) {
    self.corruptFrame = corruptFrame
    self.pauseBeforePublish = pauseBeforePublish
    self.pauseBeforeUpload = pauseBeforeUpload
  }

  /// From SWAPLINE_INJECT_CORRUPT_FRAME, SWAPLINE_INJECT_JOIN_PAUSE and SWAPLINE_INJECT_UPLOAD_PAUSE.
  public init(environment: [String: String]) {
    self.init(corruptFrame: environment["SWAPLINE_INJECT_CORRUPT_FRAME"].flatMap { Int($0) },
              pauseBeforePublish: environment["SWAPLINE_INJECT_JOIN_PAUSE"].flatMap { Double($0) },
              pauseBeforeUpload: environment["SWAPLINE_INJECT_UPLOAD_PAUSE"].flatMap { Double($0) })
  }

  func apply(to jobs: JobEngine) {
    jobs.corruptFrame = corruptFrame
    jobs.pauseBeforePublish = pauseBeforePublish
    jobs.pauseBeforeFirstUpload = pauseBeforeUpload
  }
}

/// Where model files are looked for when a configuration names no folder: the process's
/// environment and home, captured once at the entry point.
public struct ModelsLocation: Sendable {
  public var environment: [String: String]
  public var home: String

  public init(environment: [String: String] = ProcessInfo.processInfo.environment, home: String = NSHomeDirectory()) {
    self.environment = environment
    self.home = home
  }

  public func store(explicit: String?, currentDirectory: String) -> ModelStore {
    ModelStore(directory: ModelsDirectory.resolve(explicit: explicit, environment: environment, currentDirectory: currentDirectory, home: home))
  }
}

extension SwapConfiguration.ExecutionSettings {
  public var cpuOnly: Bool { providers.allSatisfy { $0 == .cpu } }

  public var options: ExecutionOptions {
    ExecutionOptions(
      providers: providers, deviceIDs: deviceIDs, strictProviders: strict,
      cuda: CUDAProviderOptions(gpuMemoryLimit: cudaMemoryLimitMiB.map { Int64($0) << 20 }, arenaExtendStrategy: cudaArenaExtendStrategy,
                                convAlgoSearch: cudaConvAlgoSearch),
      tensorrt: TensorRTProviderOptions(fp16: tensorrtFP16, cacheDirectory: tensorrtCacheDirectory))
  }

  /// The session pool's settings: the memory group's budget (default: half of RAM, on GPU 80% of
  /// device memory) and strategy.
  public func poolConfiguration(memory: SwapConfiguration.MemorySettings, analysisOnCallerThread: Bool) -> InferencePoolConfiguration {
    let budget = memory.budgetBytes
      ?? InferencePoolConfiguration.defaultBudget(deviceMemory: cpuOnly || providers.first == .cpu ? nil : GPUInfo.totalMemory())
    var configuration = InferencePoolConfiguration(budgetBytes: budget, strategy: memory.videoMemoryStrategy, execution: options)
    if analysisOnCallerThread { configuration.callerThreadOwners = SwapEngine.analysisOwners }
    return configuration
  }

  public func makeRuntime(threads: Int, locator: OrtLibraryLocator) throws(SwapError) -> OrtRuntime {
    do { return try OrtRuntime(locator: locator, threading: ThreadingOptions(intraOpThreads: threadCount ?? threads)) } catch {
      throw SwapError.failure("\(error)")
    }
  }
}

/// Device memory from nvidia-smi when present; nil on machines without an NVIDIA driver.
public enum GPUInfo {
  public static func totalMemory(deviceID: Int = 0) -> UInt64? {
    guard let output = try? runTool("nvidia-smi", ["--query-gpu=memory.total", "--format=csv,noheader,nounits", "-i", String(deviceID)]),
      let mib = UInt64(output.trimmingCharacters(in: .whitespacesAndNewlines))
    else { return nil }
    return mib << 20
  }
}

/// What a run tells whoever started it, as it happens.
public enum RunEvent: Sendable {
  public enum Level: Int, Sendable, Comparable {
    case warning, info, debug
    public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
  }
  /// A sentence for people (a warning, a resumed job, a chunk's timings).
  case message(Level, String)
  /// The video job this run works on, once it exists (before any model is loaded).
  case jobStarted(JobStart)
  /// A frame of this process's chunk in flight was rendered.
  case frameRendered
  /// A chunk this process rendered was committed (or fenced out: another worker owns it now).
  case chunkRendered(JobEngine.ChunkEvent)
  /// A chunk this process rendered failed (it is retried after its backoff, or ends dead), or
  /// its lease was lost (expired and granted to another worker, or the job stopped under it).
  case chunkFailed(String, leaseLost: Bool)
}

public struct JobStart: Sendable {
  public let job: Int64
  public let resumed: Bool
  public let chunkCount: Int
  public let doneChunks: Int
  /// Frames the run produces.
  public let frames: Int
  public let jobsDirectory: String
  /// Frames of the job's committed chunks, read from the store (other workers' included).
  public let committedFrames: @Sendable () -> Int
}

public typealias RunEvents = @Sendable (RunEvent) -> Void

/// Why a video run ended without writing its output.
public enum VideoRunError: Error, CustomStringConvertible {
  /// `jobs cancel`: nothing was written.
  case cancelled(job: Int64, output: String, jobsDirectory: String)
  /// A chunk died (or the join failed) after its retries.
  case failed(job: Int64, reason: String)
  /// SIGINT/SIGTERM: the chunk in flight was abandoned; the same run resumes the job.
  case interrupted(job: Int64)

  public var description: String {
    switch self {
    case .cancelled(let job, let output, let directory):
      "job \(job) was cancelled (`swapline jobs cancel`); nothing was written to \(output). "
        + "`swapline jobs retry \(job) --jobs-dir \(directory)` and then `jobs resume \(job)` start it again"
    case .failed(let job, let reason): "job \(job) failed: \(reason) (`swapline jobs retry \(job)` revives it)"
    case .interrupted(let job): "interrupted; run the same command again to resume job \(job)"
    }
  }
}
