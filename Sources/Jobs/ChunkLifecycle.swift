/// The chunk lifecycle as one pure state machine: pending -> leased -> done, or back to pending
/// with backoff after a failure of its own or a lost lease, dead after `maxAttempts`, revived by a
/// retry, reopened when its segment is lost. Both stores ask it what a failed or expired chunk
/// becomes (state and backoff), so neither computes one of its own; the simpler transitions
/// (claim, renew, complete, release, retry, reopen) are written in each store's SQL and checked
/// against it by `ChunkLifecycleTests`' random walks. Fencing (the lease token in every write
/// after a claim) is the stores' part: the machine says what a write may do, the token says
/// whether this worker may still write.
public struct ChunkLifecycle: Sendable, Equatable {
  public let policy: RetryPolicy

  public init(policy: RetryPolicy) { self.policy = policy }

  public enum Event: Sendable, Equatable, CaseIterable {
    /// A worker claimed the chunk (attempt + 1).
    case claim
    /// The holder renewed its lease.
    case renew
    /// The holder committed the chunk's segment.
    case complete
    /// The chunk's own failure (a corrupt frame, an encoder error): counts against its attempts.
    case fail
    /// Its lease expired (a worker crashed or stalled): an infrastructure failure, which also
    /// uses up the attempt the claim took.
    case leaseExpired
    /// Its holder is known to be gone (a killed local process): back at once, no backoff.
    case workerGone
    /// Its holder gave it back because object storage could not be reached (the chunk did
    /// nothing wrong): the claim's attempt is returned, and it waits the base delay.
    case giveBack
    /// `jobs retry`: a dead chunk gets its attempts back.
    case retry
    /// A done chunk whose segment is missing or damaged is rendered again.
    case reopen
  }

  /// What the chunk becomes.
  public struct Transition: Sendable, Equatable {
    public var state: ChunkState
    /// The attempts after the event (a claim adds one; retry and reopen start over).
    public var attempt: Int
    /// Seconds before it may be claimed again (pending only; 0: at once).
    public var delay: Double
    /// Counted apart from the chunk's own errors.
    public var infrastructureFailure: Bool
    /// Whether the lease's owner is kept (a done chunk keeps who rendered it).
    public var keepsOwner: Bool
  }

  /// The transition for `event` from `state` after `attempt` attempts, or nil where the event
  /// cannot happen to a chunk in that state (a store changes nothing then). `random` in 0...1
  /// draws the jitter.
  public func transition(from state: ChunkState, attempt: Int, on event: Event, random: Double = 0) -> Transition? {
    let exhausted = attempt >= policy.maxAttempts
    switch (state, event) {
    case (.pending, .claim):
      return Transition(state: .leased, attempt: attempt + 1, delay: 0, infrastructureFailure: false, keepsOwner: true)
    case (.leased, .renew):
      return Transition(state: .leased, attempt: attempt, delay: 0, infrastructureFailure: false, keepsOwner: true)
    case (.leased, .complete):
      return Transition(state: .done, attempt: attempt, delay: 0, infrastructureFailure: false, keepsOwner: true)
    case (.leased, .fail), (.leased, .leaseExpired):
      return Transition(state: exhausted ? .dead : .pending, attempt: attempt,
                        delay: exhausted ? 0 : policy.delay(afterAttempt: attempt, random: random),
                        infrastructureFailure: event == .leaseExpired, keepsOwner: false)
    case (.leased, .workerGone):
      return Transition(state: .pending, attempt: attempt, delay: 0, infrastructureFailure: true, keepsOwner: false)
    case (.leased, .giveBack):
      return Transition(state: .pending, attempt: max(attempt - 1, 0), delay: policy.delay(afterAttempt: 1, random: random),
                        infrastructureFailure: true, keepsOwner: false)
    case (.dead, .retry), (.done, .reopen):
      return Transition(state: .pending, attempt: 0, delay: 0, infrastructureFailure: false, keepsOwner: false)
    default:
      return nil
    }
  }
}
