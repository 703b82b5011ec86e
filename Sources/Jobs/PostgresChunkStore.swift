import Foundation

/// The chunk store of cluster mode on PostgreSQL: the same state machine as SQLiteChunkStore,
/// with claims by `FOR UPDATE SKIP LOCKED` (concurrent claimers skip each other's rows instead of
/// waiting), every time taken from the database clock (`now()`), and NOTIFY on `swapline_chunks`
/// whenever chunks become claimable (a wake-up hint; workers poll as well).
// @unchecked: its only state is the connection, which serialises callers itself.
public final class PostgresChunkStore: ChunkStore, @unchecked Sendable {
  public let connection: PostgresConnection
  public let policy: RetryPolicy
  public static let channel = "swapline_chunks"

  /// `connectAttempts`: 1 for interactive commands (fail fast), more for long-running services,
  /// which report each wait through `onWait` (attempt, attempts, reason).
  public init(url: String, policy: RetryPolicy = RetryPolicy(), connectAttempts: Int = 30,
              onWait: (@Sendable (Int, Int, String) -> Void)? = nil) throws {
    connection = try PostgresConnection(url: url, connectAttempts: connectAttempts, onWait: onWait)
    self.policy = policy
    try migrate()
  }

  /// Forward-only, numbered migrations recorded in swapline_schema, applied under an advisory lock
  /// so that a coordinator and workers starting together do not race.
  static let migrations: [String] = [
    """
    CREATE TABLE jobs (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, fingerprint TEXT NOT NULL DEFAULT '',
      spec TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL DEFAULT 'running', error TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now());
    CREATE INDEX jobs_fingerprint ON jobs (fingerprint);
    CREATE TABLE chunks (job_id BIGINT NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL, start_frame INTEGER NOT NULL,
      frame_count INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempt INTEGER NOT NULL DEFAULT 0,
      lease_token BIGINT NOT NULL DEFAULT 0, lease_owner TEXT, lease_expires_at TIMESTAMPTZ,
      available_at TIMESTAMPTZ NOT NULL DEFAULT now(), output TEXT, last_error TEXT,
      infrastructure_failures INTEGER NOT NULL DEFAULT 0, frames_done INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (job_id, idx));
    CREATE INDEX chunks_claimable ON chunks (state, available_at);
    """,
    """
    ALTER TABLE jobs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN started_at TIMESTAMPTZ;
    CREATE TABLE tenant_claims (tenant TEXT PRIMARY KEY, last_claim_at DOUBLE PRECISION NOT NULL, max_concurrent_jobs INTEGER)
    """,
    """
    CREATE TABLE coordinator_terms (term BIGSERIAL PRIMARY KEY, holder TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL DEFAULT now())
    """,
  ]

