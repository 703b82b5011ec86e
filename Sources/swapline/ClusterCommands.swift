import ArgumentParser
import Foundation
import Swapping
import Jobs
import OnnxRuntime
import Media
import Pipeline
import Server

/// `--database URL --storage DIR`, shared by the cluster commands.
struct ClusterArguments: ParsableArguments {
  @Option(name: .customLong("database"), help: "PostgreSQL URL of the cluster store, e.g. postgresql://user@host:5432/swapline.")
  var database: String

  @Option(name: .customLong("storage"), help: "Shared folder (mounted at the same path by every node) for chunk segments.")
  var storage: String

  @Option(name: .customLong("poll-interval"), help: "Seconds between polls of the store (NOTIFY wakes workers sooner).")
  var pollInterval: Double = 1

  @Option(name: .customLong("metrics-port"), help: "Serve Prometheus metrics on this port (0: any free port, printed at start).")
  var metricsPort: Int?

  func startMetrics(_ registry: MetricsRegistry, log: EventLog, refresh: @escaping @Sendable () -> Void = {}) throws -> MetricsServer? {
    guard let metricsPort else { return nil }
    do {
      let server = try MetricsServer(port: metricsPort, registry: registry, refresh: refresh)
      log("metrics", ["url": "http://0.0.0.0:\(server.port)/metrics"])
      return server
    } catch { throw CLIError.failure("\(error)") }
  }

  func validate() throws {
    guard !database.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--database needs a PostgreSQL URL") }
    guard !storage.isEmpty else { throw ValidationError("--storage needs a folder") }
    guard pollInterval > 0 else { throw ValidationError("--poll-interval must be more than 0 seconds") }
  }

  /// Long-running services wait for the database (a node may start before it), saying so.
  func open(log: EventLog) throws -> (store: PostgresChunkStore, engine: JobEngine) {
    try createFolder(storage)
    do {
      let store = try PostgresChunkStore(url: database, connectAttempts: 30) { attempt, attempts, reason in
        log("waiting for the database (attempt \(attempt)/\(attempts))", ["reason": reason])
      }
      return (store, JobEngine(store: store, directory: storage))
    } catch {
      throw CLIError.failure("cannot open the cluster store: \(error)")
    }
  }

  /// An interactive submission: one attempt, so an unreachable server is said at once.
  static func openForSubmission(database: String, storage: String, leaseSeconds: Double) throws -> JobEngine {
    do { return JobEngine(store: try PostgresChunkStore(url: database, connectAttempts: 1), directory: storage, leaseSeconds: leaseSeconds) } catch {
      throw CLIError.failure("cannot open the cluster store: \(error)")
    }
  }
}

/// Logs one line per event, as text or JSON lines.
struct EventLog: Sendable {
  let json: Bool
  let role: String

  func callAsFunction(_ message: String, _ fields: [String: String] = [:]) {
    let line: String
    if json {
      var object = fields
      object["time"] = ISO8601DateFormatter().string(from: Date())
      object["role"] = role
      object["message"] = message
      line = String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    } else {
      line = "swapline \(role): " + message + fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
    }
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }
}

