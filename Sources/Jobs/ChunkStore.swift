/// The lifecycle of one frame-range chunk: pending -> leased -> done, or back to pending with
/// backoff after a failure or an expired lease, and dead after `maxAttempts`.
public enum ChunkState: String, Sendable, CaseIterable {
  case pending, leased, done, dead
}

/// A claimed chunk. `token` fences every later write: a worker whose lease expired and was
/// re-granted to someone else holds a stale token, and its renewals and commits change nothing.
public struct ChunkLease: Sendable, Equatable, Hashable {
  public let jobID: Int64
  public let index: Int
  public let startFrame: Int
  public let frameCount: Int
  public let attempt: Int
  public let token: Int64
  /// Seconds the chunk waited claimable before this claim (cluster store; 0 in the embedded one).
  public var queuedSeconds: Double = 0
}

/// What the store knows about a chunk.
public struct ChunkRecord: Sendable, Equatable {
  public let index: Int
  public let startFrame: Int
  public let frameCount: Int
  public let state: ChunkState
  public let attempt: Int
  public let output: String?
  public let lastError: String?
  /// Failures caused by infrastructure (lease expiry), counted apart from the chunk's own errors.
  public let infrastructureFailures: Int
  /// The worker holding the lease, while leased.
  public let owner: String?
  /// Frames rendered so far by the current lease (the whole chunk once done).
  public var framesDone = 0
}

/// Retries: attempt n waits base * 2^(n-1) seconds (capped), plus up to `jitter` of that.
public struct RetryPolicy: Sendable, Equatable {
  public var maxAttempts: Int
  public var baseDelay: Double
  public var maxDelay: Double
  public var jitter: Double

  public init(maxAttempts: Int = 3, baseDelay: Double = 1, maxDelay: Double = 60, jitter: Double = 0.2) {
    self.maxAttempts = maxAttempts
    self.baseDelay = baseDelay
    self.maxDelay = maxDelay
    self.jitter = jitter
  }

  public func delay(afterAttempt attempt: Int, random: Double) -> Double {
    let exponential = min(maxDelay, baseDelay * Double(1 << min(max(attempt - 1, 0), 30)))
    return exponential * (1 + jitter * min(max(random, 0), 1))
  }
}

/// A job's own state; its chunks carry the fine-grained progress.
public enum JobState: String, Sendable, CaseIterable, Codable {
  /// Chunks are being worked on (or wait for a worker).
  case running
  /// Every chunk is done and the output was published.
  case done
  /// A chunk ended dead or finalising failed; `error` says why. `retry` revives it.
  case failed
  /// Cancelled by the user; its chunks are no longer claimed.
  case cancelled
}

/// What the store knows about a job: its inputs and options (`spec`, JSON) and their
/// fingerprint, by which a re-run of the same command finds the job to resume.
public struct JobRecord: Sendable, Equatable {
  public let id: Int64
  public let name: String
  public let fingerprint: String
  public let spec: String
  public let state: JobState
  public let error: String?
  public let createdAt: Double
  public let updatedAt: Double
  /// Who submitted it (the HTTP API's tenant; "" for the CLI): claims share workers fairly
  /// between tenants.
  public var tenant = ""
  /// When its first chunk was claimed (nil: still queued).
  public var startedAt: Double? = nil

  public init(id: Int64, name: String, fingerprint: String, spec: String, state: JobState, error: String?, createdAt: Double,
              updatedAt: Double, tenant: String = "", startedAt: Double? = nil) {
    (self.id, self.name, self.fingerprint, self.spec, self.state, self.error) = (id, name, fingerprint, spec, state, error)
    (self.createdAt, self.updatedAt, self.tenant, self.startedAt) = (createdAt, updatedAt, tenant, startedAt)
  }
}

