import Foundation
import Hummingbird
import Jobs
import Logging
import OnnxRuntime
import Pipeline
import Server
import ServiceLifecycle
import Swapping

/// Everything `swapline serve` runs, built from typed values: the API application, its webhook
/// dispatcher and retention sweeper, and (embedded mode) in-process workers and a coordinator
/// over the same SQLite store. With a PostgreSQL store it serves the API only.
public enum ServiceAssembly {
  /// A store connection of its own (each service and worker gets one): SQLite in the data
  /// folder, or the PostgreSQL cluster store.
  public static func openStore(_ configuration: ServiceConfiguration, database: String?, connectAttempts: Int = 30,
                               logger: Logger? = nil) throws -> any ChunkStore & SQLDatabase {
    if let database {
      return try PostgresChunkStore(url: database, connectAttempts: connectAttempts) { attempt, attempts, reason in
        logger?.warning("waiting for the database (attempt \(attempt)/\(attempts))", metadata: ["reason": "\(reason)"])
      }
    }
    try createFolder(configuration.dataDirectory)
    return try SQLiteChunkStore(path: configuration.dataDirectory + "/jobs.sqlite")
  }

  /// The API's services, the application first (it ends the group when it stops).
  public static func services(server: APIServer, logger: Logger, onListening: @escaping @Sendable (Int) -> Void) -> [any Service] {
    let configuration = server.configuration
    var quiet = logger
    quiet.logLevel = .warning
    let application = Application(
      router: server.router(),
      configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "swapline"),
      onServerRunning: { channel in onListening(channel.localAddress?.port ?? configuration.port) }, logger: quiet)
    return [application, WebhookDispatcher(server: server), RetentionSweeper(server: server), ShutdownNotice(server: server)]
  }

  /// `count` workers and one coordinator rendering the embedded store's jobs in this process,
  /// each on its own dedicated thread and store connection, sharing one ONNX Runtime.
  public static func embeddedWorkers(count: Int, configuration: ServiceConfiguration, settings: RunSettings, runtime: OrtRuntime,
                                     analysisOnCallerThread: Bool, logger: Logger) throws -> [any Service] {
    guard count > 0 else { return [] }
    var services: [any Service] = []
    for index in 0..<count {
      let worker = ClusterWorker(store: try openStore(configuration, database: nil), storage: configuration.segmentsDirectory, settings: settings,
                                 execution: configuration.execution, pollInterval: configuration.pollInterval, once: false)
      var workerLogger = logger
      workerLogger[metadataKey: "worker"] = "\(index + 1)"
      let named = workerLogger
      services.append(StoppableService("worker \(index + 1)") { stop in
        try worker.run(runtime: runtime, analysisOnCallerThread: analysisOnCallerThread, stop: stop, logger: named) { _ in }
      })
    }
    let coordinator = ClusterCoordinator(store: try openStore(configuration, database: nil), storage: configuration.segmentsDirectory,
                                         pollInterval: configuration.pollInterval, once: false)
    services.append(StoppableService("coordinator") { stop in try coordinator.run(stop: stop, logger: logger) { _ in } })
    return services
  }
}

/// Raises the server's `stopping` on graceful shutdown, so long-lived responses (event streams)
/// end and the application can finish.
struct ShutdownNotice: Service {
  let server: APIServer
  func run() async throws {
    try? await gracefulShutdown()
    server.stopping.store(true, ordering: .relaxed)
  }
}