/// `swapline worker`: claims chunks of any running job and renders them with the job's own swap
/// command, as the single-machine path does.
struct Worker: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Cluster worker: render chunks of submitted jobs (one worker per GPU).",
    discussion: """
      Waits for jobs in the cluster store (LISTEN/NOTIFY, with polling as a fallback). For a job \
      with claimable chunks it loads the models the job's stored configuration needs and claims, \
      renders and commits chunks with fenced leases until none is left, exactly like a local run. \
      A worker whose model files differ from the submitted job's (content hashes) refuses that \
      job. SIGTERM or SIGINT: the chunk in flight is abandoned and its lease released, then the \
      worker exits.
      """)

  @OptionGroup var cluster: ClusterArguments
  @OptionGroup(title: "Execution") var execution: ExecutionArguments
  @Flag(name: .customLong("once"), help: "Exit when no job has claimable chunks (instead of waiting for more).")
  var once = false
  @Flag(name: .customLong("log-json"), help: "Log JSON lines.")
  var logJSON = false
  @Option(name: .customLong("lease-seconds"), help: "Chunk lease duration; a worker that stops renewing loses its chunk after it.")
  var leaseSeconds: Double = 30

  func run() async throws {
    try await reportingErrors {
      let log = EventLog(json: logJSON, role: "worker")
      // One ONNX Runtime environment for the worker's life; its global pool sized as for one
      // local worker (the jobs rendered here share it, one at a time).
      let threads = ThreadPlan.threads(cores: ProcessInfo.processInfo.activeProcessorCount, workers: 1,
                                       threadOverride: execution.threadCountOption, cpuOnly: execution.providers.allSatisfy { $0 == .cpu })
      let runtime = try execution.makeRuntime(defaultThreads: threads.pool)
      try checkProviders(runtime: runtime, log: log)
      let (store, _) = try cluster.open(log: log)
      let registry = MetricsRegistry()
      registry.describe(ClusterMetrics.worker)
      let labels = ["worker": JobEngine.workerName]
      registry.set(ClusterMetrics.workerFrames, 0, labels: labels)
      let metrics = try cluster.startMetrics(registry, log: log)
      defer { _ = metrics }
      let stop = StopSignal.installed()
      stop.whenRaised { store.connection.interruptWaits() }
      var settings = RunSettings()
      settings.leaseSeconds = leaseSeconds
      settings.faults = FaultInjection(environment: ProcessInfo.processInfo.environment)
      settings.version = Swapline.configuration.version
      let worker = ClusterWorker(store: store, storage: cluster.storage, settings: settings, execution: try execution.settings,
                                 pollInterval: cluster.pollInterval, once: once)
      log("started", ["pid": String(getpid())])
      try onDedicatedThread {
        try worker.run(runtime: runtime, analysisOnCallerThread: threads.analysisOnCallerThread, stop: stop) { event in
          switch event {
          case .log(let message, let fields): log(message, fields)
          case .run(let job, let event, let pool): Self.record(event, job: job, pool: pool, registry: registry, labels: labels, log: log)
          case .leasesExpired, .jobFinished: break
          }
        }
      }
      log("stopped")
    }
  }

  /// A chunk's outcome into the worker's metrics (and its failures into the log).
  static func record(_ event: RunEvent, job: Int64, pool: InferencePool?, registry: MetricsRegistry, labels: [String: String], log: EventLog) {
    func attempt(_ outcome: String) { registry.increment(ClusterMetrics.workerAttempts, labels: labels.merging(["outcome": outcome]) { $1 }) }
    switch event {
    case .chunkRendered(let chunk):
      attempt(chunk.committed ? "ok" : "fenced")
      guard chunk.committed else { return registry.increment(ClusterMetrics.workerStaleCommits, labels: labels) }
      registry.increment(ClusterMetrics.workerFrames, by: Double(chunk.frames), labels: labels)
      registry.set(ClusterMetrics.workerFPS, Double(chunk.frames) / max(chunk.seconds, 1e-6), labels: labels)
      registry.observe(ClusterMetrics.workerChunkSeconds, chunk.seconds, labels: labels)
      registry.observe(ClusterMetrics.workerQueueWait, chunk.queuedSeconds, labels: labels)
      if let pool {
        registry.set(ClusterMetrics.workerPoolResidentBytes, Double(pool.counters.residentBytes), labels: labels)
        registry.set(ClusterMetrics.workerPoolEvictions, Double(pool.counters.evictions), labels: labels)
      }
    case .chunkFailed(let reason, let leaseLost):
      attempt(leaseLost ? "lease_lost" : "error")
      log(leaseLost ? reason : "chunk failed", leaseLost ? ["job": String(job)] : ["job": String(job), "error": reason])
    case .message(let level, let text) where level == .warning:
      log("warning: " + text, ["job": String(job)])
    case .message, .jobStarted, .frameRendered:
      break
    }
  }

  /// A GPU node that cannot use its GPU must say so at start, not render quietly on CPU.
  func checkProviders(runtime: OrtRuntime, log: EventLog) throws {
    guard execution.providers.contains(where: { $0 != .cpu }) else { return }
    for provider in execution.providers {
      let attachment = runtime.probeProvider(provider, deviceID: execution.deviceIDs.first ?? 0, options: execution.options)
      guard let failure = attachment.failure else {
        log("execution provider", ["provider": provider.rawValue])
        return
      }
      if execution.strict { throw CLIError.failure("\(provider.rawValue) cannot attach (--execution-strict): \(failure)") }
      log("warning: \(provider.rawValue) unavailable, falling back to the next provider", ["provider": provider.rawValue, "reason": failure])
    }
    log("warning: no requested execution provider attaches; this worker renders on cpu")
  }

}

