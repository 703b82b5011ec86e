import ArgumentParser
import Foundation
import Swapping
import Jobs
import Pipeline
import Synchronization

/// `swapline benchmark store`: the cluster store's claim and commit cost, measured against a real
/// PostgreSQL server, for docs/CLUSTER.md's capacity estimate.
struct StoreBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "store",
    abstract: "Chunk store throughput: claim+commit latency and claims per second with N concurrent claimers.",
    discussion: """
      For each --claimers count: creates a job of --chunks chunks, then that many threads (each with \
      its own connection, as separate workers have) claim and commit chunks until none is left, \
      while a coordinator loop (reap expired leases + check the job's completion, every 0.2 s) runs \
      beside them. Reports claims per second, the median and 99th percentile of one claim+commit \
      round trip, and the coordinator loop's CPU time per chunk.
      """)

  @Option(name: .customLong("database"), help: "PostgreSQL URL (a scratch database: tables are created in it).")
  var database: String

  @Option(parsing: .upToNextOption, help: "Concurrent claimers per round.")
  var claimers: [Int] = [1, 8, 32]

  @Option(help: "Chunks per round.")
  var chunks = 2000

  func run() async throws {
    try await reportingErrors {
      let setup: PostgresChunkStore
      do { setup = try PostgresChunkStore(url: database) } catch { throw CLIError.failure("\(error)") }
      print("benchmark store: \(chunks) chunks per round, PostgreSQL at \(PostgresConnection.redacted(database))")
      for count in claimers where count > 0 {
        let job = try setup.createJob(name: "bench-\(count)", chunks: (0..<chunks).map { ($0 * 100, 100) })
        let latencies = Mutex<[Double]>([])
        // The coordinator's loop beside the claimers, polling every 0.2 s: its CPU seconds.
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
        let finished = DispatchSemaphore(value: 0)
        for worker in 0..<count {
          Thread.detachNewThread {
            defer { finished.signal() }
            guard let store = try? PostgresChunkStore(url: database) else { return }
            var mine: [Double] = []
            while true {
              let began = ContinuousClock.now
              guard let lease = try? store.claim(worker: "bench\(worker)", job: job, leaseSeconds: 60) else { break }
              _ = try? store.complete(lease, output: "chunk-\(lease.index).t\(lease.token).ts")
              mine.append((ContinuousClock.now - began).milliseconds)
            }
            latencies.withLock { $0 += mine }
          }
        }
        for _ in 0..<count { await withCheckedContinuation { continuation in DispatchQueue.global().async { finished.wait(); continuation.resume() } } }
        let seconds = (ContinuousClock.now - started).milliseconds / 1000
        done.raise()
        let coordinatorCPU = try coordinator.join()
        let all = latencies.withLock { $0 }.sorted()
        let p99 = all.isEmpty ? 0 : all[min(all.count - 1, Int(Double(all.count) * 0.99))]
        print(String(format: "  %2d claimers: %d chunks in %.2f s = %.0f claims+commits/s; one claim+commit median %.2f ms, p99 %.2f ms; coordinator loop %.3f ms CPU per chunk",
                     count, all.count, seconds, Double(all.count) / seconds, median(all), p99, coordinatorCPU * 1000 / Double(max(all.count, 1))))
      }
    }
  }
}

/// CPU time of the calling thread.
func threadCPUSeconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
