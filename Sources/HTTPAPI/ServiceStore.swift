import Digests
import Foundation
import Jobs

/// A tenant of the API: its quotas and the hash of its key (never the key).
public struct Tenant: Sendable, Equatable, Codable {
  public let id: String
  public let name: String
  public let disabled: Bool
  public let createdAt: Double
  /// Standard Webhooks secret (`whsec_` + base64): webhook requests are signed with it.
  public let webhookSecret: String
  public var limits: TenantLimits
}

/// Per-tenant quotas; over one, a request is refused (429 with Retry-After, or 413) and nothing
/// is stored.
public struct TenantLimits: Sendable, Equatable, Codable {
  /// Jobs queued or processing at once (429 beyond).
  public var maxActiveJobs = 20
  /// Jobs rendered at once: claims skip the tenant's other jobs until one ends.
  public var maxConcurrentJobs = 4
  /// Bytes of assets and outputs held (413 beyond).
  public var maxStorageBytes: Int64 = 20 << 30
  /// One upload's size (413 beyond).
  public var maxUploadBytes: Int64 = 2 << 30
  /// Frames one video job may render (413 beyond).
  public var maxFramesPerJob = 100_000

  public init() {}
}

/// An uploaded file, probed: an image (its size) or a video (size, duration, frames).
public struct Asset: Sendable, Equatable {
  public enum Kind: String, Sendable, Codable { case image, video }
  public let id: String
  public let tenant: String
  public let kind: Kind
  public let path: String
  public let size: Int64
  public let width: Int
  public let height: Int
  public let duration: Double?
  public let frames: Int?
  public let format: String
  public let createdAt: Double
  public let expiresAt: Double
}

/// An API job: the chunk store's job plus who asked, for what, and where its output goes.
public struct APIJob: Sendable, Equatable {
  public let id: Int64
  public let tenant: String
  public let kind: Asset.Kind
  public let sources: [String]
  public let target: String
  public let options: String
  public let outputPath: String
  public let idempotencyKey: String?
  public let requestHash: String
  public let webhookURL: String?
  public let webhookEvents: [String]
  public let frames: Int
  public let createdAt: Double
  public let lastEventStatus: String?
  public let outputExpired: Bool
}

/// A webhook message and its delivery attempts.
public struct WebhookDelivery: Sendable, Equatable {
  public let id: String
  public let job: Int64
  public let tenant: String
  public let url: String
  public let event: String
  public let payload: String
  public let attempts: Int
  public let deliveredAt: Double?
  public let lastStatus: Int?
  public let lastError: String?
}

/// The API's own tables, kept in the job store's database (SQLite embedded, PostgreSQL in a
/// cluster) beside the chunks: tenants, assets, API jobs, webhook deliveries.
public final class ServiceStore: Sendable {
  /// The job store's database (the API's tables sit beside the chunks).
  public let database: any ChunkStore & SQLDatabase
  let now: @Sendable () -> Double

  public init(database: any ChunkStore & SQLDatabase, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
    self.database = database
    self.now = now
    try migrate()
  }

  static let schema = [
    """
    CREATE TABLE IF NOT EXISTS api_tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, disabled INTEGER NOT NULL DEFAULT 0,
      created_at DOUBLE PRECISION NOT NULL, key_id TEXT NOT NULL UNIQUE, key_hash TEXT NOT NULL, webhook_secret TEXT NOT NULL,
      max_active_jobs BIGINT NOT NULL, max_storage_bytes BIGINT NOT NULL, max_upload_bytes BIGINT NOT NULL, max_frames BIGINT NOT NULL)
    """,
    """
    CREATE TABLE IF NOT EXISTS api_assets (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL,
      size BIGINT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, duration DOUBLE PRECISION, frames INTEGER,
      format TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)
    """,
    "CREATE INDEX IF NOT EXISTS api_assets_tenant ON api_assets (tenant)",
    """
    CREATE TABLE IF NOT EXISTS api_jobs (job_id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL, sources TEXT NOT NULL,
      target TEXT NOT NULL, options TEXT NOT NULL, output_path TEXT NOT NULL, idempotency_key TEXT, request_hash TEXT NOT NULL,
      webhook_url TEXT, webhook_events TEXT NOT NULL DEFAULT '', frames INTEGER NOT NULL, created_at DOUBLE PRECISION NOT NULL,
      last_event_status TEXT, output_expired INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0)
    """,
    "CREATE INDEX IF NOT EXISTS api_jobs_tenant ON api_jobs (tenant, job_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS api_jobs_idempotency ON api_jobs (tenant, idempotency_key)",
    """
    CREATE TABLE IF NOT EXISTS api_webhook_deliveries (id TEXT PRIMARY KEY, job_id BIGINT NOT NULL, tenant TEXT NOT NULL,
      url TEXT NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      next_at DOUBLE PRECISION NOT NULL, delivered_at DOUBLE PRECISION, last_status INTEGER, last_error TEXT,
      created_at DOUBLE PRECISION NOT NULL)
    """,
    "CREATE INDEX IF NOT EXISTS api_webhook_pending ON api_webhook_deliveries (delivered_at, next_at)",
  ]

