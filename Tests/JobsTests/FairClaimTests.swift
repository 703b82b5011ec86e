import Foundation
import Jobs
import TestSupport
import Testing

/// Claims share workers fairly between tenants, in both stores: a tenant that queued many jobs
/// first does not starve one that queues a job after them.
@Suite(.serialized) struct FairClaimTests {
  /// Tenant A queues three jobs of two chunks, then B one job; one worker claims without naming
  /// a job. Returns the tenant of each claim, in order.
  func claimOrder(_ store: any ChunkStore) throws -> [String] {
    var tenantOf: [Int64: String] = [:]
    for index in 0..<3 {
      tenantOf[try store.createJob(name: "a\(index)", fingerprint: "", spec: "{}", tenant: "A", chunks: [(0, 10), (10, 10)])] = "A"
    }
    tenantOf[try store.createJob(name: "b", fingerprint: "", spec: "{}", tenant: "B", chunks: [(0, 10), (10, 10)])] = "B"
    var order: [String] = []
    while let lease = try store.claim(worker: "w", job: nil, leaseSeconds: 30) {
      order.append(tenantOf[lease.jobID]!)
      #expect(try store.complete(lease, output: "x"))
      // The clock must move between claims for "least recently served" to mean something.
      Thread.sleep(forTimeInterval: 0.01)
    }
    return order
  }

  @Test func sqliteAlternatesTenantsWhileBothHaveWork() throws {
    let store = try SQLiteChunkStore(path: NSTemporaryDirectory() + "swapline-fair-\(UUID().uuidString).sqlite")
    let order = try claimOrder(store)
    #expect(order == ["A", "B", "A", "B", "A", "A", "A", "A"])
  }

  @Test func postgresAlternatesTenantsWhileBothHaveWork() throws {
    let store = try PostgresChunkStore(url: try TestPostgres.database())
    let order = try claimOrder(store)
    #expect(order == ["A", "B", "A", "B", "A", "A", "A", "A"])
  }

  @Test func aTenantWithALeasedChunkYieldsTheNextClaimToAnIdleOne() throws {
    let store = try SQLiteChunkStore(path: NSTemporaryDirectory() + "swapline-fair-\(UUID().uuidString).sqlite")
    let a1 = try store.createJob(name: "a1", fingerprint: "", spec: "{}", tenant: "A", chunks: [(0, 10), (10, 10)])
    _ = try store.createJob(name: "a2", fingerprint: "", spec: "{}", tenant: "A", chunks: [(0, 10)])
    let b = try store.createJob(name: "b", fingerprint: "", spec: "{}", tenant: "B", chunks: [(0, 10)])
    let first = try #require(try store.claim(worker: "w1", job: nil, leaseSeconds: 30))
    #expect(first.jobID == a1)
    // A holds a lease: a second worker is given B's job, not A's next chunk.
    #expect(try store.claimableJob(excluding: []) == b)
    #expect(try store.claim(worker: "w2", job: nil, leaseSeconds: 30)?.jobID == b)
    #expect(try store.job(a1)?.startedAt != nil && store.job(a1)?.tenant == "A")
  }

  /// A tenant at its concurrent-jobs limit gets no new job (its running one goes on); others do.
  func concurrencyLimitIsKept(_ store: any ChunkStore) throws {
    try store.setConcurrentJobLimit(tenant: "A", limit: 1)
    let a1 = try store.createJob(name: "a1", fingerprint: "", spec: "{}", tenant: "A", chunks: [(0, 10), (10, 10)])
    let a2 = try store.createJob(name: "a2", fingerprint: "", spec: "{}", tenant: "A", chunks: [(0, 10)])
    let first = try #require(try store.claim(worker: "w1", job: nil, leaseSeconds: 30))
    #expect(first.jobID == a1)
    // A renders a1: a second worker helps with a1, not starting a2.
    let second = try #require(try store.claim(worker: "w2", job: nil, leaseSeconds: 30))
    #expect(second.jobID == a1)
    // Nothing else of A's may start while a1 runs, though a2 waits.
    #expect(try store.claim(worker: "w3", job: nil, leaseSeconds: 30) == nil)
    #expect(try store.claimableJob(excluding: []) == nil)
    #expect(try store.complete(first, output: "x") && store.complete(second, output: "x"))
    // a1 is through: a2 may start.
    #expect(try store.claim(worker: "w1", job: nil, leaseSeconds: 30)?.jobID == a2)
    // No limit: both of B's jobs start at once.
    let b1 = try store.createJob(name: "b1", fingerprint: "", spec: "{}", tenant: "B", chunks: [(0, 10)])
    let b2 = try store.createJob(name: "b2", fingerprint: "", spec: "{}", tenant: "B", chunks: [(0, 10)])
    let started = Set([try store.claim(worker: "w3", job: nil, leaseSeconds: 30)?.jobID, try store.claim(worker: "w4", job: nil, leaseSeconds: 30)?.jobID])
    #expect(started == [b1, b2])
  }

  @Test func sqliteKeepsATenantsConcurrentJobLimit() throws {
    try concurrencyLimitIsKept(try SQLiteChunkStore(path: NSTemporaryDirectory() + "swapline-fair-\(UUID().uuidString).sqlite"))
  }

  @Test func postgresKeepsATenantsConcurrentJobLimit() throws {
    try concurrencyLimitIsKept(try PostgresChunkStore(url: try TestPostgres.database()))
  }
}
