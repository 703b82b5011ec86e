import Foundation
@testable import Jobs
import Synchronization
import Testing

/// The embedded job store on real SQLite files.
@Suite struct SQLiteChunkStoreTests {
  /// A clock the tests move by hand.
  final class ManualClock: Sendable {
    let time = Mutex(1_000.0)
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
    var now: @Sendable () -> Double { { [self] in time.withLock { $0 } } }
  }

  func store(_ path: String? = nil, clock: ManualClock = ManualClock(), maxAttempts: Int = 3) throws -> SQLiteChunkStore {
    try SQLiteChunkStore(path: path ?? Self.temporaryFile(), policy: RetryPolicy(maxAttempts: maxAttempts, baseDelay: 2, maxDelay: 60, jitter: 0),
                         now: clock.now, random: { 0 })
  }

  static func temporaryFile() -> String { NSTemporaryDirectory() + "swapline-jobs-\(UUID().uuidString).sqlite" }

  @Test func chunksGoPendingLeasedDone() throws {
    let store = try store()
    let job = try store.createJob(name: "clip.mp4", chunks: [(0, 100), (100, 100), (200, 50)])
    let first = try #require(try store.claim(worker: "w1", leaseSeconds: 30))
    #expect(first.index == 0 && first.attempt == 1 && first.startFrame == 0 && first.frameCount == 100)
    #expect(try store.complete(first, output: "seg_0.t\(first.token).ts"))
    let states = try store.chunks(job: job).map(\.state)
    #expect(states == [.done, .pending, .pending])
    #expect(try store.chunks(job: job)[0].output == "seg_0.t\(first.token).ts")
  }

  @Test func aStaleLeaseIsFencedOut() throws {
    let clock = ManualClock()
    let store = try store(clock: clock)
    let job = try store.createJob(name: "clip", chunks: [(0, 10)])
    let stale = try #require(try store.claim(worker: "stalled", leaseSeconds: 10))
    clock.advance(11)
    #expect(try store.reapExpiredLeases() == 1)
    clock.advance(2)  // backoff after attempt 1: 2 s
    let fresh = try #require(try store.claim(worker: "healthy", leaseSeconds: 10))
    #expect(fresh.token > stale.token && fresh.attempt == 2)
    // The stalled worker wakes up: its renewal and commit change nothing.
    #expect(try !store.renew(stale, leaseSeconds: 10))
    #expect(try !store.complete(stale, output: "stale.ts"))
    #expect(try store.complete(fresh, output: "fresh.ts"))
    let record = try store.chunks(job: job)[0]
    #expect(record.output == "fresh.ts" && record.infrastructureFailures == 1)
  }

  @Test func failuresBackOffThenDieAndRetryRevives() throws {
    let clock = ManualClock()
    let store = try store(clock: clock, maxAttempts: 3)
    let job = try store.createJob(name: "clip", chunks: [(0, 10)])
    for attempt in 1...3 {
      let lease = try #require(try store.claim(worker: "w", leaseSeconds: 30), "attempt \(attempt)")
      let state = try store.fail(lease, error: "corrupt frame range")
      #expect(state == (attempt == 3 ? .dead : .pending))
      // Backoff 2, 4 s: not claimable before it has passed.
      if attempt < 3 {
        #expect(try store.claim(worker: "w", leaseSeconds: 30) == nil)
        clock.advance(Double(2 << (attempt - 1)))
      }
    }
    let dead = try store.chunks(job: job)[0]
    #expect(dead.state == .dead && dead.lastError == "corrupt frame range" && dead.attempt == 3)
    #expect(try store.retry(job: job) == 1)
    #expect(try store.claim(worker: "w", leaseSeconds: 30)?.attempt == 1)
  }

  @Test func concurrentClaimersTakeEveryChunkExactlyOnce() throws {
    let path = Self.temporaryFile()
    let setup = try store(path)
    let job = try setup.createJob(name: "big", chunks: (0..<400).map { ($0 * 10, 10) })
    let claimed = Mutex([ChunkLease]())
    let failures = Mutex([String]())
    DispatchQueue.concurrentPerform(iterations: 8) { worker in
      do {
        // Each claimer has its own connection, as separate worker processes would.
        let store = try SQLiteChunkStore(path: path)
        while let lease = try store.claim(worker: "w\(worker)", leaseSeconds: 60) {
          claimed.withLock { $0.append(lease) }
          _ = try store.complete(lease, output: "seg_\(lease.index).ts")
        }
      } catch {
        failures.withLock { $0.append("\(error)") }
      }
    }
    #expect(failures.withLock { $0 }.isEmpty)
    let leases = claimed.withLock { $0 }
    #expect(leases.count == 400)
    #expect(Set(leases.map(\.index)).count == 400)
    #expect(try setup.chunks(job: job).allSatisfy { $0.state == .done })
  }

  @Test func theSchemaMigratesOnceAndReopens() throws {
    let path = Self.temporaryFile()
    let job = try store(path).createJob(name: "persisted", chunks: [(0, 5)])
    let reopened = try store(path)
    #expect(try reopened.chunks(job: job).count == 1)
    // Each migration was applied exactly once, in order, across both opens.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import sqlite3,sys;print([r[0] for r in sqlite3.connect(sys.argv[1]).execute('select version from schema_migrations order by version')])", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    let versions = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(versions == "[" + (1...SQLiteChunkStore.migrations.count).map(String.init).joined(separator: ", ") + "]")
    #expect { _ = try SQLiteChunkStore(path: "/nonexistent/folder/jobs.sqlite") } throws: {
      "\($0)".contains("cannot open job store /nonexistent/folder/jobs.sqlite")
    }
  }
}
