import Foundation
import Imaging
import Jobs
import Media
import ObjectStorage
import OnnxRuntime
import Pipeline

/// Claims and renders chunks of one job until none is claimable now, the same for every kind of
/// worker (the process that asked for the run, its local helpers, cluster workers). A chunk's
/// error is reported and the loop goes on with other chunks (the failed one is retried after its
/// backoff, or ends dead; a dead chunk ends the loop: no point rendering the rest). When object
/// storage is unreachable the chunk is given back and the loop waits until storage answers. Returns the
/// chunks this process committed; a job that stops running (cancelled, finished by others)
/// throws `JobStopped`.
func renderChunks(jobs: JobEngine, job: Int64, spec: VideoJobSpec, info: MediaInfo, processor: SwapFrameProcessor, stop: StopSignal,
                  warmReader: FrameReader? = nil, events: @escaping RunEvents) throws -> Int {
  let timer = processor.timer
  var total = 0
  while true {
    do {
      total += try jobs.work(job: job, spec: spec, info: info, processor: processor, warmReader: total == 0 ? warmReader : nil,
                             shouldStop: { stop.raised }, frameDone: { events(.frameRendered) }) { event in
        timer.add("wait decode", seconds: event.waitedForFrames)
        timer.add("wait render", seconds: event.waitedForRender)
        events(.chunkRendered(event))
        events(.message(.debug, String(
          format: "chunk %d: %d frames in %.2f s (%.1f fps), analysis waited %.2f s for frames, %.2f s for rendering%@",
          event.index, event.frames, event.seconds, Double(event.frames) / max(event.seconds, 1e-6), event.waitedForFrames,
          event.waitedForRender, event.committed ? "" : ", fenced out (another worker owns it)")))
      }
      return total
    } catch let error as MediaError where error.code == .toolMissing {
      throw SwapError.failure("\(error)")
    } catch let stopped as JobStopped {
      throw stopped
    } catch let unavailable as StorageUnavailable {
      // Nothing to claim that could succeed until storage answers: wait for it, then go on.
      events(.message(.warning, "\(unavailable); waiting for object storage"))
      guard jobs.waitForObjectStorage(stop: stop, reading: spec.target) else { return total }
      events(.message(.warning, "object storage answers again; rendering resumes"))
    } catch {
      // A chunk that failed because the job was cancelled under it is no chunk failure.
      if let state = try? jobs.store.job(job)?.state, state != .running { throw JobStopped(job: job, state: state) }
      events(.chunkFailed("\(error)", leaseLost: error is ChunkInterrupted))
      if stop.raised { return total }
      if case .failed = try jobs.completion(job: job) { return total }
    }
  }
}

/// Renders chunks of a job someone else created, from the configuration stored with it: a
/// local helper process of `swap --workers` (`swapline jobs work ID`) or a cluster worker.
/// Nothing comes from argv: the job's stored configuration says what to make, and this process's
/// own settings only say how (threads, providers, lease length).
public struct StoredJobWorker: Sendable {
  public let jobs: JobEngine
  public let settings: RunSettings
  /// This machine's execution group (a cluster node's own GPUs, with the memory defaults for
  /// this machine); nil: the job's stored execution and memory groups (a local helper).
  public let execution: SwapConfiguration.ExecutionSettings?
  /// Cluster nodes hold their own copies of the model files: compare them by content.
  public let modelsByContent: Bool
  public let runtime: OrtRuntime
  public let analysisOnCallerThread: Bool

  public init(jobs: JobEngine, settings: RunSettings, execution: SwapConfiguration.ExecutionSettings?, modelsByContent: Bool,
              runtime: OrtRuntime, analysisOnCallerThread: Bool) {
    self.jobs = jobs
    self.settings = settings
    self.execution = execution
    self.modelsByContent = modelsByContent
    self.runtime = runtime
    self.analysisOnCallerThread = analysisOnCallerThread
  }

  /// A helper of a run on this machine: the job's own execution settings, files compared by
  /// modification time like the run that made the job, threads as for `settings.workers`.
  public static func local(job: JobRecord, jobs: JobEngine, settings: RunSettings) throws -> StoredJobWorker {
    let execution = try configuration(of: job).configuration.execution
    let threads = settings.threads(execution, video: true)
    return StoredJobWorker(jobs: jobs, settings: settings, execution: nil, modelsByContent: false,
                           runtime: try execution.makeRuntime(threads: threads.pool, locator: settings.ortLocator),
                           analysisOnCallerThread: threads.analysisOnCallerThread)
  }

