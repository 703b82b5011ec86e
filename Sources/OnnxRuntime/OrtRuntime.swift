import COnnxRuntime
import Foundation

/// The loaded C API table. Immutable after loading; ONNX Runtime's API functions are thread-safe.
final class OrtApiHandle: @unchecked Sendable {
  let api: OrtApi
  let version: String
  let libraryPath: String

  init(api: OrtApi, version: String, libraryPath: String) {
    self.api = api
    self.version = version
    self.libraryPath = libraryPath
  }
}

/// Threading for the process-wide ONNX Runtime environment.
public struct ThreadingOptions: Sendable, Equatable {
  /// Threads used inside one operator (`--execution-thread-count`). Default: the number of cores.
  public var intraOpThreads: Int
  /// Threads running independent graph branches; 1 because our graphs are sequential.
  public var interOpThreads: Int
  /// Whether idle pool threads spin before sleeping. Spinning lowers latency but burns a core that
  /// decode/encode stages could use; ORT's default is on.
  public var allowSpinning: Bool

  public init(intraOpThreads: Int = ProcessInfo.processInfo.activeProcessorCount, interOpThreads: Int = 1,
              allowSpinning: Bool = true) {
    self.intraOpThreads = max(1, intraOpThreads)
    self.interOpThreads = max(1, interOpThreads)
    self.allowSpinning = allowSpinning
  }
}

/// One ONNX Runtime environment with global thread pools, shared by every session of the
/// process. Create it once (in `main` or a test fixture) and pass it down.
public final class OrtRuntime: Sendable {
  let handle: OrtApiHandle
  // nonisolated(unsafe): ORT environments are thread-safe and this one is never replaced.
  nonisolated(unsafe) let environment: OpaquePointer
  public let threading: ThreadingOptions

  /// The ORT version string, e.g. "1.31.1".
  public var version: String { handle.version }
  /// The file the dynamic loader actually opened.
  public var libraryPath: String { handle.libraryPath }

  /// Loads the library (see ``OrtLibraryLocator`` for the search order) and creates the environment.
  public init(locator: OrtLibraryLocator = OrtLibraryLocator(), threading: ThreadingOptions = ThreadingOptions(),
              logLevel: OrtLoggingLevel = ORT_LOGGING_LEVEL_ERROR) throws(OnnxRuntimeError) {
    let handle = try Self.loadLibrary(candidates: locator.resolve())
    let api = handle.api
    var options: OpaquePointer?
    try handle.check(api.CreateThreadingOptions!(&options), "creating threading options")
    defer { api.ReleaseThreadingOptions!(options) }
    try handle.check(api.SetGlobalIntraOpNumThreads!(options, Int32(threading.intraOpThreads)), "setting intra-op threads")
    try handle.check(api.SetGlobalInterOpNumThreads!(options, Int32(threading.interOpThreads)), "setting inter-op threads")
    try handle.check(api.SetGlobalSpinControl!(options, threading.allowSpinning ? 1 : 0), "setting spin control")
    var env: OpaquePointer?
    try handle.check(api.CreateEnvWithGlobalThreadPools!(logLevel, "swapline", options, &env), "creating environment")
    guard let env else { throw OnnxRuntimeError(.runtime(1), "creating environment: ORT returned no environment") }
    // ONNX Runtime records usage events (process, model names, sessions) by default; an offline
    // face-swapping tool keeps them off.
    // Best effort: ORT_DISABLE_TELEMETRY (set before loading) already stops it.
    _ = try? handle.check(api.DisableTelemetryEvents!(env), "disabling telemetry events")
    self.handle = handle
    self.environment = env
    self.threading = threading
  }

  // The environment lives as long as the process: releasing it while another runtime value
  // (tests create several) still uses ORT's singleton would tear down shared thread pools.

  static func loadLibrary(candidates: [String]) throws(OnnxRuntimeError) -> OrtApiHandle {
    var failures: [String] = []
    for candidate in candidates {
      var buffer = [CChar](repeating: 0, count: 1024)
      guard let base = swapline_ort_load(candidate, &buffer, buffer.count) else {
        failures.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        continue
      }
      let version = base.pointee.GetVersionString.flatMap { $0() }.map { String(cString: $0) } ?? "unknown"
      guard let apiPointer = base.pointee.GetApi?(UInt32(SWAPLINE_ORT_API_VERSION)) else {
        throw OnnxRuntimeError(
          .unsupportedVersion,
          "ONNX Runtime \(version) at \(candidate) does not serve C API version \(SWAPLINE_ORT_API_VERSION); need 1.17 or newer")
      }
      let path = swapline_ort_loaded_path(base).map { String(cString: $0) } ?? candidate
      return OrtApiHandle(api: apiPointer.pointee, version: version, libraryPath: path)
    }
    throw OnnxRuntimeError(
      .libraryUnavailable,
      "ONNX Runtime library not found or not loadable (\(failures.joined(separator: "; "))). "
        + "Run `make setup` to install it into vendor/onnxruntime, or set SWAPLINE_ORT_LIBRARY to libonnxruntime.so")
  }

  /// Providers compiled into the loaded library. A listed provider may still fail to attach
  /// (e.g. CUDA listed by onnxruntime-gpu on a machine without CUDA libraries): use
  /// ``probeProvider(_:)`` to know whether it really works.
  public func compiledProviders() -> [String] {
    let api = handle.api
    var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    var count: Int32 = 0
    guard (try? handle.check(api.GetAvailableProviders!(&names, &count), "listing providers")) != nil,
      let names
    else { return [] }
    defer { _ = api.ReleaseAvailableProviders!(names, count) }
    return (0..<Int(count)).compactMap { names[$0].map { String(cString: $0) } }
  }
}
