import Foundation
import ServiceLifecycle
import Synchronization

/// A metric declared once: its name, kind, help text and (for histograms) bucket bounds. Code
/// records through the value, so a name is never spelled twice and a help text never drifts.
public struct Metric: Sendable, Hashable {
  public enum Kind: String, Sendable { case counter, gauge, histogram }
  public let name: String
  public let kind: Kind
  public let help: String
  public let buckets: [Double]

  public init(_ name: String, _ kind: Kind, _ help: String, buckets: [Double] = []) {
    self.name = name
    self.kind = kind
    self.help = help
    self.buckets = buckets
  }
}

/// Counters, gauges and histograms rendered in Prometheus' text exposition format. Thread-safe;
/// one registry per process, passed to whoever records into it.
// @unchecked: every map is read and written under `lock`.
public final class MetricsRegistry: @unchecked Sendable {
  private let lock = NSLock()
  private var help: [String: (type: String, text: String)] = [:]
  private var values: [String: [String: Double]] = [:]  // name -> rendered labels -> value
  private var histograms: [String: [String: Histogram]] = [:]

  struct Histogram {
    let bounds: [Double]
    var counts: [Int]
    var sum = 0.0
    var count = 0
  }

  public init() {}

  static func render(_ labels: [String: String]) -> String {
    guard !labels.isEmpty else { return "" }
    return "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value.replacingOccurrences(of: "\"", with: "\\\""))\"" }
      .joined(separator: ",") + "}"
  }

  /// Declares metrics, so their help and type are exposed even before a first sample.
  public func describe(_ metrics: [Metric]) {
    lock.withLock { for metric in metrics { help[metric.name] = (metric.kind.rawValue, metric.help) } }
  }

  public func increment(_ metric: Metric, by amount: Double = 1, labels: [String: String] = [:]) {
    lock.withLock { values[metric.name, default: [:]][Self.render(labels), default: 0] += amount }
  }

  public func set(_ metric: Metric, _ value: Double, labels: [String: String] = [:]) {
    lock.withLock { values[metric.name, default: [:]][Self.render(labels)] = value }
  }

  /// Replaces every sample of a gauge (e.g. chunks by state, where a state can drop to none).
  public func replace(_ metric: Metric, with samples: [([String: String], Double)]) {
    lock.withLock { values[metric.name] = Dictionary(samples.map { (Self.render($0.0), $0.1) }, uniquingKeysWith: { $1 }) }
  }

  /// Records into a histogram with the metric's buckets.
  public func observe(_ metric: Metric, _ value: Double, labels: [String: String] = [:]) {
    lock.withLock {
      let key = Self.render(labels)
      var histogram = histograms[metric.name]?[key] ?? Histogram(bounds: metric.buckets, counts: Array(repeating: 0, count: metric.buckets.count))
      for (index, bound) in histogram.bounds.enumerated() where value <= bound { histogram.counts[index] += 1 }
      histogram.sum += value
      histogram.count += 1
      histograms[metric.name, default: [:]][key] = histogram
    }
  }

  /// The exposition text.
  public func text() -> String {
    lock.withLock {
      var out = ""
      for name in Set(values.keys).union(histograms.keys).sorted() {
        if let (type, text) = help[name] { out += "# HELP \(name) \(text)\n# TYPE \(name) \(type)\n" }
        for (labels, value) in (values[name] ?? [:]).sorted(by: { $0.key < $1.key }) {
          out += "\(name)\(labels) \(Self.format(value))\n"
        }
        for (labels, histogram) in (histograms[name] ?? [:]).sorted(by: { $0.key < $1.key }) {
          let inner = labels.isEmpty ? "" : String(labels.dropFirst().dropLast()) + ","
          for (bound, count) in zip(histogram.bounds, histogram.counts) {
            out += "\(name)_bucket{\(inner)le=\"\(Self.format(bound))\"} \(count)\n"
          }
          out += "\(name)_bucket{\(inner)le=\"+Inf\"} \(histogram.count)\n"
          out += "\(name)_sum\(labels) \(Self.format(histogram.sum))\n\(name)_count\(labels) \(histogram.count)\n"
        }
      }
      return out
    }
  }

  static func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
  }
}

/// Serves `GET /metrics` (any path) with the registry's text over plain HTTP/1.1 on a thread:
/// enough for Prometheus' scraper, with no dependency on an HTTP framework.
// @unchecked: the socket is set once in init; the accept thread only reads it (and `stopping` is atomic).
public final class MetricsServer: @unchecked Sendable {
  public let port: Int
  private let socketDescriptor: Int32
  private let registry: MetricsRegistry
  /// Called before each scrape to refresh gauges that are read on demand.
  private let refresh: @Sendable () -> Void

  public struct Failure: Error, CustomStringConvertible { public let description: String }

  public init(port: Int, registry: MetricsRegistry, refresh: @escaping @Sendable () -> Void = {}) throws {
    self.registry = registry
    self.refresh = refresh
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw Failure(description: "cannot create a socket") }
    var yes: Int32 = 1
    setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr = in_addr(s_addr: INADDR_ANY)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(descriptor, 16) == 0 else {
      close(descriptor)
      throw Failure(description: "cannot listen on port \(port): \(String(cString: strerror(errno)))")
    }
    var actual = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
    self.port = Int(UInt16(bigEndian: actual.sin_port))
    socketDescriptor = descriptor
    Thread.detachNewThread { [self] in serve() }
  }

  /// Set by `stop()`; the accept loop closes the socket once it sees it.
  private let stopping = Atomic<Bool>(false)

  /// Stops accepting scrapes; the serving thread closes the socket.
  public func stop() {
    guard !stopping.exchange(true, ordering: .relaxed) else { return }
    shutdown(socketDescriptor, Int32(SHUT_RDWR))
  }

  private func serve() {
    while true {
      let client = accept(socketDescriptor, nil, nil)
      guard client >= 0 else {
        if stopping.load(ordering: .relaxed) {
          close(socketDescriptor)
          return
        }
        // A failed accept (an aborted connection, descriptors exhausted) is not the end of the
        // endpoint: try again, after a moment when it is about resources.
        if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { _ = poll(nil, 0, 100) }
        continue
      }
      // A client that connects and sends nothing cannot hold the endpoint for long.
      var timeout = timeval(tv_sec: 5, tv_usec: 0)
      setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      var buffer = [UInt8](repeating: 0, count: 4096)
      _ = read(client, &buffer, buffer.count)  // the request itself does not matter
      refresh()
      let body = Array(registry.text().utf8)
      let header = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
      let response = Array(header.utf8) + body
      var written = 0
      while written < response.count {
        let count = response[written...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        written += count
      }
      close(client)
    }
  }
}

/// The metrics endpoint as a service: it serves until the service group shuts down.
public struct MetricsEndpoint: Service, CustomStringConvertible {
  public let server: MetricsServer
  public init(server: MetricsServer) { self.server = server }
  public var description: String { "metrics endpoint :\(server.port)" }

  public func run() async throws {
    // Ends on graceful shutdown (SIGTERM) or cancellation alike.
    try? await gracefulShutdown()
    server.stop()
  }
}
