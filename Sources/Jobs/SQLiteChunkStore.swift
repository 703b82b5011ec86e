import CSQLite
import Foundation

/// A SQLite-backed chunk store: one file, any number of processes (each with its own store),
/// write transactions taken IMMEDIATE so claims serialise, and a busy timeout so waiting
/// writers retry instead of failing.
// @unchecked: the handle is used only under `lock`.
public final class SQLiteChunkStore: ChunkStore, SQLDatabase, @unchecked Sendable {
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
    /// The file is not a usable SQLite database (damaged, truncated, or something else).
    public var isDamaged = false
  }

  /// One connection per store; a recursive lock groups a transaction's statements when threads
  /// share the store (separate processes use separate stores and SQLite's own locking).
  // nonisolated(unsafe): a C pointer, used only under `lock`.
  nonisolated(unsafe) private let handle: OpaquePointer
  private let lock = NSRecursiveLock()
  public let policy: RetryPolicy
  let now: @Sendable () -> Double
  let random: @Sendable () -> Double

  public init(path: String, policy: RetryPolicy = RetryPolicy(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
              random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) throws {
    self.policy = policy
    self.now = now
    self.random = random
    var handle: OpaquePointer?
    guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil) == SQLITE_OK else {
      let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
      sqlite3_close(handle)
      throw Failure(description: "cannot open job store \(path): \(message)")
    }
    sqlite3_busy_timeout(handle, 10_000)
    self.handle = handle!
    try execute("PRAGMA journal_mode=WAL")
    try migrate()
  }

  deinit {
    for statement in prepared.values { sqlite3_finalize(statement) }
    sqlite3_close(handle)
  }

  /// Prepared single statements by their text, reused (reset, rebound): preparing was most of a
  /// small query's cost (the API's status requests, claims). Used only under `lock`.
  nonisolated(unsafe) private var prepared: [String: OpaquePointer] = [:]

  /// Forward-only, numbered migrations recorded in schema_migrations.
  static let migrations: [String] = [
    """
    CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE chunks (
      job_id INTEGER NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL, start_frame INTEGER NOT NULL,
      frame_count INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempt INTEGER NOT NULL DEFAULT 0,
      lease_token INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_expires_at REAL, available_at REAL NOT NULL DEFAULT 0,
      output TEXT, last_error TEXT, infrastructure_failures INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, idx));
    CREATE INDEX chunks_claimable ON chunks (state, available_at);
    """,
    """
    ALTER TABLE jobs ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE jobs ADD COLUMN state TEXT NOT NULL DEFAULT 'running';
    ALTER TABLE jobs ADD COLUMN error TEXT;
    ALTER TABLE jobs ADD COLUMN updated_at REAL NOT NULL DEFAULT 0;
    CREATE INDEX jobs_fingerprint ON jobs (fingerprint);
    """,
    """
    ALTER TABLE jobs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN started_at REAL;
    ALTER TABLE chunks ADD COLUMN frames_done INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE tenant_claims (tenant TEXT PRIMARY KEY, last_claim_at REAL NOT NULL, max_concurrent_jobs INTEGER);
    """,
  ]

  func migrate() throws {
    try transaction {
      try execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
      let applied = try query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?[0].flatMap(Int.init) ?? 0
      for (offset, sql) in Self.migrations.enumerated() where offset + 1 > applied {
        try execute(sql)
        try execute("INSERT INTO schema_migrations (version) VALUES (\(offset + 1))")
      }
    }
  }

  public func createJob(name: String, fingerprint: String, spec: String, tenant: String, chunks: [(startFrame: Int, frameCount: Int)]) throws -> Int64 {
    try transaction {
      let time = now()
      try execute("INSERT INTO jobs (name, fingerprint, spec, tenant, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                  [.text(name), .text(fingerprint), .text(spec), .text(tenant), .real(time), .real(time)])
      let id = sqlite3_last_insert_rowid(handle)
      for (index, chunk) in chunks.enumerated() {
        try execute("INSERT INTO chunks (job_id, idx, start_frame, frame_count) VALUES (?, ?, ?, ?)",
                    [.integer(id), .integer(Int64(index)), .integer(Int64(chunk.startFrame)), .integer(Int64(chunk.frameCount))])
      }
      return id
    }
  }

  public func claim(worker: String, job: Int64?, leaseSeconds: Double) throws -> ChunkLease? {
    let time = now()
    let rows = try transaction { () throws -> [[String?]] in
      // The job: the one asked for, or the first claimable one in fair order.
      guard let chosen = try job ?? fairlyOrderedClaimableJobs(time: time).first else { return [] }
      let rows = try query("""
        UPDATE chunks SET state = 'leased', attempt = attempt + 1, lease_token = lease_token + 1, lease_owner = ?,
          lease_expires_at = ?, frames_done = 0
        WHERE rowid = (SELECT chunks.rowid FROM chunks JOIN jobs ON jobs.id = chunks.job_id
                       WHERE chunks.state = 'pending' AND chunks.available_at <= ? AND jobs.state = 'running' AND jobs.id = ?
                       ORDER BY chunks.idx LIMIT 1)
        RETURNING job_id, idx, start_frame, frame_count, attempt, lease_token
        """, [.text(worker), .real(time + leaseSeconds), .real(time), .integer(chosen)])
      if !rows.isEmpty {
        try execute("UPDATE jobs SET started_at = COALESCE(started_at, ?) WHERE id = ?", [.real(time), .integer(chosen)])
        try execute("""
          INSERT INTO tenant_claims (tenant, last_claim_at) SELECT tenant, ? FROM jobs WHERE id = ?
          ON CONFLICT (tenant) DO UPDATE SET last_claim_at = excluded.last_claim_at
          """, [.real(time), .integer(chosen)])
      }
      return rows
    }
    guard let row = rows.first, row.count == 6 else { return nil }
    let values = row.map { Int64($0 ?? "") ?? 0 }
    return ChunkLease(jobID: values[0], index: Int(values[1]), startFrame: Int(values[2]), frameCount: Int(values[3]),
                      attempt: Int(values[4]), token: values[5])
  }

  /// Running jobs with a chunk claimable at `time`, in `FairShare` order.
  private func fairlyOrderedClaimableJobs(time: Double) throws -> [Int64] {
    let candidates = try query("""
      SELECT DISTINCT chunks.job_id, jobs.tenant FROM chunks JOIN jobs ON jobs.id = chunks.job_id
      WHERE chunks.state = 'pending' AND chunks.available_at <= ? AND jobs.state = 'running'
      """, [.real(time)]).map { (job: Int64($0[0] ?? "") ?? 0, tenant: $0[1] ?? "") }
    let (running, lastClaim, limits) = try FairShare.read { try query($0) }
    return FairShare.order(candidates, running: running, lastClaim: lastClaim, concurrentJobLimit: limits)
  }

  public func renew(_ lease: ChunkLease, leaseSeconds: Double) throws -> Bool {
    try fencedUpdate("UPDATE chunks SET lease_expires_at = ?", [.real(now() + leaseSeconds)], lease)
  }

  public func renew(_ lease: ChunkLease, leaseSeconds: Double, framesDone: Int) throws -> Bool {
    try fencedUpdate("UPDATE chunks SET lease_expires_at = ?, frames_done = ?", [.real(now() + leaseSeconds), .integer(Int64(framesDone))], lease)
  }

  public func complete(_ lease: ChunkLease, output: String) throws -> Bool {
    // The owner stays recorded: who rendered the chunk.
    try fencedUpdate("UPDATE chunks SET state = 'done', output = ?, frames_done = frame_count", [.text(output)], lease)
  }

  public func fail(_ lease: ChunkLease, error: String) throws -> ChunkState? {
    let next = ChunkLifecycle(policy: policy).transition(from: .leased, attempt: lease.attempt, on: .fail, random: random())!
    let changed = try fencedUpdate("UPDATE chunks SET state = ?, available_at = ?, last_error = ?, lease_owner = NULL",
                                   [.text(next.state.rawValue), .real(now() + next.delay), .text(error)], lease)
    return changed ? next.state : nil
  }

  public func giveBack(_ lease: ChunkLease, reason: String) throws -> Bool {
    let next = ChunkLifecycle(policy: policy).transition(from: .leased, attempt: lease.attempt, on: .giveBack, random: random())!
    return try fencedUpdate("""
      UPDATE chunks SET state = 'pending', attempt = ?, available_at = ?, last_error = ?, lease_owner = NULL,
        infrastructure_failures = infrastructure_failures + 1
      """, [.integer(Int64(next.attempt)), .real(now() + next.delay), .text(reason)], lease)
  }

  public func reapExpiredLeases() throws -> Int {
    let time = now()
    return try transaction {
      let expired = try query("SELECT job_id, idx, attempt FROM chunks WHERE state = 'leased' AND lease_expires_at < ?", [.real(time)])
      let lifecycle = ChunkLifecycle(policy: policy)
      for row in expired {
        let next = lifecycle.transition(from: .leased, attempt: Int(row[2] ?? "") ?? 0, on: .leaseExpired, random: random())!
        try execute("""
          UPDATE chunks SET state = ?, available_at = ?, last_error = 'lease expired', lease_owner = NULL,
            infrastructure_failures = infrastructure_failures + 1
          WHERE job_id = ? AND idx = ? AND state = 'leased'
          """, [.text(next.state.rawValue), .real(time + next.delay), .integer(Int64(row[0] ?? "") ?? 0), .integer(Int64(row[1] ?? "") ?? 0)])
      }
      return expired.count
    }
  }

  public func chunks(job: Int64) throws -> [ChunkRecord] {
    try query("""
      SELECT \(ChunkRecord.columns) FROM chunks WHERE job_id = ? ORDER BY idx
      """, [.integer(job)]).map(ChunkRecord.init(row:))
  }

  public func retry(job: Int64) throws -> Int {
    try transaction {
      try execute("UPDATE chunks SET state = 'pending', attempt = 0, available_at = 0 WHERE job_id = ? AND state = 'dead'", [.integer(job)])
      let revived = Int(sqlite3_changes(handle))
      try execute("UPDATE jobs SET state = 'running', error = NULL, updated_at = ? WHERE id = ? AND state IN ('failed', 'cancelled')",
                  [.real(now()), .integer(job)])
      return revived
    }
  }

  public func releaseLeases(job: Int64, owners: Set<String>) throws -> Int {
    guard !owners.isEmpty else { return 0 }
    return try transaction {
      var released = 0
      for owner in owners.sorted() {
        try execute("""
          UPDATE chunks SET state = 'pending', available_at = 0, last_error = 'worker gone', lease_owner = NULL,
            infrastructure_failures = infrastructure_failures + 1
          WHERE job_id = ? AND state = 'leased' AND lease_owner = ?
          """, [.integer(job), .text(owner)])
        released += Int(sqlite3_changes(handle))
      }
      return released
    }
  }

  static let jobColumns = "id, name, fingerprint, spec, state, error, created_at, updated_at, tenant, started_at"

  public func jobs() throws -> [JobRecord] {
    try query("SELECT \(Self.jobColumns) FROM jobs ORDER BY id").map(JobRecord.init(row:))
  }

  public func job(_ id: Int64) throws -> JobRecord? {
    try query("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.integer(id)]).first.map(JobRecord.init(row:))
  }

  public func findJob(fingerprint: String, states: Set<JobState>) throws -> JobRecord? {
    try query("SELECT \(Self.jobColumns) FROM jobs WHERE fingerprint = ? ORDER BY id DESC", [.text(fingerprint)])
      .map(JobRecord.init(row:)).first { states.contains($0.state) }
  }

  public func claimableJob(excluding excluded: Set<Int64>) throws -> Int64? {
    try transaction { try fairlyOrderedClaimableJobs(time: now()).first { !excluded.contains($0) } }
  }

  public func reopen(job: Int64, indices: [Int], reason: String) throws -> Int {
    try transaction {
      var changed = 0
      for index in indices {
        try execute("""
          UPDATE chunks SET state = 'pending', attempt = 0, available_at = 0, output = NULL, lease_owner = NULL, last_error = ?, frames_done = 0
          WHERE job_id = ? AND idx = ? AND state = 'done' AND (SELECT state FROM jobs WHERE id = job_id) = 'running'
          """, [.text(reason), .integer(job), .integer(Int64(index))])
        changed += Int(sqlite3_changes(handle))
      }
      return changed
    }
  }

  public func transitionJob(_ id: Int64, from: JobState, to state: JobState, error: String?) throws -> Bool {
    try transaction {
      try execute("UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE id = ? AND state = ?",
                  [.text(state.rawValue), error.map { .text($0) } ?? .null, .real(now()), .integer(id), .text(from.rawValue)])
      return sqlite3_changes(handle) == 1
    }
  }

  public func setConcurrentJobLimit(tenant: String, limit: Int?) throws {
    try transaction {
      try execute("""
        INSERT INTO tenant_claims (tenant, last_claim_at, max_concurrent_jobs) VALUES (?, 0, ?)
        ON CONFLICT (tenant) DO UPDATE SET max_concurrent_jobs = excluded.max_concurrent_jobs
        """, [.text(tenant), limit.map { .integer(Int64($0)) } ?? .null])
    }
  }

  public func setJobState(_ id: Int64, _ state: JobState, error: String?) throws {
    try transaction {
      try execute("UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE id = ?",
                  [.text(state.rawValue), error.map { .text($0) } ?? .null, .real(now()), .integer(id)])
    }
  }

  // MARK: SQLite plumbing

  public var isPostgres: Bool { false }

  public func rows(_ sql: String, _ values: [SQLValue]) throws -> [[String?]] { try query(sql, values) }

  public func inTransaction<T>(_ body: () throws -> T) throws -> T { try transaction(body) }

  typealias Value = SQLValue

  private func fencedUpdate(_ sql: String, _ values: [Value], _ lease: ChunkLease) throws -> Bool {
    try transaction {
      try execute(sql + " WHERE job_id = ? AND idx = ? AND state = 'leased' AND lease_token = ?",
                  values + [.integer(lease.jobID), .integer(Int64(lease.index)), .integer(lease.token)])
      return sqlite3_changes(handle) == 1
    }
  }

  /// The connection's last error, classified when it happens (a later ROLLBACK resets the code).
  private func failure() -> Failure {
    Failure(description: "SQL error: \(String(cString: sqlite3_errmsg(handle)))",
            isDamaged: [SQLITE_CORRUPT, SQLITE_NOTADB].contains(sqlite3_errcode(handle) & 0xff))
  }

  /// BEGIN IMMEDIATE takes the write lock up front, so two claimers never read the same row.
  private func transaction<T>(_ body: () throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    try execute("BEGIN IMMEDIATE")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  private func execute(_ sql: String, _ values: [Value] = []) throws {
    _ = try query(sql, values)
  }

  /// Runs every statement in `sql` (binding `values` to the last one) and returns its rows as text.
  /// A single statement is prepared once and kept (`prepared`).
  @discardableResult
  private func query(_ sql: String, _ values: [Value] = []) throws -> [[String?]] {
    lock.lock()
    defer { lock.unlock() }
    if let statement = prepared[sql] { return try run(statement, values, keep: true) }
    var rows: [[String?]] = []
    var remaining = sql
    var first = true
    // (A byte scan: Foundation's trimming was a measurable share of a status request.)
    while remaining.utf8.contains(where: { $0 > 0x20 }) {
      var statement: OpaquePointer?
      var tail: UnsafePointer<CChar>?
      let status = remaining.withCString { text -> Int32 in
        let result = sqlite3_prepare_v2(handle, text, -1, &statement, &tail)
        let consumed = tail.map { $0 - text } ?? strlen(text)
        remaining = String(remaining.utf8.dropFirst(consumed))!
        return result
      }
      guard status == SQLITE_OK else { throw failure() }
      guard let statement else { continue }
      let single = first && !remaining.utf8.contains(where: { $0 > 0x20 })
      first = false
      let keep = single && prepared.count < 256
      if keep { prepared[sql] = statement }
      rows = try run(statement, values, keep: keep)
    }
    return rows
  }

  /// Binds, steps to the end and collects the rows; a kept statement is reset for its next use,
  /// any other finalized.
  private func run(_ statement: OpaquePointer, _ values: [Value], keep: Bool) throws -> [[String?]] {
    defer {
      if keep {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
      } else {
        sqlite3_finalize(statement)
      }
    }
    if sqlite3_bind_parameter_count(statement) > 0 {
      for (position, value) in values.enumerated() {
        let index = Int32(position + 1)
        switch value {
        case .integer(let number): sqlite3_bind_int64(statement, index, number)
        case .real(let number): sqlite3_bind_double(statement, index, number)
        case .text(let text): sqlite3_bind_text(statement, index, text, -1, swapline_sqlite_transient())
        case .null: sqlite3_bind_null(statement, index)
        }
      }
    }
    var rows: [[String?]] = []
    let columns = sqlite3_column_count(statement)
    while true {
      let step = sqlite3_step(statement)
      if step == SQLITE_DONE { break }
      guard step == SQLITE_ROW else { throw failure() }
      rows.append((0..<columns).map { column in sqlite3_column_text(statement, column).map { String(cString: $0) } })
    }
    return rows
  }
}
