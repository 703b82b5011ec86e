import Foundation
import Jobs
import Logging
import Media
import ObjectStorage
import OnnxRuntime
import Pipeline
import ServiceLifecycle
import Synchronization

/// What the cluster services report as they work, for the metrics (their log lines go to the
/// `Logger` they are given).
public enum ClusterEvent: Sendable {
  /// A worker's run event (chunks rendered or failed) for a job.
  case run(job: Int64, RunEvent, pool: InferencePool?)
  /// The coordinator returned chunks whose lease expired.
  case leasesExpired(Int)
  /// The coordinator finished a job: published (with the join's seconds) or failed.
  case jobFinished(job: Int64, published: Bool, joinSeconds: Double?)
  /// The coordinator began leading (true) or standing by (false).
  case leadership(Bool)
}

public typealias ClusterEvents = @Sendable (ClusterEvent) -> Void

/// The loop a service runs: one pass at a time, riding out a database outage longer than one
/// connection's reconnect attempts (it says so and tries again a poll later) instead of exiting
/// with its work unfinished.
func serve(stop: StopSignal, pollInterval: Double, logger: Logger, pass: () throws -> Bool) throws {
  while !stop.raised {
    do {
      guard try pass() else { return }
    } catch let failure as PostgresConnection.Failure where failure.isConnectionLost {
      logger.warning("waiting for the database (still unreachable)", metadata: ["reason": "\(failure)"])
      stop.wait(seconds: max(pollInterval, 1))
    }
  }
}

/// Blocking work (a worker's or coordinator's loop) as a swift-service-lifecycle `Service`: it runs
/// on a dedicated thread, and graceful shutdown (SIGTERM, SIGINT) or cancellation raises its stop,
/// so the chunk in flight is abandoned and its lease released before the process exits.
public struct StoppableService: Service, CustomStringConvertible {
  public let description: String
  let body: @Sendable (StopSignal) throws -> Void

  public init(_ name: String, body: @escaping @Sendable (StopSignal) throws -> Void) {
    description = name
    self.body = body
  }

  public func run() async throws {
    let stop = StopSignal()
    try await withTaskCancellationHandler {
      try await withGracefulShutdownHandler {
        try await onDedicatedThread { try body(stop) }
      } onGracefulShutdown: {
        stop.raise()
      }
    } onCancel: {
      stop.raise()
    }
  }
}

/// `swapline worker` (and the in-process workers of `swapline serve`): waits for jobs with
/// claimable chunks (LISTEN/NOTIFY on PostgreSQL, polling as a fallback and on SQLite) and
/// renders them in this process from their stored configuration, videos chunk by chunk and
/// images (`ImageJobSpec`) whole. A job this node cannot render (other model files, no stored
/// configuration) is refused once and skipped.
public struct ClusterWorker: Sendable {
  public let store: any ChunkStore
  /// The shared segments folder, or with `objects` this node's own work folder.
  public let storage: String
  /// Object storage for segments, outputs and inputs (nil: the shared folder).
  public let objects: ObjectStore?
  public let settings: RunSettings
  /// This node's execution group (its own GPUs and threads).
  public let execution: SwapConfiguration.ExecutionSettings
  public let pollInterval: Double
  /// Exit when no job has claimable chunks, instead of waiting for more.
  public let once: Bool
  /// Only these tenants' jobs are rendered here ("" is the tenant of command-line jobs); nil: all.
  public let tenants: Set<String>?

  public init(store: any ChunkStore, storage: String, objects: ObjectStore? = nil, settings: RunSettings,
              execution: SwapConfiguration.ExecutionSettings, pollInterval: Double, once: Bool, tenants: Set<String>? = nil) {
    self.tenants = tenants
    self.store = store
    self.storage = storage
    self.objects = objects
    self.settings = settings
    self.execution = execution
    self.pollInterval = pollInterval
    self.once = once
  }

