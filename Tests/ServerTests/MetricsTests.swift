import Foundation
import Server
import Synchronization
import Testing

@Suite struct MetricsTests {
  @Test func rendersCountersGaugesAndHistogramsInPrometheusText() {
    let registry = MetricsRegistry()
    let attempts = Metric("swapline_attempts_total", .counter, "Chunk attempts by outcome.")
    let chunks = Metric("swapline_chunks", .gauge, "Chunks by state.")
    let seconds = Metric("swapline_chunk_seconds", .histogram, "Wall time per chunk.", buckets: [0.5, 1, 5])
    registry.describe([attempts])
    registry.increment(attempts, labels: ["outcome": "ok"])
    registry.increment(attempts, by: 2, labels: ["outcome": "ok"])
    registry.increment(attempts, labels: ["outcome": "fenced"])
    registry.replace(chunks, with: [(["state": "done"], 7), (["state": "pending"], 1)])
    registry.observe(seconds, 0.7)
    registry.observe(seconds, 3)
    let text = registry.text()
    #expect(text.contains("# TYPE swapline_attempts_total counter"))
    #expect(text.contains("swapline_attempts_total{outcome=\"ok\"} 3\n"))
    #expect(text.contains("swapline_attempts_total{outcome=\"fenced\"} 1\n"))
    #expect(text.contains("swapline_chunks{state=\"done\"} 7\n"))
    #expect(text.contains("swapline_chunk_seconds_bucket{le=\"0.5\"} 0\n"))
    #expect(text.contains("swapline_chunk_seconds_bucket{le=\"1\"} 1\n"))
    #expect(text.contains("swapline_chunk_seconds_bucket{le=\"+Inf\"} 2\n"))
    #expect(text.contains("swapline_chunk_seconds_sum 3.7\n") && text.contains("swapline_chunk_seconds_count 2\n"))
  }

  @Test func servesTheTextOverHTTP() async throws {
    let registry = MetricsRegistry()
    let up = Metric("swapline_up", .gauge, "1 while serving."), scrapes = Metric("swapline_scrapes_total", .counter, "Scrapes served.")
    registry.set(up, 1)
    let bound = Mutex<Int?>(nil)
    let endpoint = MetricsEndpoint(host: "127.0.0.1", port: 0, registry: registry, refresh: { registry.increment(scrapes) }) { port in
      bound.withLock { $0 = port }
    }
    let serving = Task { try await endpoint.run() }
    defer { serving.cancel() }
    var port: Int?
    for _ in 0..<100 where port == nil {
      try await Task.sleep(for: .milliseconds(50))
      port = bound.withLock { $0 }
    }
    let listening = try #require(port)
    // A plain socket client: GET /metrics, then the server closes as asked.
    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(listening).bigEndian)
    address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    #expect(connected == 0)
    let request = Array("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = read(client, &buffer, buffer.count)
      if count <= 0 { break }
      response += buffer[0..<count]
    }
    close(client)
    let text = String(decoding: response, as: UTF8.self)
    #expect(text.hasPrefix("HTTP/1.1 200 OK"))
    #expect(text.contains("swapline_up 1\n") && text.contains("swapline_scrapes_total 1\n"))
  }
}