  /// Why a worker cannot render a job.
  public enum Refusal: Error, CustomStringConvertible {
    /// Submitted by an older swapline, without its configuration: submit it again.
    case noConfiguration
    /// This node's model files or inputs differ from the submitter's (content hashes).
    case filesDiffer
    public var description: String {
      switch self {
      case .noConfiguration: "the job has no stored configuration (submitted by an older swapline: submit it again)"
      case .filesDiffer: "model files or inputs differ from the submitted job's"
      }
    }
  }

  /// The stored configuration with its paths made absolute in the folder it was given in.
  public static func configuration(of job: JobRecord) throws -> (configuration: SwapConfiguration, spec: VideoJobSpec, directory: String) {
    guard let spec = try? JSONDecoder().decode(VideoJobSpec.self, from: Data(job.spec.utf8)), let stored = spec.configuration,
      let directory = spec.command?.directory
    else { throw Refusal.noConfiguration }
    var configuration = try SwapConfiguration.decode(json: Data(stored.utf8))
    func absolute(_ path: String) -> String { path.hasPrefix("/") || S3Location.isObjectURL(path) ? path : directory + "/" + path }
    configuration.paths.sources = configuration.paths.sources.map(absolute)
    configuration.paths.target = absolute(configuration.paths.target)
    configuration.paths.output = absolute(configuration.paths.output)
    configuration.paths.modelsDirectory = configuration.paths.modelsDirectory.map(absolute)
    return (configuration, spec, directory)
  }

  /// The session pool for a stored job's configuration, on this worker's machine: a cluster
  /// node's own execution group and the memory defaults for it (the submitter's budget was sized
  /// for the submitter's machine) replace the stored ones.
  func makePool(for configuration: inout SwapConfiguration) -> InferencePool {
    if let execution {
      configuration.execution = execution
      configuration.memory = SwapConfiguration.MemorySettings()
    }
    return InferencePool(runtime: runtime, configuration: configuration.execution.poolConfiguration(
      memory: configuration.memory, analysisOnCallerThread: analysisOnCallerThread))
  }

  /// A source image on this node: an `s3://` one is downloaded into the job's work folder.
  func localCopy(of source: String, job: Int64) throws -> String {
    guard S3Location.isObjectURL(source), let objects = jobs.objects else { return source }
    return try objects.localCopy(of: source, in: jobs.segmentFolder(job: job))
  }

  /// Loads the job's models and renders its chunks until none is claimable; the session pool
  /// used, for metrics. Throws `Refusal` before loading anything it cannot render.
  @discardableResult
  public func render(job record: JobRecord, stop: StopSignal, poolReady: (InferencePool) -> Void = { _ in },
                     events: @escaping RunEvents) throws -> InferencePool {
    var (configuration, spec, directory) = try Self.configuration(of: record)
    let pool = makePool(for: &configuration)
    poolReady(pool)
    let engine = SwapEngine(configuration: configuration, store: settings.models.store(explicit: configuration.paths.modelsDirectory,
                                                                                         currentDirectory: directory),
                            pool: pool, warn: { events(.message(.warning, $0)) })
    // The same files as the submitter saw: otherwise this node would render something else
    // under the job's name.
    guard let modelFiles = try? engine.modelFiles(),
      try SwapConfiguration.fileIdentities(inputs: [configuration.paths.target] + configuration.paths.sources, models: modelFiles,
                                           modelsByContent: modelsByContent, objects: jobs.objects) == spec.files
    else { throw Refusal.filesDiffer }
    let sourceImages = try configuration.paths.sources.map { try ImageIO.read(path: try localCopy(of: $0, job: record.id)).converted(toChannels: 3) }
    let processor = try engine.makeProcessor(sourceImages: sourceImages, tracking: true)
    let info = try MediaProbe.probe(try jobs.readable(spec.target))
    let plan = settings.videoPlan(configuration.execution, costs: try processor.measureCosts(width: info.width, height: info.height))
    // A job engine of this run's own: the thread placement is this run's.
    let jobs = JobEngine(store: self.jobs.store, directory: self.jobs.directory, leaseSeconds: settings.leaseSeconds, objects: self.jobs.objects)
    (jobs.helperPlacement, jobs.renderPlacement, jobs.analysisCPUs) = (plan.helpers, plan.render, plan.analysisCPUs)
    settings.faults.apply(to: jobs)
    defer { _ = configuration.processors.flatMap { pool.stageFinished(owner: $0.rawValue) } }
    do {
      _ = try renderChunks(jobs: jobs, job: record.id, spec: spec, info: info, processor: processor, stop: stop, events: events)
    } catch let stopped as JobStopped {
      // Cancelled, or finished by others while this worker was stalled: the chunk in flight
      // was abandoned (segment removed, nothing committed), and a worker just stops.
      events(.chunkFailed("\(stopped); the chunk in flight was abandoned", leaseLost: true))
    }
    return pool
  }
}
