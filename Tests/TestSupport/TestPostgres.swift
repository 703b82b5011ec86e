import Foundation
import Jobs

/// A real PostgreSQL server (Debian's binaries) started for these tests on a temporary data
/// directory and port by scripts/pgtest.sh, stopped when the process exits.
public final class TestPostgres: Sendable {
  public let directory: String
  public let url: String

  /// A server of its own (for tests that restart it; others share `shared`).
  /// A random port can be taken: up to five tries, each on a fresh folder and port.
  /// `listen`: addresses to listen on besides loopback (a test network namespace's host side).
  public init(listen: [String] = []) throws {
    var failure: (any Error)?
    for _ in 0..<5 {
      let folder = NSTemporaryDirectory() + "swapline-pg-\(UUID().uuidString.prefix(8))"
      let port = 20_000 + Int(getpid() % 20_000) + Int.random(in: 0..<500)
      do {
        try Self.run(projectRoot + "/scripts/pgtest.sh", ["start", folder, String(port), String(getpid())],
                     environment: listen.isEmpty ? [:] : ["PGTEST_LISTEN": listen.joined(separator: ",")])
        let url = try String(contentsOfFile: folder + "/url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        (directory, self.url) = (folder, url)
        return
      } catch {
        failure = error
        try? Self.script(["stop", folder])
        try? FileManager.default.removeItem(atPath: folder)
      }
    }
    throw failure ?? TestFailure(description: "cannot start a test PostgreSQL server")
  }

  deinit { try? Self.script(["stop", directory]) }

  public func restart() throws { _ = try Self.script(["restart", directory]) }

  /// Stops the server for `seconds`, then starts it again on the same port (returns when it is up).
  public func outage(seconds: Int) throws { _ = try Self.script(["outage", directory, String(seconds)]) }

  /// Runs the script with posix_spawn and waitpid. (Foundation's Process waits for descriptors
  /// the server and its watcher inherit, so its waitUntilExit never returned here.)
  static func script(_ arguments: [String]) throws { try run(projectRoot + "/scripts/pgtest.sh", arguments) }

  /// Runs a test server script to its end (also used by TestS3).
  public static func run(_ script: String, _ arguments: [String], environment: [String: String] = [:]) throws {
    let argv = ([script] + arguments).map { strdup($0) } + [nil]
    let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, argv[0]!, nil, nil, argv, envp) == 0 else { throw TestFailure(description: "cannot run \(script)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    guard status == 0 else { throw TestFailure(description: "\((script as NSString).lastPathComponent) \(arguments) exited with status \(status)") }
  }

  struct TestFailure: Error, CustomStringConvertible { let description: String }

  /// One server for the whole test process; each test uses its own database.
  /// A server that cannot start fails the tests that need one, not the whole test process.
  public static var shared: TestPostgres { get throws { try sharedResult.get() } }
  private static let sharedResult = Result<TestPostgres, any Error> { try TestPostgres() }

  /// A fresh database on the shared server (or on `server`); returns its URL.
  public static func database(on server: TestPostgres? = nil) throws -> String {
    let server = try server ?? shared
    let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
    let admin = try PostgresConnection(url: server.url)
    try admin.query("CREATE DATABASE \(name)")
    return String(server.url.dropLast("postgres".count)) + name
  }
}

