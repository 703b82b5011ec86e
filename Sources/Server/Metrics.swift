import Foundation
import Hummingbird
import Logging
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
    return "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escaped($0.value))\"" }.joined(separator: ",") + "}"
  }

  /// Prometheus' label value escapes (backslash, quote, newline); most values need none, and
  /// this runs for every API request.
  static func escaped(_ value: String) -> String {
    guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
    return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n")
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

/// Serves `GET /metrics` with the registry's text on Hummingbird (the HTTP API's framework), as a
/// service: it listens until the service group shuts down. `onListening` gets the bound port
/// (0 asks for any free one).
public struct MetricsEndpoint: Service, CustomStringConvertible {
  let application: any Service
  public let description: String

  public init(host: String = "0.0.0.0", port: Int, registry: MetricsRegistry, refresh: @escaping @Sendable () -> Void = {},
              onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
    let router = Router()
    router.get("/metrics") { _, _ in
      refresh()
      return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: registry.text())))
    }
    var quiet = Logger(label: "swapline.metrics")
    quiet.logLevel = .warning
    application = Application(router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "swapline"),
                              onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) }, logger: quiet)
    description = "metrics endpoint :\(port)"
  }

  public func run() async throws { try await application.run() }
}
