import ArgumentParser
import Foundation
import HTTPAPI
import Jobs
import Logging
import Server
import ServiceLifecycle
import Swapping

/// Where the API's data lives: the data folder (embedded SQLite store, assets, outputs) or a
/// PostgreSQL cluster store.
struct ServiceStoreArguments: ParsableArguments {
  @Option(name: .customLong("data-dir"), help: "Folder for the embedded store, uploads, outputs and chunk segments (shared storage in a cluster).")
  var dataDirectory = "swapline-data"

  @Option(name: .customLong("database"), help: "PostgreSQL URL of a cluster store (default: the SQLite store in --data-dir).")
  var database: String?

  var configuration: ServiceConfiguration {
    ServiceConfiguration(dataDirectory: URL(fileURLWithPath: dataDirectory).standardizedFileURL.path)
  }

  /// An interactive command's store: one connection attempt.
  func openServiceStore() throws -> ServiceStore {
    do {
      return try ServiceStore(database: try ServiceAssembly.openStore(configuration, database: database, connectAttempts: 1))
    } catch let error as SwapError {
      throw error
    } catch {
      throw CLIError.failure("cannot open the store: \(error)")
    }
  }
}

/// `swapline serve`: the HTTP API.
struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the HTTP API: tenants upload assets, submit jobs, follow progress, download outputs.",
    discussion: """
      Embedded (default): the SQLite store in --data-dir and --workers in-process workers, so one \
      command is a working service. Cluster: with --database URL this process serves the API only; \
      `swapline worker --storage DATA/segments` and `swapline coordinator` render and join, with \
      --data-dir on storage every node mounts at the same path. Create tenants and their keys with \
      `swapline tenants create`. The contract is served at /openapi.json; see docs/API.md.
      """)

  @OptionGroup var store: ServiceStoreArguments
  @Option(name: .customLong("host"), help: "Address to listen on.")
  var host = "127.0.0.1"
  @Option(name: .customLong("port"), help: "Port to listen on (0: any free port, printed at start).")
  var port = 8080
  @Option(name: .customLong("workers"), help: "In-process workers rendering jobs (embedded mode; 0 with --database).")
  var workers: Int?
  @Option(name: .customLong("retention"), help: "How long assets and outputs are kept: seconds, or a number with s, m, h or d.")
  var retention = "24h"
  @Option(name: .customLong("models-dir"), help: "Folder with the model files (default: the usual search, see `swapline --help`).")
  var modelsDirectory: String?
  @Option(name: .customLong("lease-seconds"), help: "Chunk lease duration of the in-process workers.")
  var leaseSeconds: Double = 30
  @OptionGroup(title: "Execution") var execution: ExecutionArguments
  @Flag(name: .customLong("log-json"), help: "Log JSON lines.")
  var logJSON = false

  static func seconds(_ text: String) -> Double? {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
    if let last = text.last, let unit = units[last], let value = Double(text.dropLast()), value > 0 { return value * unit }
    return Double(text).flatMap { $0 > 0 ? $0 : nil }
  }

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port takes 0 to 65535") }
    guard Self.seconds(retention) != nil else { throw ValidationError("--retention takes seconds or a number with s, m, h or d, like 24h") }
    if let workers, workers < 0 || workers > 64 { throw ValidationError("--workers takes 0 to 64") }
    if let workers, workers > 0, store.database != nil {
      throw ValidationError("--workers applies to the embedded store; with --database run `swapline worker` processes")
    }
    guard leaseSeconds > 0 else { throw ValidationError("--lease-seconds must be more than 0") }
  }

  func run() async throws {
    try await reportingErrors {
      let logger = LogLines.logger(json: logJSON, role: "serve")
      var configuration = store.configuration
      configuration.host = host
      configuration.port = port
      configuration.retentionSeconds = Self.seconds(retention)!
      // A short retention (tests, demos) is swept often enough to be kept.
      configuration.sweepInterval = min(60, max(0.5, configuration.retentionSeconds / 4))
      configuration.modelsDirectory = modelsDirectory.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
      configuration.execution = execution.settings
      configuration.workers = workers ?? (store.database == nil ? 1 : 0)
      try createFolder(configuration.dataDirectory)
      var settings = RunSettings.forThisProcess
      settings.leaseSeconds = leaseSeconds
      settings.workers = max(configuration.workers, 1)
      let threads = settings.threads(configuration.execution, video: true)
      let runtime = try configuration.execution.makeRuntime(threads: threads.pool, locator: settings.ortLocator)
      try configuration.execution.checkProviders(runtime: runtime, logger: logger)
      settings.submissionRuntime = runtime
      let database: any ChunkStore & SQLDatabase
      do { database = try ServiceAssembly.openStore(configuration, database: store.database, logger: logger) } catch {
        throw CLIError.failure("cannot open the store: \(error)")
      }
      let registry = MetricsRegistry()
      let server = APIServer(configuration: configuration, store: try ServiceStore(database: database), jobs: database, settings: settings,
                             metrics: registry, logger: logger)
      let (listenHost, workerCount) = (configuration.host, configuration.workers)
      let storeName = store.database.map(PostgresConnection.redacted) ?? configuration.dataDirectory + "/jobs.sqlite"
      let api = ServiceAssembly.services(server: server, logger: logger) { port in
        logger.info("listening", metadata: ["url": "http://\(listenHost):\(port)", "workers": "\(workerCount)", "store": "\(storeName)"])
      }
      let workerServices = try ServiceAssembly.embeddedWorkers(count: configuration.workers, configuration: configuration, settings: settings,
                                                               runtime: runtime, analysisOnCallerThread: threads.analysisOnCallerThread,
                                                               logger: LogLines.logger(json: logJSON, role: "worker"))
      try await ClusterArguments.serve(api[0], with: Array(api.dropFirst()) + workerServices, logger: logger)
      logger.info("stopped")
    }
  }
}

