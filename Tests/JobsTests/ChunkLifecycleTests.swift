import Foundation
@testable import Jobs
import TestSupport
import Testing

/// The chunk lifecycle: the pure machine checked exhaustively against the rules written out here,
/// then both stores driven through long random sequences of events and compared, step by step,
/// with what the machine says.
@Suite(.serialized) struct ChunkLifecycleTests {
  static let policy = RetryPolicy(maxAttempts: 3, baseDelay: 2, maxDelay: 5, jitter: 0.5)

  /// Every state x event x attempt count x jitter draw.
  @Test func everyTransitionFollowsTheRules() {
    let machine = ChunkLifecycle(policy: Self.policy)
    var checked = 0
    for state in ChunkState.allCases {
      for event in ChunkLifecycle.Event.allCases {
        for attempt in 0...(Self.policy.maxAttempts + 1) {
          for random in [0.0, 0.5, 1.0] {
            let next = machine.transition(from: state, attempt: attempt, on: event, random: random)
            checked += 1
            // Which events a state admits (anything else changes nothing).
            let allowed: Bool = switch (state, event) {
            case (.pending, .claim), (.leased, .renew), (.leased, .complete), (.leased, .fail), (.leased, .leaseExpired),
                 (.leased, .workerGone), (.leased, .giveBack), (.dead, .retry), (.done, .reopen): true
            default: false
            }
            #expect((next != nil) == allowed, "\(state) on \(event)")
            guard let next else { continue }
            switch event {
            case .claim:
              #expect(next.state == .leased && next.attempt == attempt + 1 && next.delay == 0)
            case .renew, .complete:
              #expect(next.state == (event == .renew ? .leased : .done) && next.attempt == attempt && next.keepsOwner)
            case .fail, .leaseExpired:
              // Dead exactly when the attempts are used up; otherwise back with backoff in
              // [base * 2^(n-1), that * (1 + jitter)], capped.
              let exhausted = attempt >= Self.policy.maxAttempts
              #expect(next.state == (exhausted ? .dead : .pending) && next.attempt == attempt && !next.keepsOwner)
              #expect(next.infrastructureFailure == (event == .leaseExpired))
              if !exhausted {
                let floor = min(Self.policy.maxDelay, Self.policy.baseDelay * pow(2, Double(max(attempt - 1, 0))))
                #expect(next.delay >= floor && next.delay <= floor * (1 + Self.policy.jitter * random) + 1e-9, "\(attempt) \(random): \(next.delay)")
              }
            case .workerGone:
              #expect(next.state == .pending && next.delay == 0 && next.infrastructureFailure && next.attempt == attempt)
            case .giveBack:
              // Never dead, however many attempts: the claim's attempt is handed back, the base delay waited.
              #expect(next.state == .pending && next.infrastructureFailure && next.attempt == max(attempt - 1, 0) && !next.keepsOwner)
              #expect(next.delay >= Self.policy.baseDelay && next.delay <= Self.policy.baseDelay * (1 + Self.policy.jitter * random) + 1e-9)
            case .retry, .reopen:
              #expect(next.state == .pending && next.attempt == 0 && next.delay == 0)
            }
          }
        }
      }
    }
    #expect(checked == ChunkState.allCases.count * ChunkLifecycle.Event.allCases.count * (Self.policy.maxAttempts + 2) * 3)
  }

  /// A deterministic random source (SplitMix64), so a failing sequence can be replayed.
  struct Sequence: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  /// One chunk as the machine sees it.
  struct Model {
    var state = ChunkState.pending
    var attempt = 0
    var infrastructureFailures = 0
    var token: Int64 = 0
    var availableAt = 0.0

    mutating func apply(_ next: ChunkLifecycle.Transition, now: Double) {
      state = next.state
      attempt = next.attempt
      if next.infrastructureFailure { infrastructureFailures += 1 }
      if next.state == .pending { availableAt = now + next.delay }
    }
  }

  /// What a store must offer the walk: the events, a way to let a lease expire, and time.
  struct Driver {
    let store: any ChunkStore
    let job: Int64
    /// Makes the held lease expire and runs the reaper.
    let expire: () throws -> Int
    let now: () -> Double
    let advance: (Double) -> Void
  }

