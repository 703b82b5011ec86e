import ArgumentParser
import Foundation
import Swapping
import Jobs
import Benchmarks

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
      // Fails fast, and creates the tables, before the rounds start.
      do { _ = try PostgresChunkStore(url: database) } catch { throw CLIError.failure("\(error)") }
      print("benchmark store: \(chunks) chunks per round, PostgreSQL at \(PostgresConnection.redacted(database))")
      for count in claimers where count > 0 {
        let round = try await StoreThroughput.measure(database: database, claimers: count, chunks: chunks)
        print(String(format: "  %2d claimers: %d chunks in %.2f s = %.0f claims+commits/s; one claim+commit median %.2f ms, p99 %.2f ms; coordinator loop %.3f ms CPU per chunk",
                     count, round.latencies.count, round.seconds, round.claimsPerSecond, median(round.latencies), round.p99,
                     round.coordinatorCPUSeconds * 1000 / Double(max(round.latencies.count, 1))))
      }
    }
  }
}