  func migrate() throws {
    try database.inTransaction {
      // Several API servers starting together on one PostgreSQL: one creates, the rest wait.
      if database.isPostgres { try database.rows("SELECT pg_advisory_xact_lock(7340982)") }
      for statement in Self.schema { try database.rows(statement) }
    }
  }

  // MARK: Tenants and keys

  /// A new API key: `sl_<key id>_<secret>`. Only the secret's SHA-256 is stored; the key id finds
  /// the row, and the hash is compared in constant time.
  static func newKey() -> (key: String, keyID: String, hash: String) {
    let keyID = Secrets.randomToken(bytes: 9).replacingOccurrences(of: "_", with: "x").replacingOccurrences(of: "-", with: "y")
    let secret = Secrets.randomToken(bytes: 32)
    return ("sl_\(keyID)_\(secret)", keyID, Secrets.hex(Secrets.sha256(secret)))
  }

  /// Creates a tenant; its key and webhook secret are returned once.
  public func createTenant(name: String, limits: TenantLimits) throws -> (tenant: Tenant, key: String) {
    guard try database.rows("SELECT id FROM api_tenants WHERE name = ?", [.text(name)]).isEmpty else {
      throw ServiceStoreError.duplicate("a tenant named '\(name)' exists")
    }
    let id = "tn_" + Secrets.randomToken(bytes: 9)
    let (key, keyID, hash) = Self.newKey()
    let secret = "whsec_" + Data(Secrets.randomBytes(24)).base64EncodedString()
    let time = now()
    try database.rows("""
      INSERT INTO api_tenants (id, name, created_at, key_id, key_hash, webhook_secret, max_active_jobs, max_storage_bytes, max_upload_bytes,
        max_frames) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, [.text(id), .text(name), .real(time), .text(keyID), .text(hash), .text(secret), .integer(Int64(limits.maxActiveJobs)),
            .integer(limits.maxStorageBytes), .integer(limits.maxUploadBytes), .integer(Int64(limits.maxFramesPerJob))])
    try database.setConcurrentJobLimit(tenant: id, limit: limits.maxConcurrentJobs)
    return (Tenant(id: id, name: name, disabled: false, createdAt: time, webhookSecret: secret, limits: limits), key)
  }

  static let tenantColumns = """
    id, name, disabled, created_at, webhook_secret, max_active_jobs, max_storage_bytes, max_upload_bytes, max_frames,
    (SELECT max_concurrent_jobs FROM tenant_claims WHERE tenant_claims.tenant = api_tenants.id)
    """

  static func tenant(_ row: [String?]) -> Tenant {
    var limits = TenantLimits()
    limits.maxActiveJobs = Int(row[5] ?? "") ?? limits.maxActiveJobs
    limits.maxStorageBytes = Int64(row[6] ?? "") ?? limits.maxStorageBytes
    limits.maxUploadBytes = Int64(row[7] ?? "") ?? limits.maxUploadBytes
    limits.maxFramesPerJob = Int(row[8] ?? "") ?? limits.maxFramesPerJob
    limits.maxConcurrentJobs = Int(row[9] ?? "") ?? limits.maxConcurrentJobs
    return Tenant(id: row[0] ?? "", name: row[1] ?? "", disabled: row[2] == "1", createdAt: Double(row[3] ?? "") ?? 0,
                  webhookSecret: row[4] ?? "", limits: limits)
  }

  public func tenants() throws -> [Tenant] {
    try database.rows("SELECT \(Self.tenantColumns) FROM api_tenants ORDER BY created_at").map(Self.tenant)
  }

  /// By id or by name.
  public func tenant(_ idOrName: String) throws -> Tenant? {
    try database.rows("SELECT \(Self.tenantColumns) FROM api_tenants WHERE id = ? OR name = ?", [.text(idOrName), .text(idOrName)])
      .first.map(Self.tenant)
  }

  public func setDisabled(_ id: String, _ disabled: Bool) throws {
    try database.rows("UPDATE api_tenants SET disabled = ? WHERE id = ?", [.integer(disabled ? 1 : 0), .text(id)])
  }

  public func setLimits(_ id: String, _ limits: TenantLimits) throws {
    try database.setConcurrentJobLimit(tenant: id, limit: limits.maxConcurrentJobs)
    try database.rows("UPDATE api_tenants SET max_active_jobs = ?, max_storage_bytes = ?, max_upload_bytes = ?, max_frames = ? WHERE id = ?",
                      [.integer(Int64(limits.maxActiveJobs)), .integer(limits.maxStorageBytes), .integer(limits.maxUploadBytes),
                       .integer(Int64(limits.maxFramesPerJob)), .text(id)])
  }

  /// A new key for the tenant; the old one stops working at once.
  public func rotateKey(_ id: String) throws -> String {
    let (key, keyID, hash) = Self.newKey()
    try database.rows("UPDATE api_tenants SET key_id = ?, key_hash = ? WHERE id = ?", [.text(keyID), .text(hash), .text(id)])
    return key
  }

  /// The enabled tenant this key belongs to, or nil.
  public func authenticate(key: String) throws -> Tenant? {
    let parts = key.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0] == "sl", !parts[1].isEmpty, !parts[2].isEmpty, key.utf8.count < 200 else { return nil }
    guard let row = try database.rows("SELECT \(Self.tenantColumns), key_hash FROM api_tenants WHERE key_id = ?", [.text(String(parts[1]))]).first,
      let stored = Secrets.bytes(hex: row[10] ?? "")
    else { return nil }
    guard Secrets.constantTimeEqual(Secrets.sha256(String(parts[2])), stored) else { return nil }
    let tenant = Self.tenant(row)
    return tenant.disabled ? nil : tenant
  }

  // MARK: Assets

  public func insert(_ asset: Asset) throws {
    try database.rows("""
      INSERT INTO api_assets (id, tenant, kind, path, size, width, height, duration, frames, format, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, [.text(asset.id), .text(asset.tenant), .text(asset.kind.rawValue), .text(asset.path), .integer(asset.size),
            .integer(Int64(asset.width)), .integer(Int64(asset.height)), asset.duration.map { .real($0) } ?? .null,
            .optional(asset.frames.map(Int64.init)), .text(asset.format), .real(asset.createdAt), .real(asset.expiresAt)])
  }

  static let assetColumns = "id, tenant, kind, path, size, width, height, duration, frames, format, created_at, expires_at"

  static func asset(_ row: [String?]) -> Asset {
    Asset(id: row[0] ?? "", tenant: row[1] ?? "", kind: Asset.Kind(rawValue: row[2] ?? "") ?? .image, path: row[3] ?? "",
          size: Int64(row[4] ?? "") ?? 0, width: Int(row[5] ?? "") ?? 0, height: Int(row[6] ?? "") ?? 0,
          duration: row[7].flatMap(Double.init), frames: row[8].flatMap { Int($0) }, format: row[9] ?? "",
          createdAt: Double(row[10] ?? "") ?? 0, expiresAt: Double(row[11] ?? "") ?? 0)
  }

  /// The tenant's asset, or nil (another tenant's id is nil too).
  public func asset(_ id: String, tenant: String) throws -> Asset? {
    try database.rows("SELECT \(Self.assetColumns) FROM api_assets WHERE id = ? AND tenant = ?", [.text(id), .text(tenant)])
      .first.map(Self.asset)
  }

  public func expiredAssets(at time: Double) throws -> [Asset] {
    // An asset a job still waits for stays until that job ends.
    try database.rows("""
      SELECT \(Self.assetColumns) FROM api_assets WHERE expires_at < ?
      """, [.real(time)]).map(Self.asset).filter { asset in
        (try? database.rows("""
          SELECT j.job_id FROM api_jobs j JOIN jobs s ON s.id = j.job_id
          WHERE j.tenant = ? AND s.state = 'running' AND (j.target = ? OR ',' || j.sources || ',' LIKE ?)
          """, [.text(asset.tenant), .text(asset.id), .text("%,\(asset.id),%")]).isEmpty) ?? false
      }
  }

  public func deleteAsset(_ id: String) throws {
    try database.rows("DELETE FROM api_assets WHERE id = ?", [.text(id)])
  }

  /// Bytes the tenant holds in assets (outputs are counted by the caller from their files).
  public func assetBytes(tenant: String) throws -> Int64 {
    Int64(try database.rows("SELECT COALESCE(SUM(size), 0) FROM api_assets WHERE tenant = ?", [.text(tenant)]).first?[0] ?? "0") ?? 0
  }

  // MARK: Jobs

  static let jobColumns = """
    job_id, tenant, kind, sources, target, options, output_path, idempotency_key, request_hash, webhook_url, webhook_events, frames,
    created_at, last_event_status, output_expired
    """

  /// The same columns of `api_jobs j`, for joins.
  static let prefixedJobColumns = jobColumns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    .joined(separator: ", ")

  static func job(_ row: [String?]) -> APIJob {
    APIJob(id: Int64(row[0] ?? "") ?? 0, tenant: row[1] ?? "", kind: Asset.Kind(rawValue: row[2] ?? "") ?? .image,
           sources: (row[3] ?? "").split(separator: ",").map(String.init), target: row[4] ?? "",
           options: row[5] ?? "{}", outputPath: row[6] ?? "", idempotencyKey: row[7], requestHash: row[8] ?? "", webhookURL: row[9],
           webhookEvents: (row[10] ?? "").split(separator: ",").map(String.init), frames: Int(row[11] ?? "") ?? 0,
           createdAt: Double(row[12] ?? "") ?? 0, lastEventStatus: row[13], outputExpired: row[14] == "1")
  }

  /// Records the API side of a job the chunk store created. A concurrent submit with the same
  /// idempotency key that won the race is returned instead (the caller cancels its own).
  public func insert(_ job: APIJob) throws -> APIJob {
    do {
      try database.rows("""
        INSERT INTO api_jobs (job_id, tenant, kind, sources, target, options, output_path, idempotency_key, request_hash, webhook_url,
          webhook_events, frames, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """, [.integer(job.id), .text(job.tenant), .text(job.kind.rawValue), .text(job.sources.joined(separator: ",")), .text(job.target),
              .text(job.options), .text(job.outputPath), .optional(job.idempotencyKey), .text(job.requestHash), .optional(job.webhookURL),
              .text(job.webhookEvents.joined(separator: ",")), .integer(Int64(job.frames)), .real(job.createdAt)])
      return job
    } catch {
      if let key = job.idempotencyKey, let existing = try self.job(idempotencyKey: key, tenant: job.tenant) { return existing }
      throw error
    }
  }

  /// The tenant's job with the store's record of it, in one query (the status request's path).
  public func jobWithRecord(_ id: Int64, tenant: String) throws -> (APIJob, JobRecord)? {
    let (created, updated, started) = database.isPostgres
      ? ("extract(epoch from s.created_at)", "extract(epoch from s.updated_at)", "extract(epoch from s.started_at)")
      : ("s.created_at", "s.updated_at", "s.started_at")
    guard let row = try database.rows("""
      SELECT \(Self.prefixedJobColumns), s.name, s.state, s.error, \(created), \(updated), s.tenant, \(started)
      FROM api_jobs j JOIN jobs s ON s.id = j.job_id WHERE j.job_id = ? AND j.tenant = ? AND j.deleted = 0
      """, [.integer(id), .text(tenant)]).first else { return nil }
    let record = Array(row[15...])
    return (Self.job(row), JobRecord(id: id, name: record[0] ?? "", fingerprint: "", spec: "", state: JobState(rawValue: record[1] ?? "") ?? .running,
                                     error: record[2], createdAt: Double(record[3] ?? "") ?? 0, updatedAt: Double(record[4] ?? "") ?? 0,
                                     tenant: record[5] ?? "", startedAt: record[6].flatMap(Double.init)))
  }

  public func job(_ id: Int64, tenant: String) throws -> APIJob? {
    try database.rows("SELECT \(Self.jobColumns) FROM api_jobs WHERE job_id = ? AND tenant = ? AND deleted = 0", [.integer(id), .text(tenant)])
      .first.map(Self.job)
  }

  public func job(idempotencyKey: String, tenant: String) throws -> APIJob? {
    try database.rows("SELECT \(Self.jobColumns) FROM api_jobs WHERE idempotency_key = ? AND tenant = ? AND deleted = 0",
                      [.text(idempotencyKey), .text(tenant)])
      .first.map(Self.job)
  }

  /// The tenant's jobs, newest first, below `before` (the cursor), with the store's state.
  public func jobs(tenant: String, states: Set<JobState>?, before: Int64?, limit: Int) throws -> [(APIJob, JobRecord)] {
    var sql = """
      SELECT \(Self.prefixedJobColumns),
        s.state FROM api_jobs j JOIN jobs s ON s.id = j.job_id WHERE j.tenant = ? AND j.deleted = 0
      """
    var values: [SQLValue] = [.text(tenant)]
    if let before {
      sql += " AND j.job_id < ?"
      values.append(.integer(before))
    }
    if let states {
      sql += " AND s.state IN (" + states.map { _ in "?" }.joined(separator: ", ") + ")"
      values += states.sorted { $0.rawValue < $1.rawValue }.map { .text($0.rawValue) }
    }
    sql += " ORDER BY j.job_id DESC LIMIT ?"
    values.append(.integer(Int64(limit)))
    return try database.rows(sql, values).map(Self.job).compactMap { job in
      // The store's record (started time, error) for each row.
      guard let record = try jobRecord(job.id) else { return nil }
      return (job, record)
    }
  }

  /// The chunk store's record of a job, read through the same database.
  func jobRecord(_ id: Int64) throws -> JobRecord? {
    let started = database.isPostgres ? "extract(epoch from started_at)" : "started_at"
    let created = database.isPostgres ? "extract(epoch from created_at)" : "created_at"
    let updated = database.isPostgres ? "extract(epoch from updated_at)" : "updated_at"
    guard let row = try database.rows("SELECT id, name, state, error, \(created), \(updated), tenant, \(started) FROM jobs WHERE id = ?",
                                      [.integer(id)]).first else { return nil }
    return JobRecord(id: Int64(row[0] ?? "") ?? 0, name: row[1] ?? "", fingerprint: "", spec: "", state: JobState(rawValue: row[2] ?? "") ?? .running,
                     error: row[3], createdAt: Double(row[4] ?? "") ?? 0, updatedAt: Double(row[5] ?? "") ?? 0, tenant: row[6] ?? "",
                     startedAt: row[7].flatMap(Double.init))
  }

  /// Chunk counts by state and frames done, in one query.
  func progress(job: Int64) throws -> (chunks: [ChunkState: Int], states: String, framesDone: Int, framesTotal: Int) {
    var counts: [ChunkState: Int] = [:]
    var states = ""
    var done = 0, total = 0
    for row in try database.rows("SELECT state, frame_count, frames_done FROM chunks WHERE job_id = ? ORDER BY idx", [.integer(job)]) {
      guard let state = ChunkState(rawValue: row[0] ?? "") else { continue }
      let frames = Int(row[1] ?? "") ?? 0
      counts[state, default: 0] += 1
      states.append(state.letter)
      total += frames
      done += state == .done ? frames : state == .leased ? Int(row[2] ?? "") ?? 0 : 0
    }
    return (counts, states, done, total)
  }

  /// Running jobs not started yet that were created before this one (any tenant): its place in the queue.
  func queuePosition(job: Int64) throws -> Int {
    Int(try database.rows("""
      SELECT COUNT(*) FROM jobs WHERE state = 'running' AND started_at IS NULL AND id < ?
      """, [.integer(job)]).first?[0] ?? "0") ?? 0
  }

  /// Jobs queued or processing for the tenant.
  public func activeJobs(tenant: String) throws -> Int {
    Int(try database.rows("""
      SELECT COUNT(*) FROM api_jobs j JOIN jobs s ON s.id = j.job_id WHERE j.tenant = ? AND j.deleted = 0 AND s.state = 'running'
      """, [.text(tenant)]).first?[0] ?? "0") ?? 0
  }

  /// Output files the tenant holds, for its storage quota.
  public func outputPaths(tenant: String) throws -> [String] {
    try database.rows("SELECT output_path FROM api_jobs WHERE tenant = ? AND deleted = 0 AND output_expired = 0", [.text(tenant)])
      .compactMap { $0[0] }
  }

  /// After a retry the job's statuses are news again (its webhook hears how it ends this time).
  public func resetEventStatus(_ id: Int64) throws {
    try database.rows("UPDATE api_jobs SET last_event_status = NULL WHERE job_id = ?", [.integer(id)])
  }

  /// By id only (the webhook dispatcher: a name must never stand in for another tenant's id).
  public func tenant(id: String) throws -> Tenant? {
    try database.rows("SELECT \(Self.tenantColumns) FROM api_tenants WHERE id = ?", [.text(id)]).first.map(Self.tenant)
  }

  public func markDeleted(_ id: Int64) throws {
    // Its idempotency key is free again: a deleted job is not replayed.
    try database.rows("UPDATE api_jobs SET deleted = 1, idempotency_key = NULL WHERE job_id = ?", [.integer(id)])
  }

  /// Finished jobs whose output was published before `time` - ttl and is still held.
  public func jobsWithExpiredOutput(before time: Double) throws -> [APIJob] {
    let updated = database.isPostgres ? "extract(epoch from s.updated_at)" : "s.updated_at"
    return try database.rows("""
      SELECT \(Self.prefixedJobColumns)
      FROM api_jobs j JOIN jobs s ON s.id = j.job_id WHERE j.output_expired = 0 AND s.state <> 'running' AND \(updated) < ?
      """, [.real(time)]).map(Self.job)
  }

  public func markOutputExpired(_ id: Int64) throws {
    try database.rows("UPDATE api_jobs SET output_expired = 1 WHERE job_id = ?", [.integer(id)])
  }

  // MARK: Webhooks

  /// Jobs with a webhook whose status may have changed since the last event.
  func jobsWithWebhooks() throws -> [APIJob] {
    try database.rows("""
      SELECT \(Self.prefixedJobColumns)
      FROM api_jobs j WHERE j.webhook_url IS NOT NULL AND j.deleted = 0
        AND (j.last_event_status IS NULL OR j.last_event_status NOT IN ('succeeded', 'failed', 'canceled'))
      """).map(Self.job)
  }

  /// Records the status an event was made for and queues the message (when `event` is given), in one transaction.
  func recordStatus(job: APIJob, status: String, delivery: (id: String, event: String, payload: String)?) throws {
    try database.inTransaction {
      try database.rows("UPDATE api_jobs SET last_event_status = ? WHERE job_id = ?", [.text(status), .integer(job.id)])
      if let delivery, let url = job.webhookURL {
        try database.rows("""
          INSERT INTO api_webhook_deliveries (id, job_id, tenant, url, event, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          """, [.text(delivery.id), .integer(job.id), .text(job.tenant), .text(url), .text(delivery.event), .text(delivery.payload),
                .real(now()), .real(now())])
      }
    }
  }

  static let deliveryColumns = "id, job_id, tenant, url, event, payload, attempts, delivered_at, last_status, last_error"

  static func delivery(_ row: [String?]) -> WebhookDelivery {
    WebhookDelivery(id: row[0] ?? "", job: Int64(row[1] ?? "") ?? 0, tenant: row[2] ?? "", url: row[3] ?? "", event: row[4] ?? "",
                    payload: row[5] ?? "", attempts: Int(row[6] ?? "") ?? 0, deliveredAt: row[7].flatMap(Double.init),
                    lastStatus: row[8].flatMap { Int($0) }, lastError: row[9])
  }

  func dueDeliveries(maxAttempts: Int) throws -> [WebhookDelivery] {
    try database.rows("""
      SELECT \(Self.deliveryColumns) FROM api_webhook_deliveries WHERE delivered_at IS NULL AND attempts < ? AND next_at <= ?
      ORDER BY created_at LIMIT 50
      """, [.integer(Int64(maxAttempts)), .real(now())]).map(Self.delivery)
  }

  public func deliveries(job: Int64) throws -> [WebhookDelivery] {
    try database.rows("SELECT \(Self.deliveryColumns) FROM api_webhook_deliveries WHERE job_id = ? ORDER BY created_at", [.integer(job)])
      .map(Self.delivery)
  }

  func recordAttempt(_ delivery: WebhookDelivery, status: Int?, error: String?, delivered: Bool, retryIn: Double) throws {
    try database.rows("""
      UPDATE api_webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, delivered_at = ?, next_at = ?
      WHERE id = ?
      """, [.optional(status.map(Int64.init)), .optional(error), delivered ? .real(now()) : .null, .real(now() + retryIn), .text(delivery.id)])
  }
}

public enum ServiceStoreError: Error, CustomStringConvertible {
  case duplicate(String)
  public var description: String {
    switch self {
    case .duplicate(let message): message
    }
  }
}

extension ChunkState {
  /// One letter per chunk in `progress.chunk_states`: p pending, l leased, d done, x dead.
  var letter: Character {
    switch self {
    case .pending: "p"
    case .leased: "l"
    case .done: "d"
    case .dead: "x"
    }
  }
}
