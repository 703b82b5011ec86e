import ArgumentParser
import Foundation
import Logging
import Swapping
import Jobs
import OnnxRuntime
import Media
import Pipeline
import Server
import ServiceLifecycle

/// `--database URL --storage DIR`, shared by the cluster commands.
struct ClusterArguments: ParsableArguments {
  @Option(name: .customLong("database"), help: "PostgreSQL URL of the cluster store, e.g. postgresql://user@host:5432/swapline.")
  var database: String

  @Option(name: .customLong("storage"), help: "Where segments and outputs go: a folder every node mounts at the same path, or s3://BUCKET/PREFIX (with --s3-endpoint; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials).")
  var storage: String

  @OptionGroup(title: "Object storage (with --storage s3://...)") var s3: Storage.Connection

  @Option(name: .customLong("poll-interval"), help: "Seconds between polls of the store (NOTIFY wakes workers sooner).")
  var pollInterval: Double = 1

  @Option(name: .customLong("metrics-port"), help: "Serve Prometheus metrics on this port (0: any free port, printed at start).")
  var metricsPort: Int?

  /// The metrics endpoint's service (a port that cannot be bound ends the process at start).
  func metricsEndpoint(_ registry: MetricsRegistry, logger: Logger, refresh: @escaping @Sendable () -> Void = {}) throws -> [any Service] {
    guard let metricsPort else { return [] }
    return [MetricsEndpoint(port: metricsPort, registry: registry, refresh: refresh) { port in
      logger.info("metrics", metadata: ["url": "http://0.0.0.0:\(port)/metrics"])
    }]
  }

  /// Runs the services until the main one returns (or fails), or SIGTERM/SIGINT shut them down
  /// gracefully.
  static func serve(_ main: any Service, with others: [any Service], logger: Logger) async throws {
    var quiet = logger
    quiet.logLevel = .warning  // the group's own lines (starting, shutting down) are not ours
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(
      services: [.init(service: main, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)]
        + others.map { .init(service: $0) },
      gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet))
    try await group.run()
  }

  func validate() throws {
    guard !database.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--database needs a PostgreSQL URL") }
    guard !storage.isEmpty else { throw ValidationError("--storage needs a folder") }
    guard pollInterval > 0 else { throw ValidationError("--poll-interval must be more than 0 seconds") }
  }

  /// The segments folder or object storage (checked at once: a node with bad storage settings
  /// exits 2 at start rather than failing every chunk).
  func segmentStorage(role: String) throws -> SegmentStorage { try SegmentStorage.open(storage, connection: s3, role: role) }

  /// Long-running services wait for the database (a node may start before it), saying so.
  func open(logger: Logger) throws -> PostgresChunkStore {
    do {
      return try PostgresChunkStore(url: database, connectAttempts: 30) { attempt, attempts, reason in
        logger.warning("waiting for the database (attempt \(attempt)/\(attempts))", metadata: ["reason": "\(reason)"])
      }
    } catch {
      throw CLIError.failure("cannot open the cluster store: \(error)")
    }
  }

  /// For an interactive command (a submission, `jobs list`): one attempt, so an unreachable
  /// server is said at once.
  static func openForSubmission(database: String, storage: SegmentStorage, leaseSeconds: Double) throws -> JobEngine {
    do {
      return JobEngine(store: try PostgresChunkStore(url: database, connectAttempts: 1), directory: storage.directory, leaseSeconds: leaseSeconds,
                       objects: storage.objects)
    } catch {
      throw CLIError.failure("cannot open the cluster store: \(error)")
    }
  }
}

/// swift-log lines on stderr, one per event: `swapline ROLE: message key=value ...`, or with
/// `--log-json` a JSON object per line (time, level, role, message and the metadata).
struct LogLines: LogHandler {
  let json: Bool
  let role: String
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .info