/// Where chunks are tracked: the embedded SQLite file today, PostgreSQL in cluster mode.
public protocol ChunkStore: Sendable {
  func createJob(name: String, fingerprint: String, spec: String, tenant: String, chunks: [(startFrame: Int, frameCount: Int)]) throws -> Int64
  /// The next pending chunk of a running job (of `job` only, when given) whose backoff has
  /// passed, leased to `worker` for `leaseSeconds`.
  func claim(worker: String, job: Int64?, leaseSeconds: Double) throws -> ChunkLease?
  /// Extends the lease; false when the lease is no longer ours (fenced).
  func renew(_ lease: ChunkLease, leaseSeconds: Double) throws -> Bool
  /// The same, also recording the frames done so far (a default ignores them).
  func renew(_ lease: ChunkLease, leaseSeconds: Double, framesDone: Int) throws -> Bool
  /// Marks the chunk done with its output; false when the lease is no longer ours (fenced).
  func complete(_ lease: ChunkLease, output: String) throws -> Bool
  /// Records a failure of the chunk itself: back to pending with backoff, or dead.
  func fail(_ lease: ChunkLease, error: String) throws -> ChunkState?
  /// Gives the chunk back after a failure that was not its own (object storage unreachable):
  /// pending again with the claim's attempt returned. False when the lease is no longer ours.
  func giveBack(_ lease: ChunkLease, reason: String) throws -> Bool
  /// Returns expired leases to pending (or dead), counting an infrastructure failure.
  func reapExpiredLeases() throws -> Int
  func chunks(job: Int64) throws -> [ChunkRecord]
  /// Revives a job's dead chunks (and the job, when it had failed or was cancelled).
  func retry(job: Int64) throws -> Int
  /// Returns leases held by `owners` (workers known to be gone, e.g. a killed local process) to
  /// pending at once, counted as infrastructure failures, instead of waiting for their expiry.
  func releaseLeases(job: Int64, owners: Set<String>) throws -> Int
  func jobs() throws -> [JobRecord]
  func job(_ id: Int64) throws -> JobRecord?
  /// The newest job with this fingerprint in one of `states`.
  func findJob(fingerprint: String, states: Set<JobState>) throws -> JobRecord?
  func setJobState(_ id: Int64, _ state: JobState, error: String?) throws
  /// Moves the job to `state` only if it is `from` now; false when it was not (a cancel that
  /// lost to the job finishing, or the reverse, must not overwrite the other).
  func transitionJob(_ id: Int64, from: JobState, to state: JobState, error: String?) throws -> Bool
  /// A running job with a chunk claimable now, other than `excluded` (jobs this worker refused),
  /// chosen fairly between tenants (`FairShare`).
  func claimableJob(excluding excluded: Set<Int64>) throws -> Int64?
  /// At most `limit` of the tenant's jobs are rendered at once (nil: no limit); claims skip its
  /// other jobs meanwhile.
  func setConcurrentJobLimit(tenant: String, limit: Int?) throws
  /// Sends done chunks whose segment is missing or damaged back to pending (attempts reset), so
  /// they are rendered again instead of joined; returns how many changed.
  func reopen(job: Int64, indices: [Int], reason: String) throws -> Int
}

extension ChunkStore {
  /// Renewal that also records the frames done so far (stores that track progress override it).
  public func renew(_ lease: ChunkLease, leaseSeconds: Double, framesDone: Int) throws -> Bool {
    try renew(lease, leaseSeconds: leaseSeconds)
  }

  public func createJob(name: String, chunks: [(startFrame: Int, frameCount: Int)]) throws -> Int64 {
    try createJob(name: name, fingerprint: "", spec: "{}", tenant: "", chunks: chunks)
  }

  public func createJob(name: String, fingerprint: String, spec: String, chunks: [(startFrame: Int, frameCount: Int)]) throws -> Int64 {
    try createJob(name: name, fingerprint: fingerprint, spec: spec, tenant: "", chunks: chunks)
  }

  public func claim(worker: String, leaseSeconds: Double) throws -> ChunkLease? {
    try claim(worker: worker, job: nil, leaseSeconds: leaseSeconds)
  }

  /// Leased chunks and their owners, for finding leases of workers that are gone.
  public func leaseOwners(job: Int64) throws -> [ChunkRecord] { try chunks(job: job).filter { $0.state == .leased } }
}

/// Both stores return rows as text (libpq's text format, SQLite's text of each column): one
/// decoder per record for the columns below, in this order.
extension ChunkRecord {
  /// The columns `init(row:)` reads.
  static let columns = "idx, start_frame, frame_count, state, attempt, output, last_error, infrastructure_failures, lease_owner, frames_done"

  init(row: [String?]) {
    self.init(index: Int(row[0] ?? "") ?? 0, startFrame: Int(row[1] ?? "") ?? 0, frameCount: Int(row[2] ?? "") ?? 0,
              state: ChunkState(rawValue: row[3] ?? "") ?? .pending, attempt: Int(row[4] ?? "") ?? 0, output: row[5],
              lastError: row[6], infrastructureFailures: Int(row[7] ?? "") ?? 0, owner: row[8], framesDone: Int(row[9] ?? "") ?? 0)
  }
}

extension JobRecord {
  /// Columns: id, name, fingerprint, spec, state, error, created (epoch seconds), updated, tenant, started.
  init(row: [String?]) {
    self.init(id: Int64(row[0] ?? "") ?? 0, name: row[1] ?? "", fingerprint: row[2] ?? "", spec: row[3] ?? "{}",
              state: JobState(rawValue: row[4] ?? "") ?? .running, error: row[5], createdAt: Double(row[6] ?? "") ?? 0,
              updatedAt: Double(row[7] ?? "") ?? 0, tenant: row[8] ?? "", startedAt: row[9].flatMap(Double.init))
  }
}