  /// Runs until `stop` (the chunk in flight is abandoned and its lease released) or, with `once`,
  /// until nothing is claimable, on the calling thread (a dedicated one: see `StoppableService`).
  /// One ONNX Runtime environment serves every job rendered here.
  public func run(runtime: OrtRuntime, analysisOnCallerThread: Bool, stop: StopSignal, logger: Logger,
                  events: @escaping ClusterEvents) throws {
    let postgres = store as? PostgresChunkStore
    stop.whenRaised { postgres?.connection.interruptWaits() }
    try postgres?.listen()
    let jobs = JobEngine(store: store, directory: storage, leaseSeconds: settings.leaseSeconds, objects: objects)
    let worker = StoredJobWorker(jobs: jobs, settings: settings, execution: execution, modelsByContent: true, runtime: runtime,
                                 analysisOnCallerThread: analysisOnCallerThread)
    var refused = Set<Int64>()
    try serve(stop: stop, pollInterval: pollInterval, logger: logger) {
      guard let jobID = try store.claimableJob(excluding: refused) else {
        if once { return false }
        if let postgres { _ = postgres.connection.waitForNotification(timeout: pollInterval) } else { stop.wait(seconds: pollInterval) }
        return true
      }
      guard let job = try store.job(jobID) else { return true }
      // Another tenant's job (a pinned pool): skipped for good, like a refused one.
      if let tenants, !tenants.contains(job.tenant) {
        refused.insert(jobID)
        return true
      }
      var jobLogger = logger
      jobLogger[metadataKey: "job"] = "\(jobID)"
      let logger = jobLogger
      logger.info("working on job")
      do {
        // This runs on the service's dedicated thread (StoppableService), where inference belongs.
        let pool = Mutex<InferencePool?>(nil)
        let render = ImageJobSpec(json: job.spec) == nil ? worker.render : worker.renderImage
        try render(job, stop, { made in pool.withLock { $0 = made } }) { event in
          switch event {
          case .chunkRendered(let chunk) where chunk.committed:
            logger.info("chunk \(chunk.index) committed (\(chunk.frames) frames in \(String(format: "%.1f", chunk.seconds)) s)")
          case .chunkRendered(let chunk):
            logger.warning("chunk \(chunk.index) rendered but fenced out: another worker holds its lease")
          case .chunkFailed(let reason, let leaseLost):
            if leaseLost { logger.warning("\(reason)") } else { logger.warning("chunk failed", metadata: ["error": "\(reason)"]) }
          case .message(.warning, let text):
            logger.warning("\(text)")
          default:
            break
          }
          events(.run(job: jobID, event, pool: pool.withLock { $0 }))
        }
      } catch let refusal as StoredJobWorker.Refusal {
        refused.insert(jobID)
        logger.warning("refused job: \(refusal)")
      } catch let failure as PostgresConnection.Failure where failure.isConnectionLost {
        throw failure
      } catch {
        // Reading the job's input before any chunk (its probe) fails the same way when object
        // storage is down: wait for storage rather than retry every poll.
        let target = (try? JSONDecoder().decode(VideoJobSpec.self, from: Data(job.spec.utf8)))?.target
        if let outage = jobs.storageOutage(after: error, reading: target) {
          logger.warning("\(outage); waiting for object storage")
          if jobs.waitForObjectStorage(stop: stop, reading: target) { logger.info("object storage answers again") }
        } else {
          logger.error("job run ended with an error", metadata: ["error": "\(error)"])
          stop.wait(seconds: pollInterval)
        }
      }
      return true
    }
  }
}

/// `swapline coordinator`: every poll, returns chunks whose lease expired (to pending with
/// backoff, or dead after their last attempt), fails a job with a dead chunk, and joins a job
/// whose chunks are all done into its output. On PostgreSQL any number may run: one leads
/// (`CoordinatorLeadership`), the others stand by and take over within a poll of its death.
public struct ClusterCoordinator: Sendable {
  public let store: any ChunkStore
  /// The shared segments folder, or with `objects` this node's own work folder (for joins).
  public let storage: String
  public let objects: ObjectStore?
  public let pollInterval: Double
  /// Exit when no job is running, instead of waiting for more.
  public let once: Bool
  /// Faults a test injects (a pause before publishing a join).
  public let faults: FaultInjection

  public init(store: any ChunkStore, storage: String, objects: ObjectStore? = nil, pollInterval: Double, once: Bool,
              faults: FaultInjection = FaultInjection()) {
    self.store = store
    self.storage = storage
    self.objects = objects
    self.pollInterval = pollInterval
    self.once = once
    self.faults = faults
  }

  public func run(stop: StopSignal, logger: Logger, events: @escaping ClusterEvents) throws {
    stop.whenRaised { (store as? PostgresChunkStore)?.connection.interruptWaits() }
    let engine = JobEngine(store: store, directory: storage, objects: objects)
    faults.apply(to: engine)
    // The embedded store serves one machine, where the join's file lock suffices.
    let leadership = try (store as? PostgresChunkStore).map {
      try CoordinatorLeadership(url: $0.connection.url, holder: JobEngine.workerName)
    }
    defer { leadership?.resign() }
    var leading: Bool?
    if leadership == nil { events(.leadership(true)) }
    try serve(stop: stop, pollInterval: pollInterval, logger: logger) {
      if let leadership {
        let leads = try leadership.lead()
        if leads != leading {
          if leads { logger.info("leading", metadata: ["term": "\((try? leadership.currentTerm()).flatMap { $0 }.map(String.init) ?? "?")"]) }
          else { logger.info("standing by: another coordinator leads") }
          leading = leads
          events(.leadership(leads))
        }
        guard leads else {
          if once, try store.jobs().allSatisfy({ $0.state != .running }) { return false }
          stop.wait(seconds: pollInterval)
          return true
        }
      }
      let stillLeading = { leadership.map { (try? $0.lead()) ?? false } ?? true }
      let reaped = try store.reapExpiredLeases()
      if reaped > 0 {
        logger.info("expired leases returned", metadata: ["chunks": "\(reaped)"])
        events(.leasesExpired(reaped))
      }
      let running = try store.jobs().filter { $0.state == .running }
      for job in running { try coordinate(job, engine: engine, stillLeading: stillLeading, logger: logger, events: events) }
      if once && running.isEmpty { return false }
      stop.wait(seconds: pollInterval)
      return true
    }
  }

