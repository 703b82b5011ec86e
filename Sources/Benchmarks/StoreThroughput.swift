import Foundation
import Jobs
import Pipeline
import Synchronization

/// The cluster store's claim and commit cost against a real PostgreSQL server: one round of
/// `claimers` threads (each with its own connection, as separate workers have) claiming and
/// committing a job's chunks until none is left, with a coordinator loop (reap expired leases and
/// check the job's completion every 0.2 s) beside them.
public struct StoreThroughput: Sendable {
  public let claimers: Int
  /// Milliseconds of each claim + commit round trip, sorted.
  public let latencies: [Double]
  public let seconds: Double
  public let coordinatorCPUSeconds: Double

  public var claimsPerSecond: Double { Double(latencies.count) / seconds }
  public var p99: Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))] }

  public static func measure(database: String, claimers: Int, chunks: Int) async throws -> StoreThroughput {
    let setup = try PostgresChunkStore(url: database)
    let job = try setup.createJob(name: "bench-\(claimers)", chunks: (0..<chunks).map { ($0 * 100, 100) })
    let latencies = Mutex<[Double]>([])
    let done = StopSignal()
    let coordinator = DedicatedThread { () -> Double in
      guard let store = try? PostgresChunkStore(url: database) else { return 0 }
      let started = threadCPUSeconds()
      while !done.raised {
        _ = try? store.reapExpiredLeases()
        _ = try? store.chunks(job: job).allSatisfy { $0.state == .done }
        done.wait(seconds: 0.2)
      }
      return threadCPUSeconds() - started
    }
    let started = ContinuousClock.now
    // One thread per claimer (concurrentPerform would run only as many as there are cores).
    let threads = (0..<claimers).map { worker in
      DedicatedThread {
        guard let store = try? PostgresChunkStore(url: database) else { return }
        var mine: [Double] = []
        while true {
          var lease: ChunkLease?
          let ms = milliseconds {
            lease = try? store.claim(worker: "bench\(worker)", job: job, leaseSeconds: 60)
            if let lease { _ = try? store.complete(lease, output: "chunk-\(lease.index).t\(lease.token).ts") }
          }
          guard lease != nil else { break }
          mine.append(ms)
        }
        latencies.withLock { $0 += mine }
      }
    }
    for thread in threads { try await onDedicatedThread { try thread.join() } }
    let elapsed = ContinuousClock.now - started
    done.raise()
    let cpu = try coordinator.join()
    return StoreThroughput(claimers: claimers, latencies: latencies.withLock { $0 }.sorted(),
                           seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                           coordinatorCPUSeconds: cpu)
  }
}
