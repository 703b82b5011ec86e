import ArgumentParser
import Foundation
import Jobs
import Media
import Pipeline

/// `--database URL --storage DIR`, shared by the cluster commands.
struct ClusterArguments: ParsableArguments {
  @Option(name: .customLong("database"), help: "PostgreSQL URL of the cluster store, e.g. postgresql://user@host:5432/swapline.")
  var database: String

  @Option(name: .customLong("storage"), help: "Shared folder (mounted at the same path by every node) for chunk segments.")
  var storage: String

  @Option(name: .customLong("poll-interval"), help: "Seconds between polls of the store (NOTIFY wakes workers sooner).")
  var pollInterval: Double = 1

  func open() throws -> (store: PostgresChunkStore, engine: JobEngine) {
    do {
      try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
      let store = try PostgresChunkStore(url: database)
      return (store, JobEngine(store: store, directory: storage))
    } catch {
      throw CLIError.failure("cannot open the cluster store: \(error)")
    }
  }
}

/// Logs one line per event, as text or JSON lines.
struct EventLog {
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
      Waits for jobs in the cluster store (LISTEN/NOTIFY, with polling as a fallback). For a job
      with claimable chunks it runs the job's swap command in the job's folder as a child process
      (`swapline swap ... --worker-only`), which claims, renders and commits chunks with fenced
      leases until none is left, exactly like a local run. A worker whose model files differ from
      the submitted job's (content hashes) refuses that job. SIGTERM or SIGINT: the chunk in
      flight is abandoned and its lease released, then the worker exits.
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
      let (store, _) = try cluster.open()
      let log = EventLog(json: logJSON, role: "worker")
      try store.listen()
      let stop = StopSignal.install()
      var refused = Set<Int64>()
      log("started", ["pid": String(getpid())])
      while !stop.raised {
        guard let jobID = try store.claimableJob(excluding: refused) else {
          if once { break }
          _ = store.connection.waitForNotification(timeout: cluster.pollInterval)
          continue
        }
        guard let job = try store.job(jobID), let spec = try? JSONDecoder().decode(VideoJobSpec.self, from: Data(job.spec.utf8)),
          let argumentsText = spec.options["arguments"], let directory = spec.options["directory"],
          let arguments = try? JSONDecoder().decode([String].self, from: Data(argumentsText.utf8))
        else {
          refused.insert(jobID)
          log("job has no command; skipped", ["job": String(jobID)])
          continue
        }
        log("working on job", ["job": String(jobID)])
        var extra = ["--worker-only", "--database", cluster.database, "--storage", cluster.storage, "--log-level", "warn",
                     "--lease-seconds", String(leaseSeconds)]
        extra += execution.providers.flatMap { ["--execution-providers", $0.rawValue] }.prefix(2)
        extra += ["--execution-device-ids"] + execution.deviceIDs.map(String.init)
        if let threads = execution.threadCountOption { extra += ["--execution-thread-count", String(threads)] }
        let status = runChild(arguments + extra, directory: directory, stop: stop)
        if status == 3 {
          refused.insert(jobID)
          log("refused job: model files or inputs differ from the submitted job's", ["job": String(jobID)])
        } else if status != 0 {
          log("job run ended with an error", ["job": String(jobID), "status": String(status)])
          try await Task.sleep(for: .seconds(cluster.pollInterval))
        }
      }
      log("stopped")
    }
  }

  /// Runs the job's swap command; SIGTERM/SIGINT to this worker are passed on to it.
  func runChild(_ arguments: [String], directory: String, stop: StopSignal) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    do { try process.run() } catch { return 1 }
    var forwarded = false
    while process.isRunning {
      if stop.raised && !forwarded {
        process.terminate()
        forwarded = true
      }
      Thread.sleep(forTimeInterval: 0.1)
    }
    return process.terminationStatus
  }
}

/// `swapline coordinator`: reaps expired leases and joins finished jobs.
struct Coordinator: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Cluster coordinator: reap expired leases, join finished jobs into their outputs.",
    discussion: """
      Every --poll-interval: returns chunks whose lease expired (a worker crashed or stalled) to
      pending with backoff, or marks them dead after their last attempt; marks a job with a dead
      chunk failed with that chunk's error; and for a job whose chunks are all done, verifies every
      segment's frame count, joins the segments with the target's audio and the provenance label,
      publishes OUTPUT atomically, and removes the job's segments (superseded attempts included).
      """)

  @OptionGroup var cluster: ClusterArguments
  @Flag(name: .customLong("once"), help: "Exit when no job is running (instead of waiting for more).")
  var once = false
  @Flag(name: .customLong("log-json"), help: "Log JSON lines.")
  var logJSON = false

  func run() async throws {
    try await reportingErrors {
      let (store, engine) = try cluster.open()
      let log = EventLog(json: logJSON, role: "coordinator")
      let stop = StopSignal.install()
      log("started", ["pid": String(getpid())])
      while !stop.raised {
        let reaped = try store.reapExpiredLeases()
        if reaped > 0 { log("expired leases returned", ["chunks": String(reaped)]) }
        let running = try store.jobs().filter { $0.state == .running }
        for job in running {
          switch try engine.completion(job: job.id) {
          case .waiting:
            continue
          case .failed(let reason):
            try store.setJobState(job.id, .failed, error: reason)
            log("job failed", ["job": String(job.id), "error": reason])
          case .complete:
            do {
              let spec = try JSONDecoder().decode(VideoJobSpec.self, from: Data(job.spec.utf8))
              let info = try MediaProbe.probe(spec.target)
              try engine.finalize(job: job.id, spec: spec, info: info, verify: true)
              log("job done", ["job": String(job.id), "output": spec.output])
            } catch {
              try store.setJobState(job.id, .failed, error: "joining segments: \(error)")
              log("job failed at the join", ["job": String(job.id), "error": "\(error)"])
            }
          }
        }
        if once && running.isEmpty { break }
        try await Task.sleep(for: .seconds(cluster.pollInterval))
      }
      log("stopped")
    }
  }
}