/// `swapline tenants`: the API's tenants and keys, against the store.
struct Tenants: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tenants",
    abstract: "Create, list, limit, disable and re-key the HTTP API's tenants.",
    subcommands: [Create.self, List.self, SetLimits.self, Disable.self, Enable.self, RotateKey.self])

  /// The limit options of `create` and `set-limits`.
  struct LimitArguments: ParsableArguments {
    @Option(name: .customLong("max-active-jobs"), help: "Jobs queued or processing at once (429 beyond).") var maxActiveJobs: Int?
    @Option(name: .customLong("max-concurrent-jobs"), help: "Jobs rendered at once (the rest wait their turn).") var maxConcurrentJobs: Int?
    @Option(name: .customLong("max-storage-bytes"), help: "Bytes of assets and outputs held (413 beyond).") var maxStorageBytes: Int64?
    @Option(name: .customLong("max-upload-bytes"), help: "Size of one upload (413 beyond).") var maxUploadBytes: Int64?
    @Option(name: .customLong("max-frames"), help: "Frames one video job may render (413 beyond).") var maxFrames: Int?

    func validate() throws {
      for (option, value) in [("--max-active-jobs", maxActiveJobs.map(Int64.init)), ("--max-concurrent-jobs", maxConcurrentJobs.map(Int64.init)),
                              ("--max-storage-bytes", maxStorageBytes), ("--max-upload-bytes", maxUploadBytes), ("--max-frames", maxFrames.map(Int64.init))] {
        if let value, value < 1 { throw ValidationError("\(option) must be at least 1") }
      }
    }

    /// `limits` with the options given laid over it.
    func applied(to limits: TenantLimits) -> TenantLimits {
      var limits = limits
      if let maxActiveJobs { limits.maxActiveJobs = maxActiveJobs }
      if let maxConcurrentJobs { limits.maxConcurrentJobs = maxConcurrentJobs }
      if let maxStorageBytes { limits.maxStorageBytes = maxStorageBytes }
      if let maxUploadBytes { limits.maxUploadBytes = maxUploadBytes }
      if let maxFrames { limits.maxFramesPerJob = maxFrames }
      return limits
    }
  }

  struct SetLimits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-limits",
                                                    abstract: "Change a tenant's limits (the options given; the rest stay). Running servers apply them within a second.")
    @OptionGroup var store: ServiceStoreArguments
    @Argument(help: "Tenant id or name.") var tenant: String
    @OptionGroup var limits: LimitArguments
    func run() async throws {
      try await reportingErrors {
        let opened = try store.openServiceStore()
        guard let found = try opened.tenant(tenant) else { throw CLIError.badInput("no tenant '\(tenant)'") }
        let changed = limits.applied(to: found.limits)
        try opened.setLimits(found.id, changed)
        print("\(found.id) active-jobs<=\(changed.maxActiveJobs) concurrent-jobs<=\(changed.maxConcurrentJobs) storage<=\(changed.maxStorageBytes) "
              + "upload<=\(changed.maxUploadBytes) frames<=\(changed.maxFramesPerJob)")
      }
    }
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a tenant; prints its API key and webhook secret once (only the key's hash is stored).")
    @OptionGroup var store: ServiceStoreArguments
    @Argument(help: "A unique name.") var name: String
    @OptionGroup var limits: LimitArguments
    @Flag(name: .customLong("json"), help: "Print JSON.") var json = false

    func validate() throws {
      guard !name.isEmpty, name.count <= 100 else { throw ValidationError("NAME takes 1 to 100 characters") }
    }

    func run() async throws {
      try await reportingErrors {
        let limits = self.limits.applied(to: TenantLimits())
        let created: (tenant: Tenant, key: String)
        do { created = try store.openServiceStore().createTenant(name: name, limits: limits) } catch let error as ServiceStoreError {
          throw CLIError.badInput("\(error)")
        }
        if json {
          let object: [String: Any] = ["id": created.tenant.id, "name": name, "api_key": created.key, "webhook_secret": created.tenant.webhookSecret]
          print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
          print("tenant: \(created.tenant.id) (\(name))")
          print("api key: \(created.key)")
          print("webhook secret: \(created.tenant.webhookSecret)")
          print("The key is shown only now; store it (swapline tenants rotate-key makes a new one).")
        }
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List tenants and their limits (never keys).")
    @OptionGroup var store: ServiceStoreArguments
    func run() async throws {
      try await reportingErrors {
        for tenant in try store.openServiceStore().tenants() {
          let limits = tenant.limits
          print("\(tenant.id)  \(tenant.name)  \(tenant.disabled ? "disabled" : "enabled")  active-jobs<=\(limits.maxActiveJobs) "
                + "concurrent-jobs<=\(limits.maxConcurrentJobs) "
                + "storage<=\(limits.maxStorageBytes) upload<=\(limits.maxUploadBytes) frames<=\(limits.maxFramesPerJob)")
        }
      }
    }
  }

  struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disable a tenant: its key is refused (401) until enabled again.")
    @OptionGroup var store: ServiceStoreArguments
    @Argument(help: "Tenant id or name.") var tenant: String
    func run() async throws { try await Tenants.setDisabled(tenant, true, store: store) }
  }

  struct Enable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enable a disabled tenant.")
    @OptionGroup var store: ServiceStoreArguments
    @Argument(help: "Tenant id or name.") var tenant: String
    func run() async throws { try await Tenants.setDisabled(tenant, false, store: store) }
  }

  struct RotateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotate-key", abstract: "Give a tenant a new API key; the old one stops working at once.")
    @OptionGroup var store: ServiceStoreArguments
    @Argument(help: "Tenant id or name.") var tenant: String
    func run() async throws {
      try await reportingErrors {
        let opened = try store.openServiceStore()
        guard let found = try opened.tenant(tenant) else { throw CLIError.badInput("no tenant '\(tenant)'") }
        print("api key: \(try opened.rotateKey(found.id))")
      }
    }
  }

  static func setDisabled(_ tenant: String, _ disabled: Bool, store: ServiceStoreArguments) async throws {
    try await reportingErrors {
      let opened = try store.openServiceStore()
      guard let found = try opened.tenant(tenant) else { throw CLIError.badInput("no tenant '\(tenant)'") }
      try opened.setDisabled(found.id, disabled)
      print("\(found.id) \(disabled ? "disabled" : "enabled")")
    }
  }
}
