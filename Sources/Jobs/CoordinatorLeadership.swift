import Foundation

/// One coordinator leads at a time on a PostgreSQL store, so two replicas are safe: the leader
/// holds a session advisory lock on a connection of its own, the others stand by and try to take
/// it at each poll. A leader that dies (kill -9, a lost node) loses the lock with its connection,
/// and a standby takes it at its next poll (a vanished node: once the server's keepalive, set to
/// about 40 s here, gives up on its connection). Each new leader records a term in
/// `coordinator_terms`, so who led when can be read back from the store.
// @unchecked: its only state is the connection, which serialises callers itself.
public final class CoordinatorLeadership: @unchecked Sendable {
  /// The advisory lock's key (migrations use 7340981, the API's store 7340982).
  static let lockKey = "7340983"
  let connection: PostgresConnection
  public let holder: String

  public init(url: String, holder: String, connectAttempts: Int = 30) throws {
    // A reconnect starts a new session without the lock: `lead` finds that out by asking the
    // server each time, so a lost connection means standing by, never leading on a stale belief.
    connection = try PostgresConnection(url: url, connectAttempts: connectAttempts)
    self.holder = holder
  }

  /// Whether this process leads now: it still holds the lock (asked of the server, since a
  /// reconnected session silently lost it), or it took it just now and recorded a new term.
  public func lead() throws -> Bool {
    let held = try connection.query("""
      SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1
        AND pid = pg_backend_pid() AND granted
      """, [Self.lockKey])
    if held.first?[0] != "0" { return true }
    // The server must notice a leader that vanished without closing its connection (a node
    // powered off, a partition) within about a minute, not after the system's two hours of TCP
    // keepalive: it holds the lock until then. Session settings, so set on every new session.
    try connection.query("SET tcp_keepalives_idle = 20")
    try connection.query("SET tcp_keepalives_interval = 5")
    try connection.query("SET tcp_keepalives_count = 4")
    guard try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [Self.lockKey]).first?[0] == "t" else { return false }
    try connection.query("INSERT INTO coordinator_terms (holder) VALUES ($1)", [holder])
    return true
  }

  /// The term this process leads in (nil when it does not lead).
  public func currentTerm() throws -> Int64? {
    guard try lead() else { return nil }
    return try connection.query("SELECT max(term) FROM coordinator_terms WHERE holder = $1", [holder]).first?[0].flatMap { Int64($0 ?? "") }
  }

  /// Gives the lock up (a coordinator stopping cleanly hands over at once).
  public func resign() {
    _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [Self.lockKey])
  }

  public struct Term: Sendable, Equatable {
    public let term: Int64
    public let holder: String
    /// Seconds since 1970 on the database clock.
    public let startedAt: Double
  }

  /// Every term so far, oldest first.
  public static func terms(on connection: PostgresConnection) throws -> [Term] {
    try connection.query("SELECT term, holder, extract(epoch from started_at) FROM coordinator_terms ORDER BY term").map {
      Term(term: Int64($0[0] ?? "") ?? 0, holder: $0[1] ?? "", startedAt: Double($0[2] ?? "") ?? 0)
    }
  }
}
