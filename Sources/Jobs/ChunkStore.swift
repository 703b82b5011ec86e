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

/// Where chunks are tracked: the embedded SQLite file today, PostgreSQL in cluster mode.
public protocol ChunkStore: Sendable {
  func createJob(name: String, chunks: [(startFrame: Int, frameCount: Int)]) throws -> Int64
  /// The next pending chunk whose backoff has passed, leased to `worker` for `leaseSeconds`.
  func claim(worker: String, leaseSeconds: Double) throws -> ChunkLease?
  /// Extends the lease; false when the lease is no longer ours (fenced).
  func renew(_ lease: ChunkLease, leaseSeconds: Double) throws -> Bool
  /// Marks the chunk done with its output; false when the lease is no longer ours (fenced).
  func complete(_ lease: ChunkLease, output: String) throws -> Bool
  /// Records a failure of the chunk itself: back to pending with backoff, or dead.
  func fail(_ lease: ChunkLease, error: String) throws -> ChunkState?
  /// Returns expired leases to pending (or dead), counting an infrastructure failure.
  func reapExpiredLeases() throws -> Int
  func chunks(job: Int64) throws -> [ChunkRecord]
  /// Revives a job's dead chunks.
  func retry(job: Int64) throws -> Int
}
