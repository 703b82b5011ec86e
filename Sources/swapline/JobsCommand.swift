import ArgumentParser
import Foundation
import Jobs
import Pipeline
import Swapping

/// `swapline jobs`: the embedded job store of video runs.
struct JobsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "jobs",
    abstract: "List, inspect, retry, cancel or resume video jobs in a job store.",
    discussion: """
      Every video run of `swapline swap` is a job of frame-range chunks kept in a SQLite file in \
      its jobs folder (by default .swapline-jobs next to the output). Running the same swap command \
      again resumes an unfinished job; `jobs resume ID` does the same from the stored command.
      """,
    subcommands: [Submit.self, List.self, Show.self, Retry.self, Cancel.self, Resume.self, Work.self])

  struct StoreArguments: ParsableArguments {
    @Option(name: .customLong("jobs-dir"), help: "Folder holding jobs.sqlite (the embedded store).")
    var directory: String = ".swapline-jobs"

    @Option(name: .customLong("database"), help: "PostgreSQL URL of the cluster store (instead of --jobs-dir).")
    var database: String?

    @Option(name: .customLong("storage"), help: "With --database: the cluster's segments folder or s3://BUCKET/PREFIX (`jobs cancel` removes the job's segments there).")
    var storage: String?

    @OptionGroup(title: "Object storage (with --storage s3://...)") var s3: Storage.Connection

    func open() throws -> JobEngine {
      if let database {
        guard !database.trimmingCharacters(in: .whitespaces).isEmpty else { throw CLIError.badInput("--database needs a PostgreSQL URL") }
        let segments = try SegmentStorage.open(storage ?? ".", connection: s3, role: "jobs")
        return try ClusterArguments.openForSubmission(database: database, storage: segments, leaseSeconds: 30)
      }
      guard FileManager.default.fileExists(atPath: directory + "/jobs.sqlite") else {
        throw CLIError.badInput("no job store in \(directory) (give --jobs-dir: the .swapline-jobs folder next to the output)")
      }
      do { return try JobEngine(directory: directory) } catch let failure as SQLiteChunkStore.Failure where failure.isDamaged {
        throw CLIError.failure("the job store \(directory)/jobs.sqlite is damaged (\(failure)); `swapline swap ... --restart` sets it aside "
                               + "and starts afresh, or remove \(directory) (outputs already written are not affected)")
      } catch {
        throw CLIError.failure("cannot open the job store \(directory)/jobs.sqlite: \(error)")
      }
    }
  }

  static func job(_ id: Int64, in jobs: JobEngine) throws -> JobRecord {
    guard let job = try jobs.store.job(id) else { throw CLIError.badInput("no job \(id) in \(jobs.directory)") }
    return job
  }

  static func summary(_ chunks: [ChunkRecord]) -> String {
    ChunkState.allCases.compactMap { state in
      let count = chunks.filter { $0.state == state }.count
      return count > 0 ? "\(count) \(state.rawValue)" : nil
    }.joined(separator: ", ")
  }

  struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Submit a video swap to the cluster: `jobs submit -s SRC -t VIDEO -o OUT --database URL --storage DIR [swap options]`.",
      discussion: """
        Takes every `swapline swap` option; the same as `swapline swap ... --database URL --storage DIR`. \
        Or `jobs submit --config job.json --database URL --storage DIR`: the run's configuration as JSON \
        (docs/CONFIGURATION.md; keys left out take the defaults, unknown keys are refused). The same \
        swap given either way is the same job.
        """)
    /// The object storage settings that may go beside --config.
    static let connectionOptions = ["--s3-endpoint", "--s3-region", "--s3-retries"]

    @Argument(parsing: .captureForPassthrough, help: "swap options, including --database and --storage; or --config FILE.")
    var arguments: [String] = []

    /// `--config FILE --database URL --storage DIR`: the file's configuration and where the job goes
    /// (nil without --config).
    static func configurationFile(_ arguments: [String]) throws -> (configuration: SwapConfiguration, database: String, storage: String,
                                                                     connection: Storage.Connection)? {
      guard arguments.contains(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else { return nil }
      // Options in the file and on the command line would merge unpredictably (lists add up):
      // only where the job goes is given beside the file.
      var values: [String: String] = [:]
      var position = 0
      while position < arguments.count {
        let argument = arguments[position]
        if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
          values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
          position += 1
          continue
        }
        guard (["--config", "--database", "--storage"] + Self.connectionOptions).contains(argument), position + 1 < arguments.count else {
          throw CLIError.badInput("with --config, give the swap options in the file; only --database URL and --storage DIR go beside it, with --s3-* settings for object storage (got '\(argument)')")
        }
        values[argument] = arguments[position + 1]
        position += 2
      }
      guard let path = values["--config"], let database = values["--database"], let storage = values["--storage"],
        Set(values.keys).subtracting(Self.connectionOptions) == ["--config", "--database", "--storage"]
      else { throw CLIError.badInput("jobs submit --config FILE needs --database URL and --storage DIR, and nothing else beside the file") }
      let connection: Storage.Connection
      do {
        connection = try Storage.Connection.parse(Self.connectionOptions.flatMap { name in values[name].map { [name, $0] } ?? [] })
      } catch { throw CLIError.badInput(Storage.Connection.message(for: error)) }
      guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.badInput("cannot read --config \(path)") }
      do {
        let configuration = try SwapConfiguration.decode(json: data)
        try configuration.validate()
        guard configuration.isVideo else {
          throw CLIError.badInput("\(path): paths.output must be a video (.mp4, .mkv, .mov or .webm): the cluster renders videos")
        }
        return (configuration, database, storage, connection)
      } catch let error as ConfigurationError {
        let key = error.key.isEmpty ? "" : "\(error.key)\(error.option == "--config" ? "" : " (\(error.option))") "
        throw CLIError.badInput("\(path): \(key)\(error.message)")
      }
    }

    func run() async throws {
      try await reportingErrors {
        // Passthrough parsing hands --help to us: show this command's help and swap's options.
        if arguments.contains("--help") || arguments.contains("-h") {
          print(Swapline.helpMessage(for: Submit.self))
          print("\nEvery `swapline swap` option is accepted:\n")
          print(Swapline.helpMessage(for: Swap.self))
          return
        }
        guard arguments.contains("--database"), arguments.contains("--storage") else {
          throw CLIError.badInput("jobs submit needs --database URL and --storage DIR")
        }
        if let (configuration, database, storage, connection) = try Self.configurationFile(arguments) {
          let run = SwapRun(configuration: configuration, settings: .forThisProcess, events: RunEventPrinter(level: .warn).callAsFunction)
          let segments = try SegmentStorage.open(storage, connection: connection, role: "submit")
          defer { segments.removeWorkFolder() }
          let prepared = try run.submit(to: try ClusterArguments.openForSubmission(database: database, storage: segments, leaseSeconds: 30))
          print("job \(prepared.job): \(prepared.resumed ? "already submitted" : "submitted"), \(prepared.chunkCount) chunks (\(prepared.doneChunks) done)")
          return
        }
        // The swap command itself, in this process: the same checks, the same job.
        var swap: Swap
        do { swap = try Swap.parse(arguments) } catch { throw CLIError.badInput(Swap.message(for: error)) }
        try await swap.run()
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One line per job: id, state, chunks by state, output.")
    @OptionGroup var store: StoreArguments

    func run() async throws {
      try await reportingErrors {
        let jobs = try store.open()
        for job in try jobs.store.jobs() {
          let chunks = try jobs.store.chunks(job: job.id)
          let output = (try? JSONDecoder().decode(VideoJobSpec.self, from: Data(job.spec.utf8)))?.output ?? job.name
          print("\(job.id)\t\(job.state.rawValue)\t\(summary(chunks))\t\(output)")
        }
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A job's spec and every chunk's state, attempts and last error.")
    @OptionGroup var store: StoreArguments
    @Argument(help: "Job id.") var id: Int64
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
      try await reportingErrors {
        let jobs = try store.open()
        let job = try JobsCommand.job(id, in: jobs)
        let chunks = try jobs.store.chunks(job: id)
        if json {
          let object: [String: Any] = [
            "id": job.id, "state": job.state.rawValue, "error": job.error ?? NSNull(),
            "spec": (try? JSONSerialization.jsonObject(with: Data(job.spec.utf8))) ?? job.spec,
            "chunks": chunks.map { chunk -> [String: Any] in
              ["index": chunk.index, "start_frame": chunk.startFrame, "frame_count": chunk.frameCount, "state": chunk.state.rawValue,
               "attempt": chunk.attempt, "infrastructure_failures": chunk.infrastructureFailures, "segment": chunk.output ?? NSNull(),
               "last_error": chunk.lastError ?? NSNull(), "owner": chunk.owner ?? NSNull()]
            },
          ]
          let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
          print(String(decoding: data, as: UTF8.self))
          return
        }
        print("job \(job.id): \(job.state.rawValue)\(job.error.map { " (\($0))" } ?? "")")
        if let spec = try? JSONDecoder().decode(VideoJobSpec.self, from: Data(job.spec.utf8)) {
          print("  target  \(spec.target) frames \(spec.startFrame)..<\(spec.endFrame)")
          print("  output  \(spec.output) (\(spec.encoding.encoder.rawValue), quality \(spec.encoding.quality))")
        }
        print("  chunks  \(summary(chunks))")
        for chunk in chunks {
          var line = String(format: "  %5d  frames %6d-%-6d %-8@ attempt %d", chunk.index, chunk.startFrame,
                            chunk.startFrame + chunk.frameCount - 1, chunk.state.rawValue as NSString, chunk.attempt)
          if chunk.infrastructureFailures > 0 { line += ", \(chunk.infrastructureFailures) lost lease(s)" }
          if let owner = chunk.owner { line += chunk.state == .done ? ", rendered by \(owner)" : ", held by \(owner)" }
          if let error = chunk.lastError, chunk.state != .done { line += ": \(error)" }
          print(line)
        }
      }
    }
  }

  struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revive a job's dead chunks (and the job, if it failed or was cancelled).")
    @OptionGroup var store: StoreArguments
    @Argument(help: "Job id.") var id: Int64

    func run() async throws {
      try await reportingErrors {
        let jobs = try store.open()
        _ = try JobsCommand.job(id, in: jobs)
        let revived = try jobs.store.retry(job: id)
        let next = store.database == nil ? "`swapline jobs resume \(id) --jobs-dir \(jobs.directory)` runs it" : "the cluster's workers pick it up"
        print("job \(id): \(revived) chunk\(revived == 1 ? "" : "s") back to pending; \(next)")
      }
    }
  }

  struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Cancel a job: its chunks are no longer handed out, processes rendering it stop within seconds, its segments are removed.",
      discussion: """
        A running `swapline swap` of the job exits 1 saying it was cancelled; nothing is written to its \
        output. `jobs retry ID` and then `jobs resume ID` start a cancelled job again (its chunks are \
        rendered again, since their segments were removed).
        """)
    @OptionGroup var store: StoreArguments
    @Argument(help: "Job id.") var id: Int64

    func run() async throws {
      try await reportingErrors {
        let jobs = try store.open()
        // A join in progress finishes first (then the job is done and stays so).
        let joining = store.database == nil ? try jobs.joinLock(job: id) : nil
        defer { joining?.release() }
        let job = try JobsCommand.job(id, in: jobs)
        guard job.state != .done else { throw CLIError.badInput("job \(id) is already done") }
        try jobs.store.setJobState(id, .cancelled, error: "cancelled by the user")
        // The segments folder is known for the embedded store, and for the cluster only with --storage.
        if store.database == nil || store.storage != nil { jobs.removeSegments(job: id) }
        print("job \(id): cancelled")
      }
    }
  }

  struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run an unfinished job again from its stored configuration, resuming it (as the same swap command would).")
    @OptionGroup var store: StoreArguments
    @Argument(help: "Job id.") var id: Int64
    @Option(name: .customLong("workers"), help: "Worker processes on this machine claiming chunks of the job.")
    var workers: Int = 1
    @Option(name: .customLong("log-level"), help: "error, warn, info (progress, default) or debug.")
    var logLevel: LogLevel = .info

    func run() async throws {
      try await reportingErrors {
        let jobs = try store.open()
        let job = try JobsCommand.job(id, in: jobs)
        guard job.state != .done else { throw CLIError.badInput("job \(id) is already done") }
        guard store.database == nil else {
          throw CLIError.badInput("cluster jobs are run by workers: `swapline jobs retry \(id) --database URL` revives a failed or cancelled one")
        }
        let (configuration, _, directory): (SwapConfiguration, VideoJobSpec, String)
        do { (configuration, _, directory) = try StoredJobWorker.configuration(of: job) } catch StoredJobWorker.Refusal.noConfiguration {
          throw CLIError.badInput("job \(id) was made by an older swapline, which did not store its configuration: run its swap command again (that resumes it)")
        }
        if job.state == .cancelled || job.state == .failed { _ = try jobs.store.retry(job: id) }
        var settings = RunSettings.forThisProcess
        settings.workers = workers
        settings.jobsDirectory = jobs.directory
        settings.workingDirectory = directory
        _ = try runHere(configuration, settings: settings, logLevel: logLevel)
      }
    }
  }

  /// `jobs work ID`: one more process rendering an embedded job's chunks.
  struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Render chunks of a running job in this store, from its stored configuration, until none is left to claim.",
      discussion: """
        What `swap --workers N` starts N - 1 of; also usable by hand to add a process to a long run. It \
        renders and commits chunks like the run that created the job, which joins the output. It stops \
        on SIGINT or SIGTERM (the chunk in flight goes back to pending) and, when its standard input is \
        a pipe, when that pipe closes (its parent went away).
        """)
    @OptionGroup var store: StoreArguments
    @Argument(help: "Job id.") var id: Int64
    @Option(name: .customLong("workers"), help: "Processes rendering on this machine, this one included: the cores are divided by it.")
    var workers: Int = 1
    @Option(name: .customLong("lease-seconds"), help: "Chunk lease duration (renewed every third of it).")
    var leaseSeconds: Double = 30
    @Flag(name: .customLong("no-thread-pinning"), help: "On CPU: do not pin inference and helper threads to cores.")
    var noThreadPinning = false
    @Option(name: .customLong("log-level"), help: "error, warn (default), info or debug.")
    var logLevel: LogLevel = .warn

    func validate() throws {
      guard (1...64).contains(workers) else { throw ValidationError("--workers takes 1 to 64") }
      guard leaseSeconds >= 1 else { throw ValidationError("--lease-seconds must be at least 1") }
    }

    func run() async throws {
      try await reportingErrors {
        // First, so a terminate() from the parent during start-up is not lost.
        var isPipe = stat()
        let stdinIsPipe = fstat(STDIN_FILENO, &isPipe) == 0 && (isPipe.st_mode & S_IFMT) == S_IFIFO
        let stop = StopSignal.installed(stdinEnds: stdinIsPipe)
        guard store.database == nil else { throw CLIError.badInput("cluster jobs are rendered by `swapline worker`") }
        let jobs = try store.open()
        let job = try JobsCommand.job(id, in: jobs)
        guard job.state == .running else { throw CLIError.badInput("job \(id) is \(job.state.rawValue), not running") }
        var settings = RunSettings.forThisProcess
        settings.workers = workers
        settings.leaseSeconds = leaseSeconds
        settings.threadPinning = !noThreadPinning
        let worker = try StoredJobWorker.local(job: job, jobs: jobs, settings: settings)
        let printer = RunEventPrinter(level: logLevel)
        do {
          try onDedicatedThread { _ = try worker.render(job: job, stop: stop, events: printer.callAsFunction) }
        } catch let refusal as StoredJobWorker.Refusal {
          throw CLIError.failure("job \(id): \(refusal)")
        }
      }
    }
  }
}
