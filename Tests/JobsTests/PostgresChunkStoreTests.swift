import Foundation
import Jobs
import TestSupport
import Synchronization
import Testing

@Suite(.serialized) struct PostgresChunkStoreTests {
  func store(_ url: String, maxAttempts: Int = 3, baseDelay: Double = 0.2) throws -> PostgresChunkStore {
    try PostgresChunkStore(url: url, policy: RetryPolicy(maxAttempts: maxAttempts, baseDelay: baseDelay, maxDelay: 5, jitter: 0))
  }

  @Test func chunksGoPendingLeasedDoneAndStaleLeasesAreFenced() throws {
    let url = try TestPostgres.database()
    let store = try store(url)
    let job = try store.createJob(name: "clip.mp4", fingerprint: "f1", spec: "{}", chunks: [(0, 100), (100, 100), (200, 50)])
    let first = try #require(try store.claim(worker: "w1", job: job, leaseSeconds: 30))
    #expect(first.index == 0 && first.attempt == 1 && first.startFrame == 0 && first.frameCount == 100)
    #expect(try store.renew(first, leaseSeconds: 30, framesDone: 40))
    #expect(try store.connection.query("SELECT frames_done FROM chunks WHERE job_id = $1 AND idx = 0", [String(job)]).first?[0] == "40")
    #expect(try store.complete(first, output: "chunk-00000.t\(first.token).ts"))
    #expect(try store.chunks(job: job).map(\.state) == [.done, .pending, .pending])
    // A worker that vanished: its lease is released and re-granted; its late commit changes nothing.
    let stale = try #require(try store.claim(worker: "w2", job: job, leaseSeconds: 30))
    #expect(try store.releaseLeases(job: job, owners: ["w2"]) == 1)
    let fresh = try #require(try store.claim(worker: "w3", job: job, leaseSeconds: 30))
    #expect(fresh.index == stale.index && fresh.token > stale.token && fresh.attempt == 2)
    #expect(try !store.renew(stale, leaseSeconds: 30))
    #expect(try !store.complete(stale, output: "stale.ts"))
    #expect(try store.complete(fresh, output: "fresh.ts"))
    let record = try store.chunks(job: job)[1]
    #expect(record.output == "fresh.ts" && record.infrastructureFailures == 1)
    #expect(try store.findJob(fingerprint: "f1", states: [.running])?.id == job)
  }

  @Test func expiredLeasesAreReapedOnTheDatabaseClock() throws {
    let store = try store(try TestPostgres.database(), baseDelay: 2)
    let job = try store.createJob(name: "clip", chunks: [(0, 10)])
    // Windows of whole seconds: a loaded 2-core machine can stall a statement for a fraction of one.
    let lease = try #require(try store.claim(worker: "stalled", job: nil, leaseSeconds: 2))
    #expect(try store.reapExpiredLeases() == 0)
    Thread.sleep(forTimeInterval: 2.5)
    #expect(try store.reapExpiredLeases() == 1)
    #expect(try !store.complete(lease, output: "late.ts"))
    let record = try store.chunks(job: job)[0]
    #expect(record.state == .pending && record.infrastructureFailures == 1 && record.lastError == "lease expired")
    // Backoff after attempt 1 is 2 s: not claimable at once, claimable after.
    #expect(try store.claim(worker: "w", job: job, leaseSeconds: 5) == nil)
    Thread.sleep(forTimeInterval: 2.3)
    #expect(try store.claim(worker: "w", job: job, leaseSeconds: 5)?.attempt == 2)
  }

  @Test func aChunkThatAlwaysFailsBacksOffThenDiesAndRetryRevivesIt() throws {
    let store = try store(try TestPostgres.database(), maxAttempts: 3, baseDelay: 0.1)
    let job = try store.createJob(name: "clip", chunks: [(0, 10)])
    var waits: [Double] = []
    for attempt in 1...3 {
      let started = Date()
      var lease: ChunkLease?
      while lease == nil && Date().timeIntervalSince(started) < 5 {
        lease = try store.claim(worker: "w", job: job, leaseSeconds: 30)
        if lease == nil { Thread.sleep(forTimeInterval: 0.02) }
      }
      let claimed = try #require(lease, "attempt \(attempt)")
      waits.append(Date().timeIntervalSince(started))
      #expect(try store.fail(claimed, error: "corrupt frame 7") == (attempt == 3 ? .dead : .pending))
    }
    // Backoff doubles: 0.1 s before attempt 2, 0.2 s before attempt 3.
    #expect(waits[1] >= 0.09 && waits[2] >= 0.19 && waits[2] > waits[1], "\(waits)")
    let dead = try store.chunks(job: job)[0]
    #expect(dead.state == .dead && dead.lastError == "corrupt frame 7" && dead.attempt == 3)
    #expect(try store.retry(job: job) == 1)
    #expect(try store.claim(worker: "w", job: job, leaseSeconds: 30)?.attempt == 1)
  }