  private func coordinate(_ job: JobRecord, engine: JobEngine, stillLeading: () -> Bool, logger: Logger, events: ClusterEvents) throws {
    var logger = logger
    logger[metadataKey: "job"] = "\(job.id)"
    switch try engine.completion(job: job.id) {
    case .waiting:
      return
    case .failed(let reason):
      try store.setJobState(job.id, .failed, error: reason)
      events(.jobFinished(job: job.id, published: false, joinSeconds: nil))
      logger.error("job failed", metadata: ["error": "\(reason)"])
    case .complete where ImageJobSpec(json: job.spec) != nil:
      // Its worker wrote the image and marks it done; this covers a worker that died in between.
      guard try store.transitionJob(job.id, from: .running, to: .done, error: nil) else { return }
      events(.jobFinished(job: job.id, published: true, joinSeconds: nil))
    case .complete:
      // Decoded once: the join needs it, and a failed join asks whether the storage can serve its input.
      let decoded = Result { try JSONDecoder().decode(VideoJobSpec.self, from: Data(job.spec.utf8)) }
      do {
        let spec = try decoded.get()
        let info = try MediaProbe.probe(try engine.readable(spec.target))
        let started = ContinuousClock.now
        guard try engine.finalize(job: job.id, spec: spec, info: info, mayPublish: stillLeading) == .published else { return }
        events(.jobFinished(job: job.id, published: true, joinSeconds: (ContinuousClock.now - started).milliseconds / 1000))
        logger.info("job done", metadata: ["output": "\(spec.output)"])
      } catch let reopened as SegmentsReopened {
        // Workers render those chunks again; the job stays running.
        logger.warning("segments failed verification; chunks back to pending", metadata: ["error": "\(reopened)"])
      } catch is JobStopped {
        return
      } catch let lost as LeadershipLost {
        logger.warning("\(lost)")
      } catch let failure as PostgresConnection.Failure where failure.isConnectionLost {
        throw failure
      } catch where engine.storageOutage(after: error, reading: try? decoded.get().target) != nil {
        // Object storage down or slow (a download, an upload, ffmpeg reading the input's audio):
        // the segments are safe there; join at a later poll.
        logger.warning("object storage unavailable; joining again at the next poll", metadata: ["error": "\(error)"])
      } catch {
        // Only from running, and only while leading: a leader that lost its lock mid-join must not
        // fail a job the new leader has meanwhile published.
        guard stillLeading(), try store.transitionJob(job.id, from: .running, to: .failed, error: "joining segments: \(error)") else {
          logger.warning("join ended without publishing; the job is another coordinator's now", metadata: ["error": "\(error)"])
          return
        }
        logger.error("job failed at the join", metadata: ["error": "\(error)"])
      }
    }
  }
}

extension SwapConfiguration.ExecutionSettings {
  /// A GPU node that cannot use its GPU must say so at start, not render quietly on CPU: probes
  /// each requested provider in order, logs which one attaches or why not; with `strict`, a
  /// provider that cannot attach is an error.
  public func checkProviders(runtime: OrtRuntime, logger: Logger) throws(SwapError) {
    guard providers.contains(where: { $0 != .cpu }) else { return }
    for provider in providers {
      let attachment = runtime.probeProvider(provider, deviceID: deviceIDs.first ?? 0, options: options)
      guard let failure = attachment.failure else {
        logger.info("execution provider", metadata: ["provider": "\(provider.rawValue)"])
        return
      }
      if strict { throw .failure("\(provider.rawValue) cannot attach (--execution-strict): \(failure)") }
      logger.warning("\(provider.rawValue) unavailable, falling back to the next provider",
                     metadata: ["provider": "\(provider.rawValue)", "reason": "\(failure)"])
    }
    logger.warning("no requested execution provider attaches; this worker renders on cpu")
  }
}