  static func logger(json: Bool, role: String) -> Logger {
    Logger(label: "swapline.\(role)") { _ in LogLines(json: json, role: role) }
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    let (level, message) = (event.level, event.message)
    let fields = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
    let text: String
    if json {
      var object = fields
      object["time"] = ISO8601DateFormatter().string(from: Date())
      object["level"] = level.rawValue
      object["role"] = role
      object["message"] = message.description
      text = String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    } else {
      let prefix = level >= .error ? "error: " : level == .warning ? "warning: " : ""
      text = "swapline \(role): " + prefix + message.description + fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
    }
    FileHandle.standardError.write(Data((text + "\n").utf8))
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
      worker exits. --tenant pins a worker (a pool of them, e.g. one GPU or MIG slice class) to \
      some tenants' jobs.
      """)

  @OptionGroup var cluster: ClusterArguments
  @OptionGroup(title: "Execution") var execution: ExecutionArguments
  @Flag(name: .customLong("once"), help: "Exit when no job has claimable chunks (instead of waiting for more).")
  var once = false
  @Flag(name: .customLong("log-json"), help: "Log JSON lines.")
  var logJSON = false
  @Option(name: .customLong("lease-seconds"), help: "Chunk lease duration; a worker that stops renewing loses its chunk after it.")
  var leaseSeconds: Double = 30
  @Option(name: .customLong("tenant"), help: ArgumentHelp(
    "Render only jobs of this tenant (repeatable; the tenant id as `swapline tenants list` shows it; - for jobs submitted from the command line). Default: every tenant.",
    valueName: "id"))
  var tenants: [String] = []

  func validate() throws {
    if let empty = tenants.first(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
      throw ValidationError("--tenant '\(empty)': give a tenant id, or - for jobs submitted from the command line")
    }
  }

  func run() async throws {
    try await reportingErrors {
      let logger = LogLines.logger(json: logJSON, role: "worker")
      // One ONNX Runtime environment for the worker's life; its global pool sized as for one
      // local worker (the jobs rendered here share it, one at a time).
      var settings = RunSettings.forThisProcess
      settings.leaseSeconds = leaseSeconds
      let node = execution.settings
      let threads = settings.threads(node, video: true)
      let runtime = try node.makeRuntime(threads: threads.pool, locator: settings.ortLocator)
      try node.checkProviders(runtime: runtime, logger: logger)
      let storage = try cluster.segmentStorage(role: "worker")
      defer { storage.removeWorkFolder() }
      let store = try cluster.open(logger: logger)
      let registry = MetricsRegistry()
      registry.describe(ClusterMetrics.worker)
      let labels = ["worker": JobEngine.workerName]
      // Counters exist from the start at 0, so rate() and alerts see a series before the first event.
      registry.set(ClusterMetrics.workerFrames, 0, labels: labels)
      registry.increment(ClusterMetrics.workerStaleCommits, by: 0, labels: labels)
      let worker = ClusterWorker(store: store, storage: storage.directory, objects: storage.objects, settings: settings, execution: node,
                                 pollInterval: cluster.pollInterval, once: once,
                                 tenants: tenants.isEmpty ? nil : Set(tenants.map { $0 == "-" ? "" : $0 }))
      let service = StoppableService("cluster worker") { stop in
        try worker.run(runtime: runtime, analysisOnCallerThread: threads.analysisOnCallerThread, stop: stop, logger: logger) { event in
          if case .run(_, let event, let pool) = event { Self.record(event, pool: pool, registry: registry, labels: labels) }
        }
      }
      logger.info("started", metadata: ["pid": "\(getpid())"])
      try await ClusterArguments.serve(service, with: try cluster.metricsEndpoint(registry, logger: logger), logger: logger)
      logger.info("stopped")
    }
  }

  /// A chunk's outcome into the worker's metrics.
  static func record(_ event: RunEvent, pool: InferencePool?, registry: MetricsRegistry, labels: [String: String]) {
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
    case .chunkFailed(_, let leaseLost):
      attempt(leaseLost ? "lease_lost" : "error")
    case .message, .jobStarted, .frameRendered:
      break
    }
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

      Several coordinators may run against one PostgreSQL database: one leads (an advisory lock), \
      the others stand by and take over within a poll when the leader dies.
      """)

  @OptionGroup var cluster: ClusterArguments
  @Flag(name: .customLong("once"), help: "Exit when no job is running (instead of waiting for more).")
  var once = false
  @Flag(name: .customLong("log-json"), help: "Log JSON lines.")
  var logJSON = false

  func run() async throws {
    try await reportingErrors {
      let logger = LogLines.logger(json: logJSON, role: "coordinator")
      let storage = try cluster.segmentStorage(role: "coordinator")
      defer { storage.removeWorkFolder() }
      let store = try cluster.open(logger: logger)
      let registry = MetricsRegistry()
      registry.describe(ClusterMetrics.coordinator)
      registry.increment(ClusterMetrics.attempts, by: 0, labels: ["outcome": "lease_expired"])
      // Scrapes read the store on their own connection, so they never wait for the main loop.
      let scrapeStore = cluster.metricsPort == nil ? nil : try PostgresChunkStore(url: cluster.database, connectAttempts: 30)
      let metrics = try cluster.metricsEndpoint(registry, logger: logger) {
        guard let scrapeStore else { return }
        let counts = (try? scrapeStore.chunkCounts()) ?? [:]
        registry.replace(ClusterMetrics.chunks, with: ChunkState.allCases.map { (["state": $0.rawValue], Double(counts[$0] ?? 0)) })
        let jobs = (try? scrapeStore.jobs()) ?? []
        registry.replace(ClusterMetrics.jobs, with: JobState.allCases.map { state in (["state": state.rawValue], Double(jobs.filter { $0.state == state }.count)) })
        registry.set(ClusterMetrics.oldestPending, (try? scrapeStore.oldestClaimableSeconds()) ?? 0)
        let pending = (try? scrapeStore.pendingChunksByTenant()) ?? [:]
        // Always one series (tenant "-" at 0 when nothing waits), so sums are never empty.
        registry.replace(ClusterMetrics.pendingChunks, with: (pending.isEmpty ? ["": 0] : pending).map {
          (["tenant": $0.key.isEmpty ? "-" : $0.key], Double($0.value))
        })
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        registry.set(ClusterMetrics.coordinatorCPU, Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                       + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6)
      }
      let coordinator = ClusterCoordinator(store: store, storage: storage.directory, objects: storage.objects, pollInterval: cluster.pollInterval,
                                           once: once, faults: FaultInjection(environment: ProcessInfo.processInfo.environment))
      let service = StoppableService("cluster coordinator") { stop in
        try coordinator.run(stop: stop, logger: logger) { event in
          switch event {
          case .leasesExpired(let count):
            registry.increment(ClusterMetrics.attempts, by: Double(count), labels: ["outcome": "lease_expired"])
          case .jobFinished(_, let published, let joinSeconds):
            if let joinSeconds { registry.observe(ClusterMetrics.joinSeconds, joinSeconds) }
            registry.increment(ClusterMetrics.jobsFinished, labels: ["outcome": published ? "done" : "failed"])
          case .leadership(let leads):
            registry.set(ClusterMetrics.leading, leads ? 1 : 0)
          case .run:
            break
          }
        }
      }
      logger.info("started", metadata: ["pid": "\(getpid())"])
      try await ClusterArguments.serve(service, with: metrics, logger: logger)
      logger.info("stopped")
    }
  }
}