  @Test func eightConcurrentClaimersTakeTwoThousandChunksEachExactlyOnce() throws {
    let url = try TestPostgres.database()
    let job = try store(url).createJob(name: "big", chunks: (0..<2000).map { ($0 * 10, 10) })
    let claimed = Mutex<[Int: Int]>([:])
    let failures = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 8) { worker in
      do {
        let store = try self.store(url)  // one connection per claimer, as separate workers have
        while let lease = try store.claim(worker: "w\(worker)", job: job, leaseSeconds: 60) {
          claimed.withLock { $0[lease.index, default: 0] += 1 }
          _ = try store.complete(lease, output: "s\(lease.index)")
        }
      } catch {
        failures.withLock { $0 += 1 }
      }
    }
    #expect(failures.withLock { $0 } == 0)
    let counts = claimed.withLock { $0 }
    #expect(counts.count == 2000 && counts.values.allSatisfy { $0 == 1 })
    #expect(try store(url).chunks(job: job).allSatisfy { $0.state == .done })
  }

  @Test func aDatabaseRestartIsSurvivedByReconnecting() throws {
    // Its own server: restarting the shared one would disturb tests running beside this one.
    let server = try TestPostgres()
    let url = try TestPostgres.database(on: server)
    let store = try store(url)
    let job = try store.createJob(name: "clip", chunks: [(0, 10), (10, 10)])
    let lease = try #require(try store.claim(worker: "w", job: job, leaseSeconds: 60))
    try server.restart()
    // The next statements find the connection dropped, reconnect and carry on.
    #expect(try store.renew(lease, leaseSeconds: 60))
    #expect(try store.complete(lease, output: "a.ts"))
    #expect(try store.claim(worker: "w", job: job, leaseSeconds: 60)?.index == 1)
    #expect(store.connection.connects >= 2)
  }

  /// What a wait can fix is waited for; what it cannot fails at once. A server whose backend is
  /// terminated (SQLSTATE 57P01, as in a shutdown) is reconnected to; a socket that accepts and
  /// closes during the handshake (a server going down under load) is waited for; a statement error
  /// keeps its SQLSTATE and is not mistaken for a lost connection; a wrong database name is not waited for.
  @Test func connectionFailuresAreToldFromStatementErrors() throws {
    let url = try TestPostgres.database()
    let connection = try PostgresConnection(url: url)
    let pid = try #require(try connection.query("SELECT pg_backend_pid()").first?[0] ?? nil)
    let admin = try PostgresConnection(url: url)
    try admin.query("SELECT pg_terminate_backend($1::int)", [pid])
    #expect(try connection.query("SELECT 1").first?[0] == "1")
    #expect(connection.connects == 2)

    do {
      try connection.query("SELEC 1")
      Issue.record("a syntax error was accepted")
    } catch let failure as PostgresConnection.Failure {
      #expect(failure.sqlState == "42601" && !failure.isConnectionLost, "\(failure)")
    }

    let waits = Mutex(0)
    let missing = url.replacingOccurrences(of: #"/[^/]+$"#, with: "/no_such_database", options: .regularExpression)
    #expect(throws: PostgresConnection.Failure.self) { try PostgresConnection(url: missing, connectAttempts: 3) { _, _, _ in waits.withLock { $0 += 1 } } }
    #expect(waits.withLock { $0 } == 0)

    let closing = try ClosingListener()
    #expect(throws: PostgresConnection.Failure.self) {
      try PostgresConnection(url: "postgresql://postgres@127.0.0.1:\(closing.port)/postgres", connectAttempts: 3) { _, _, reason in
        waits.withLock { $0 += 1 }
        #expect(reason.contains("closed the connection"), "\(reason)")
      }
    }
    #expect(waits.withLock { $0 } == 2)
  }

  @Test func listenersAreWokenWhenChunksBecomeClaimable() throws {
    let url = try TestPostgres.database()
    let listener = try store(url)
    try listener.listen()
    let producer = try store(url)
    #expect(!listener.connection.waitForNotification(timeout: 0.2))
    _ = try producer.createJob(name: "clip", chunks: [(0, 10)])
    #expect(listener.connection.waitForNotification(timeout: 5))
  }
}

/// A TCP listener on 127.0.0.1 that accepts every connection and closes it at once.
final class ClosingListener: Sendable {
  let port: Int
  private let socketDescriptor: Int32

  init() throws {
    let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    socketDescriptor = listening
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(listening, 8) == 0 else { throw CocoaError(.fileWriteUnknown) }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) }
    }
    port = Int(UInt16(bigEndian: address.sin_port))
    let descriptor = listening
    Thread.detachNewThread {
      while true {
        let client = accept(descriptor, nil, nil)
        guard client >= 0 else { return }
        close(client)
      }
    }
  }

  deinit { shutdown(socketDescriptor, Int32(SHUT_RDWR)); close(socketDescriptor) }
}