  /// `steps` random events on one chunk; after each, the store's record equals the model's.
  func walk(_ driver: Driver, steps: Int, seed: UInt64, policy: RetryPolicy) throws {
    let machine = ChunkLifecycle(policy: policy)
    var generator = Sequence(state: seed)
    var model = Model()
    var lease: ChunkLease?
    var seen = Set<String>()
    for step in 0..<steps {
      let event = ChunkLifecycle.Event.allCases.randomElement(using: &generator)!
      let now = driver.now()
      let expected = machine.transition(from: model.state, attempt: model.attempt, on: event)
      // Writes with a lease count only with the current one (fencing).
      let holds = lease.map { $0.token == model.token } ?? false
      switch event {
      case .claim:
        let claimable = expected != nil && model.availableAt <= now
        let claimed = try driver.store.claim(worker: "w", job: driver.job, leaseSeconds: 30)
        #expect((claimed != nil) == claimable, "step \(step): claim with \(model)")
        if let claimed {
          model.apply(expected!, now: now)
          model.token = claimed.token
          lease = claimed
        }
      case .renew, .complete, .fail, .giveBack:
        guard let held = lease else { continue }
        let applies = expected != nil && holds
        let changed: Bool = switch event {
        case .renew: try driver.store.renew(held, leaseSeconds: 30)
        case .complete: try driver.store.complete(held, output: "segment-\(held.token)")
        case .giveBack: try driver.store.giveBack(held, reason: "object storage unavailable")
        default: try driver.store.fail(held, error: "own failure") != nil
        }
        #expect(changed == applies, "step \(step): \(event) with token \(held.token), model \(model)")
        if applies { model.apply(expected!, now: now) }
      case .leaseExpired:
        let reaped = try driver.expire()
        #expect(reaped == (expected != nil ? 1 : 0), "step \(step): reaped \(reaped), model \(model)")
        if let expected { model.apply(expected, now: driver.now()) }
      case .workerGone:
        let released = try driver.store.releaseLeases(job: driver.job, owners: ["w"])
        #expect(released == (expected != nil ? 1 : 0), "step \(step)")
        if let expected { model.apply(expected, now: now) }
      case .retry:
        _ = try driver.store.retry(job: driver.job)
        if let expected { model.apply(expected, now: now) }
      case .reopen:
        let reopened = try driver.store.reopen(job: driver.job, indices: [0], reason: "segment lost")
        #expect(reopened == (expected != nil ? 1 : 0), "step \(step)")
        if let expected { model.apply(expected, now: now) }
      }
      let record = try #require(try driver.store.chunks(job: driver.job).first)
      #expect(record.state == model.state && record.attempt == model.attempt && record.infrastructureFailures == model.infrastructureFailures,
              "step \(step) after \(event): store \(record.state)/\(record.attempt)/\(record.infrastructureFailures), model \(model)")
      seen.insert("\(record.state)")
      // Time passes now and then, so backoff both blocks and then allows a claim.
      if Int.random(in: 0..<3, using: &generator) == 0 { driver.advance(Double.random(in: 0...6, using: &generator)) }
    }
    #expect(seen == Set(ChunkState.allCases.map { "\($0)" }), "the walk did not visit every state: \(seen)")
  }

  @Test func theEmbeddedStoreFollowsTheMachine() throws {
    let clock = SQLiteChunkStoreTests.ManualClock()
    let policy = RetryPolicy(maxAttempts: 3, baseDelay: 2, maxDelay: 5, jitter: 0)
    let store = try SQLiteChunkStore(path: SQLiteChunkStoreTests.temporaryFile(), policy: policy, now: clock.now, random: { 0 })
    let job = try store.createJob(name: "walk", chunks: [(0, 10)])
    let driver = Driver(store: store, job: job, expire: {
      clock.advance(31)
      return try store.reapExpiredLeases()
    }, now: clock.now, advance: clock.advance)
    try walk(driver, steps: 600, seed: 7, policy: policy)
  }

  /// The cluster store on a real PostgreSQL server: no backoff (its clock is the server's), a
  /// lease expired by moving its expiry into the past.
  @Test func theClusterStoreFollowsTheMachine() throws {
    let policy = RetryPolicy(maxAttempts: 3, baseDelay: 0, maxDelay: 0, jitter: 0)
    let store = try PostgresChunkStore(url: try TestPostgres.database(), policy: policy)
    let job = try store.createJob(name: "walk", chunks: [(0, 10)])
    let driver = Driver(store: store, job: job, expire: {
      try store.connection.query("UPDATE chunks SET lease_expires_at = now() - interval '1 second' WHERE state = 'leased'")
      return try store.reapExpiredLeases()
    }, now: { 0 }, advance: { _ in })
    try walk(driver, steps: 300, seed: 11, policy: policy)
  }
}
