import CPostgres
import Foundation

/// One libpq connection, used by one thread at a time (a lock serialises callers). A query that
/// finds the connection broken (a database restart) reconnects, with backoff, up to
/// `reconnectAttempts` times before failing; the statement itself is retried once, so callers
/// must tolerate at-least-once execution (every store write is fenced or idempotent).
// @unchecked: the libpq connection is used only under `lock`.
public final class PostgresConnection: @unchecked Sendable {
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
    /// The server could not be reached (as opposed to an error in the statement).
    public let isConnectionLost: Bool
    /// The server's SQLSTATE for a statement's error (nil for errors libpq raised itself).
    public var sqlState: String? = nil
  }

  /// SQLSTATEs that mean "this connection is gone or the server is going away", not "the statement
  /// is wrong": class 08 (connection exception), admin/crash shutdown, cannot connect now.
  static func isConnectionState(_ state: String) -> Bool {
    state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
  }

  /// A failed connection attempt worth waiting out. Only what a wait cannot fix fails at once (a
  /// wrong password, user or database name, a malformed URL); anything else (refused, reset,
  /// closed during the handshake, starting up, shutting down) is a server on its way back.
  static func isTransientConnectFailure(_ message: String) -> Bool {
    let permanent = ["authentication failed", "does not exist", "pg_hba.conf", "invalid ", "missing \"=\"", "unrecognized", "password"]
    return !permanent.contains { message.localizedCaseInsensitiveContains($0) }
  }

  public let url: String
  // nonisolated(unsafe): a C pointer, replaced and used only under `lock`.
  nonisolated(unsafe) private var connection: OpaquePointer?
  private let lock = NSRecursiveLock()
  public var reconnectAttempts = 30
  /// Connections made so far (1 + reconnects), for metrics and tests.
  public private(set) var connects = 0
  /// Told about each wait for an unreachable server: (attempt, attempts, reason).
  private let onWait: (@Sendable (Int, Int, String) -> Void)?

  /// Connects, retrying with backoff while the server is unreachable or starting up (a worker may
  /// start while the database restarts). `connectAttempts` 1 fails at once (interactive commands).
  public init(url: String, connectAttempts: Int = 30, onWait: (@Sendable (Int, Int, String) -> Void)? = nil) throws {
    self.url = url
    self.onWait = onWait
    reconnectAttempts = max(1, connectAttempts)
    try reconnect()
    reconnectAttempts = 30
  }

  deinit { PQfinish(connection) }

  private func connect() throws {
    PQfinish(connection)
    connection = PQconnectdb(url)
    guard PQstatus(connection) == CONNECTION_OK else {
      let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
      PQfinish(connection)
      connection = nil
      throw Failure(description: "cannot connect to \(Self.redacted(url)): \(message)", isConnectionLost: Self.isTransientConnectFailure(message))
    }
    connects += 1
    // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
    PQsetNoticeProcessor(connection, { _, _ in }, nil)
  }

  /// The URL without its password, for messages.
  public static func redacted(_ url: String) -> String {
    url.replacingOccurrences(of: #":[^:@/]+@"#, with: ":***@", options: .regularExpression)
  }

  /// Signalled by `interruptWaits`; waiters pass it on, so every wait ends.
  private let wake = DispatchSemaphore(value: 0)

  /// Ends reconnect waits at once, now and from now on (a process shutting down).
  public func interruptWaits() { wake.signal() }

  private func reconnect() throws {
    var delay = 0.1
    var lastError: (any Error)?
    for attempt in 1...max(1, reconnectAttempts) {
      do {
        try connect()
        return
      } catch {
        lastError = error
        guard let failure = error as? Failure, failure.isConnectionLost else { throw error }
        let text = failure.description
        guard attempt < reconnectAttempts else { break }
        onWait?(attempt, reconnectAttempts, text)
        // A stop (interruptWaits) ends the wait: the caller is shutting down, not reconnecting.
        if wake.wait(timeout: .now() + delay) == .success {
          wake.signal()
          break
        }
        delay = min(delay * 2, 2)
      }
    }
    throw lastError ?? Failure(description: "cannot reconnect", isConnectionLost: true)
  }

  /// Runs one statement with text parameters ($1, $2, ...; nil is NULL) and returns its rows as text.
  @discardableResult
  public func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
    lock.lock()
    defer { lock.unlock() }
    do {
      return try run(sql, parameters)
    } catch let failure as Failure where failure.isConnectionLost {
      try reconnect()
      return try run(sql, parameters)
    }
  }

  /// Runs `body` in a transaction on this connection; rolled back if it throws.
  public func transaction<T>(_ body: () throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    if PQstatus(connection) != CONNECTION_OK { try reconnect() }
    try run("BEGIN", [])
    do {
      let result = try body()
      try run("COMMIT", [])
      return result
    } catch {
      _ = try? run("ROLLBACK", [])
      throw error
    }
  }

  private func run(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
    guard let connection, PQstatus(connection) == CONNECTION_OK else {
      throw Failure(description: "connection to \(Self.redacted(url)) lost", isConnectionLost: true)
    }
    // libpq copies the parameter strings; keep the C strings alive for the call.
    let cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
    defer { cStrings.forEach { free($0) } }
    let result = cStrings.withUnsafeBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) { values in
        PQexecParams(connection, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
      }
    }
    defer { PQclear(result) }
    let status = PQresultStatus(result)
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
      let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
      let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }  // PG_DIAG_SQLSTATE
      throw Failure(description: "PostgreSQL: \(message)",
                    isConnectionLost: PQstatus(connection) != CONNECTION_OK || state.map(Self.isConnectionState) == true, sqlState: state)
    }
    var rows: [[String?]] = []
    for row in 0..<PQntuples(result) {
      rows.append((0..<PQnfields(result)).map { column in
        PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
      })
    }
    return rows
  }

  /// Waits up to `timeout` seconds for a NOTIFY on a channel this connection LISTENs on; true if
  /// one arrived. Notifications are hints (not persisted), so callers poll as well.
  public func waitForNotification(timeout: Double) -> Bool {
    lock.lock()
    let socket = PQsocket(connection)
    lock.unlock()
    guard socket >= 0 else {
      if wake.wait(timeout: .now() + timeout) == .success { wake.signal() }
      return false
    }
    var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
    _ = poll(&descriptor, 1, Int32(timeout * 1000))
    lock.lock()
    defer { lock.unlock() }
    PQconsumeInput(connection)
    var received = false
    while let notification = PQnotifies(connection) {
      received = true
      PQfreemem(notification)
    }
    return received
  }
}