/// `swapline coordinator`: reaps expired leases and joins finished jobs.
struct Coordinator: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Cluster coordinator: reap expired leases, join finished jobs into their outputs.",
    discussion: """
      Every --poll-interval: returns chunks whose lease expired (a worker crashed or stalled) to \
      pending with backoff, or marks them dead after their last attempt; marks a job with a dead \
      chunk failed with that chunk's error; and for a job whose chunks are all done, verifies every \
      segment's frame count, joins the segments with the target's audio and the provenance label, \
      publishes OUTPUT atomically, and removes the job's segments (superseded attempts included).
      """)

  @OptionGroup var cluster: ClusterArguments
  @Flag(name: .customLong("once"), help: "Exit when no job is running (instead of waiting for more).")
  var once = false
  @Flag(name: .customLong("log-json"), help: "Log JSON lines.")
  var logJSON = false

  func run() async throws {
    try await reportingErrors {
      let log = EventLog(json: logJSON, role: "coordinator")
      let (store, _) = try cluster.open(log: log)
      let registry = MetricsRegistry()
      registry.describe(ClusterMetrics.coordinator)
      registry.increment(ClusterMetrics.attempts, by: 0, labels: ["outcome": "lease_expired"])
      // Scrapes read the store on their own connection, so they never wait for the main loop.
      let scrapeStore = cluster.metricsPort == nil ? nil : try PostgresChunkStore(url: cluster.database, connectAttempts: 30)
      let metrics = try cluster.startMetrics(registry, log: log) {
        guard let scrapeStore else { return }
        let counts = (try? scrapeStore.chunkCounts()) ?? [:]
        registry.replace(ClusterMetrics.chunks, with: ChunkState.allCases.map { (["state": $0.rawValue], Double(counts[$0] ?? 0)) })
        let jobs = (try? scrapeStore.jobs()) ?? []
        registry.replace(ClusterMetrics.jobs, with: JobState.allCases.map { state in (["state": state.rawValue], Double(jobs.filter { $0.state == state }.count)) })
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        registry.set(ClusterMetrics.coordinatorCPU, Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                       + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6)
      }
      defer { _ = metrics }
      let stop = StopSignal.installed()
      stop.whenRaised { store.connection.interruptWaits() }
      log("started", ["pid": String(getpid())])
      let coordinator = ClusterCoordinator(store: store, storage: cluster.storage, pollInterval: cluster.pollInterval, once: once)
      try onDedicatedThread {
        try coordinator.run(stop: stop) { event in
          switch event {
          case .log(let message, let fields):
            log(message, fields)
          case .leasesExpired(let count):
            log("expired leases returned", ["chunks": String(count)])
            registry.increment(ClusterMetrics.attempts, by: Double(count), labels: ["outcome": "lease_expired"])
          case .jobFinished(_, let published, let joinSeconds):
            if let joinSeconds { registry.observe(ClusterMetrics.joinSeconds, joinSeconds) }
            registry.increment(ClusterMetrics.jobsFinished, labels: ["outcome": published ? "done" : "failed"])
          case .run:
            break
          }
        }
      }
      log("stopped")
    }
  }
}