  func migrate() throws {
    try connection.transaction {
      try connection.query("SELECT pg_advisory_xact_lock(7340981)")
      try connection.query("CREATE TABLE IF NOT EXISTS swapline_schema (version INTEGER PRIMARY KEY)")
      let applied = Int(try connection.query("SELECT COALESCE(MAX(version), 0) FROM swapline_schema").first?[0] ?? "0") ?? 0
      for (offset, sql) in Self.migrations.enumerated() where offset + 1 > applied {
        for statement in sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
          try connection.query(statement)
        }
        try connection.query("INSERT INTO swapline_schema (version) VALUES ($1)", [String(offset + 1)])
      }
    }
  }

  private func notify() { _ = try? connection.query("NOTIFY \(Self.channel)") }

  public func createJob(name: String, fingerprint: String, spec: String, tenant: String, chunks: [(startFrame: Int, frameCount: Int)]) throws -> Int64 {
    let id = try connection.transaction { () throws -> Int64 in
      let id = Int64(try connection.query("INSERT INTO jobs (name, fingerprint, spec, tenant) VALUES ($1, $2, $3, $4) RETURNING id",
                                          [name, fingerprint, spec, tenant]).first?[0] ?? "") ?? 0
      // One statement for all chunks: unnest of three arrays.
      try connection.query("""
        INSERT INTO chunks (job_id, idx, start_frame, frame_count)
        SELECT $1, i - 1, s, c FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS t(s, c, i)
        """, [String(id), "{" + chunks.map { String($0.startFrame) }.joined(separator: ",") + "}",
              "{" + chunks.map { String($0.frameCount) }.joined(separator: ",") + "}"])
      return id
    }
    notify()
    return id
  }

  public func claim(worker: String, job: Int64?, leaseSeconds: Double) throws -> ChunkLease? {
    // The job asked for, or claimable jobs in fair order: the first whose chunk is not locked by
    // a concurrent claimer.
    for candidate in try job.map({ [$0] }) ?? fairlyOrderedClaimableJobs(excluding: []) {
      if let lease = try claim(worker: worker, in: candidate, leaseSeconds: leaseSeconds) { return lease }
    }
    return nil
  }

  private func claim(worker: String, in job: Int64, leaseSeconds: Double) throws -> ChunkLease? {
    let rows = try connection.query("""
      WITH c AS (
        SELECT ch.job_id, ch.idx FROM chunks ch JOIN jobs j ON j.id = ch.job_id
        WHERE ch.state = 'pending' AND ch.available_at <= now() AND j.state = 'running' AND ch.job_id = $3::bigint
        ORDER BY ch.idx LIMIT 1 FOR UPDATE OF ch SKIP LOCKED),
      leased AS (
        UPDATE chunks SET state = 'leased', attempt = attempt + 1, lease_token = lease_token + 1, lease_owner = $1,
          lease_expires_at = now() + make_interval(secs => $2::float8), frames_done = 0
        FROM c WHERE chunks.job_id = c.job_id AND chunks.idx = c.idx
        RETURNING chunks.job_id, chunks.idx, chunks.start_frame, chunks.frame_count, chunks.attempt, chunks.lease_token,
          extract(epoch from now() - chunks.available_at) AS queued),
      started AS (
        UPDATE jobs SET started_at = COALESCE(started_at, now()) FROM leased WHERE jobs.id = leased.job_id RETURNING jobs.tenant),
      served AS (
        INSERT INTO tenant_claims (tenant, last_claim_at) SELECT tenant, extract(epoch from clock_timestamp()) FROM started
        ON CONFLICT (tenant) DO UPDATE SET last_claim_at = excluded.last_claim_at RETURNING 1)
      SELECT job_id, idx, start_frame, frame_count, attempt, lease_token, queued, (SELECT count(*) FROM served) FROM leased
      """, [worker, String(leaseSeconds), String(job)])
    guard let row = rows.first, row.count == 8 else { return nil }
    let values = row.prefix(6).map { Int64($0 ?? "") ?? 0 }
    return ChunkLease(jobID: values[0], index: Int(values[1]), startFrame: Int(values[2]), frameCount: Int(values[3]),
                      attempt: Int(values[4]), token: values[5], queuedSeconds: max(0, Double(row[6] ?? "") ?? 0))
  }

  /// Running jobs with a chunk claimable now, in `FairShare` order.
  private func fairlyOrderedClaimableJobs(excluding excluded: Set<Int64>) throws -> [Int64] {
    let candidates = try connection.query("""
      SELECT DISTINCT c.job_id, j.tenant FROM chunks c JOIN jobs j ON j.id = c.job_id
      WHERE c.state = 'pending' AND c.available_at <= now() AND j.state = 'running' AND NOT (c.job_id = ANY($1::bigint[]))
      """, ["{" + excluded.sorted().map(String.init).joined(separator: ",") + "}"]).map { (job: Int64($0[0] ?? "") ?? 0, tenant: $0[1] ?? "") }
    let (running, lastClaim, limits) = try FairShare.read { try connection.query($0) }
    return FairShare.order(candidates, running: running, lastClaim: lastClaim, concurrentJobLimit: limits)
  }

  private func fenced(_ assignments: String, _ parameters: [String?], _ lease: ChunkLease) throws -> Bool {
    let base = parameters.count
    let rows = try connection.query("""
      UPDATE chunks SET \(assignments)
      WHERE job_id = $\(base + 1) AND idx = $\(base + 2) AND state = 'leased' AND lease_token = $\(base + 3)
      RETURNING idx
      """, parameters + [String(lease.jobID), String(lease.index), String(lease.token)])
    return rows.count == 1
  }

  public func renew(_ lease: ChunkLease, leaseSeconds: Double) throws -> Bool {
    try fenced("lease_expires_at = now() + make_interval(secs => $1::float8)", [String(leaseSeconds)], lease)
  }

  /// Renewal that also records the frames done so far (the heartbeat of cluster workers).
  public func renew(_ lease: ChunkLease, leaseSeconds: Double, framesDone: Int) throws -> Bool {
    try fenced("lease_expires_at = now() + make_interval(secs => $1::float8), frames_done = $2::int", [String(leaseSeconds), String(framesDone)], lease)
  }

  public func complete(_ lease: ChunkLease, output: String) throws -> Bool {
    try fenced("state = 'done', output = $1, frames_done = frame_count", [output], lease)
  }

  public func fail(_ lease: ChunkLease, error: String) throws -> ChunkState? {
    let next = ChunkLifecycle(policy: policy).transition(from: .leased, attempt: lease.attempt, on: .fail, random: .random(in: 0...1))!
    let changed = try fenced("state = $1, available_at = now() + make_interval(secs => $2::float8), last_error = $3, lease_owner = NULL",
                             [next.state.rawValue, String(next.delay), error], lease)
    if changed && next.state == .pending { notify() }
    return changed ? next.state : nil
  }

  public func giveBack(_ lease: ChunkLease, reason: String) throws -> Bool {
    let next = ChunkLifecycle(policy: policy).transition(from: .leased, attempt: lease.attempt, on: .giveBack, random: .random(in: 0...1))!
    let changed = try fenced("""
      state = 'pending', attempt = $1, available_at = now() + make_interval(secs => $2::float8), last_error = $3, lease_owner = NULL,
        infrastructure_failures = infrastructure_failures + 1
      """, [String(next.attempt), String(next.delay), reason], lease)
    if changed { notify() }
    return changed
  }

  public func reapExpiredLeases() throws -> Int {
    // The expired leases, locked; each one's next state and backoff from the lifecycle.
    let lifecycle = ChunkLifecycle(policy: policy)
    let reaped = try connection.transaction { () throws -> Int in
      let expired = try connection.query("""
        SELECT job_id, idx, attempt, lease_token FROM chunks WHERE state = 'leased' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED
        """)
      var reaped = 0
      for row in expired {
        let next = lifecycle.transition(from: .leased, attempt: Int(row[2] ?? "") ?? 0, on: .leaseExpired, random: .random(in: 0...1))!
        // The expiry is checked again: should the statement run outside the transaction (after a
        // reconnect), a lease renewed meanwhile is left alone.
        reaped += try connection.query("""
          UPDATE chunks SET state = $1, available_at = now() + make_interval(secs => $2::float8), last_error = 'lease expired',
            lease_owner = NULL, infrastructure_failures = infrastructure_failures + 1
          WHERE job_id = $3 AND idx = $4 AND state = 'leased' AND lease_token = $5 AND lease_expires_at < now()
          RETURNING idx
          """, [next.state.rawValue, String(next.delay), row[0], row[1], row[3]]).count
      }
      return reaped
    }
    if reaped > 0 { notify() }
    return reaped
  }

  public func chunks(job: Int64) throws -> [ChunkRecord] {
    try connection.query("""
      SELECT \(ChunkRecord.columns) FROM chunks WHERE job_id = $1 ORDER BY idx
      """, [String(job)]).map(ChunkRecord.init(row:))
  }

  public func retry(job: Int64) throws -> Int {
    let revived = try connection.transaction { () throws -> Int in
      let rows = try connection.query("UPDATE chunks SET state = 'pending', attempt = 0, available_at = now() WHERE job_id = $1 AND state = 'dead' RETURNING idx",
                                      [String(job)])
      try connection.query("UPDATE jobs SET state = 'running', error = NULL, updated_at = now() WHERE id = $1 AND state IN ('failed', 'cancelled')",
                           [String(job)])
      return rows.count
    }
    notify()
    return revived
  }

  public func releaseLeases(job: Int64, owners: Set<String>) throws -> Int {
    guard !owners.isEmpty else { return 0 }
    let rows = try connection.query("""
      UPDATE chunks SET state = 'pending', available_at = now(), last_error = 'worker gone', lease_owner = NULL,
        infrastructure_failures = infrastructure_failures + 1
      WHERE job_id = $1 AND state = 'leased' AND lease_owner = ANY($2::text[])
      RETURNING idx
      """, [String(job), "{" + owners.sorted().map { "\"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "}"])
    if !rows.isEmpty { notify() }
    return rows.count
  }

  static let jobColumns = """
    id, name, fingerprint, spec, state, error, extract(epoch from created_at), extract(epoch from updated_at), tenant,
    extract(epoch from started_at)
    """

  public func jobs() throws -> [JobRecord] {
    try connection.query("SELECT \(Self.jobColumns) FROM jobs ORDER BY id").map(JobRecord.init(row:))
  }

  public func job(_ id: Int64) throws -> JobRecord? {
    try connection.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = $1", [String(id)]).first.map(JobRecord.init(row:))
  }

  public func findJob(fingerprint: String, states: Set<JobState>) throws -> JobRecord? {
    try connection.query("SELECT \(Self.jobColumns) FROM jobs WHERE fingerprint = $1 ORDER BY id DESC", [fingerprint])
      .map(JobRecord.init(row:)).first { states.contains($0.state) }
  }

  public func claimableJob(excluding excluded: Set<Int64>) throws -> Int64? {
    try fairlyOrderedClaimableJobs(excluding: excluded).first
  }

  public func reopen(job: Int64, indices: [Int], reason: String) throws -> Int {
    guard !indices.isEmpty else { return 0 }
    let rows = try connection.query("""
      UPDATE chunks SET state = 'pending', attempt = 0, available_at = now(), output = NULL, lease_owner = NULL, last_error = $3,
        frames_done = 0
      WHERE job_id = $1 AND idx = ANY($2::int[]) AND state = 'done' AND (SELECT state FROM jobs WHERE id = $1) = 'running'
      RETURNING idx
      """, [String(job), "{" + indices.map(String.init).joined(separator: ",") + "}", reason])
    if !rows.isEmpty { notify() }
    return rows.count
  }

  public func transitionJob(_ id: Int64, from: JobState, to state: JobState, error: String?) throws -> Bool {
    try connection.query("UPDATE jobs SET state = $1, error = $2, updated_at = now() WHERE id = $3 AND state = $4 RETURNING id",
                         [state.rawValue, error, String(id), from.rawValue]).count == 1
  }

  public func setConcurrentJobLimit(tenant: String, limit: Int?) throws {
    try connection.query("""
      INSERT INTO tenant_claims (tenant, last_claim_at, max_concurrent_jobs) VALUES ($1, 0, $2::int)
      ON CONFLICT (tenant) DO UPDATE SET max_concurrent_jobs = excluded.max_concurrent_jobs
      """, [tenant, limit.map(String.init)])
  }

  public func setJobState(_ id: Int64, _ state: JobState, error: String?) throws {
    try connection.query("UPDATE jobs SET state = $1, error = $2, updated_at = now() WHERE id = $3", [state.rawValue, error, String(id)])
  }

  /// Starts listening for the wake-up hint on this store's connection.
  public func listen() throws { try connection.query("LISTEN \(Self.channel)") }

  /// Seconds the longest-waiting claimable chunk of a running job has waited (0: none waits):
  /// how far the workers are behind, for the queue-age alert.
  public func oldestClaimableSeconds() throws -> Double {
    let row = try connection.query("""
      SELECT COALESCE(extract(epoch from now() - min(c.available_at)), 0) FROM chunks c JOIN jobs j ON j.id = c.job_id
      WHERE c.state = 'pending' AND c.available_at <= now() AND j.state = 'running'
      """).first
    return Double(row?[0] ?? "") ?? 0
  }

  /// Pending chunks of running jobs by tenant ("" for command-line jobs), whether or not their
  /// backoff has passed: the work waiting for workers (autoscaling). Chunks of failed or
  /// cancelled jobs stay pending in the table but are not counted.
  public func pendingChunksByTenant() throws -> [String: Int] {
    var counts: [String: Int] = [:]
    for row in try connection.query("""
      SELECT j.tenant, count(*) FROM chunks c JOIN jobs j ON j.id = c.job_id WHERE c.state = 'pending' AND j.state = 'running'
      GROUP BY j.tenant
      """) {
      counts[row[0] ?? ""] = Int(row[1] ?? "") ?? 0
    }
    return counts
  }

  /// Chunk counts by state over all jobs (for metrics).
  public func chunkCounts() throws -> [ChunkState: Int] {
    var counts: [ChunkState: Int] = [:]
    for row in try connection.query("SELECT state, count(*) FROM chunks GROUP BY state") {
      if let state = ChunkState(rawValue: row[0] ?? "") { counts[state] = Int(row[1] ?? "") ?? 0 }
    }
    return counts
  }
}
