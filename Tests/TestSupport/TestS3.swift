import Foundation

/// A real S3-compatible server (SeaweedFS's `weed`, from the PyPI wheel in .venv) started for
/// these tests by scripts/s3test.sh on a temporary folder and port, with one identity whose
/// signatures it checks; stopped when the process exits.
public final class TestS3: Sendable {
  public let directory: String
  public let endpoint: URL
  public var port: Int { endpoint.port ?? 0 }
  public let accessKey = "swaplinetest"
  public let secretKey = "swapline-test-secret-key"

  /// `bind`: the address the servers listen on (0.0.0.0 for test network namespaces).
  public init(bind: String = "127.0.0.1") throws {
    var failure: (any Error)?
    for _ in 0..<3 {
      let folder = NSTemporaryDirectory() + "swapline-s3-\(UUID().uuidString.prefix(8))"
      let port = 21_000 + Int(getpid() % 9_000) * 4 % 9_000 + Int.random(in: 0..<250) * 4
      do {
        try TestPostgres.run(projectRoot + "/scripts/s3test.sh", ["start", folder, String(port), accessKey, secretKey, String(getpid())],
                             environment: ["S3TEST_BIND": bind])
        directory = folder
        endpoint = URL(string: "http://127.0.0.1:\(port)")!
        return
      } catch {
        failure = error
        try? Self.script(["stop", folder])
        try? FileManager.default.removeItem(atPath: folder)
      }
    }
    throw failure ?? TestPostgres.TestFailure(description: "cannot start a test S3 server")
  }

  deinit { try? Self.script(["stop", directory]) }

  /// Kills the server and starts it again on the same data (returns when it answers).
  public func restart() throws { try Self.script(["restart", directory]) }
  public func stop() throws { try Self.script(["stop", directory]) }

  static func script(_ arguments: [String]) throws {
    try TestPostgres.run(projectRoot + "/scripts/s3test.sh", arguments)
  }

  /// One server for the whole test process; tests use buckets of their own.
  public static var shared: TestS3 { get throws { try sharedResult.get() } }
  private static let sharedResult = Result<TestS3, any Error> { try TestS3() }
}
