import COnnxRuntime
import Foundation
import Synchronization

/// Which threads run a session's operators.
public enum SessionThreading: String, Sendable, Hashable {
  /// The process-wide intra-op pool (sized by ``ThreadingOptions``), shared by every session
  /// using it, whichever thread calls `run`.
  case globalPool
  /// Only the thread that calls `run`: for a stage kept to one core while others use the pool.
  case callerThread
}

/// The ORT session itself, freed when the last run holding it ends.
// @unchecked: an ORT session pointer; ORT sessions may run on several threads at once.
final class LoadedSession: @unchecked Sendable {
  let pointer: OpaquePointer
  let api: OrtApiHandle

  init(_ pointer: OpaquePointer, api: OrtApiHandle) {
    self.pointer = pointer
    self.api = api
  }

  deinit { api.api.ReleaseSession!(pointer) }
}

/// One loaded model. `run` may be called from several threads at once (ORT sessions are
/// thread-safe for Run); the session is released when the last reference goes away, or earlier
/// by `release()` (FaceFusion's video memory strategies), after which the next `run` loads it
/// again on the provider it had.
public final class InferenceSession: Sendable {
  let runtime: OrtRuntime
  private let loaded: Mutex<LoadedSession?>
  // nonisolated(unsafe): an immutable ORT value, read-only after init.
  nonisolated(unsafe) let memoryInfo: OpaquePointer
  private let options: ExecutionOptions
  private let threading: SessionThreading
  private let reloads = Mutex(0)

  public let modelPath: String
  public let inputs: [TensorInfo]
  public let outputs: [TensorInfo]
  /// The provider the session actually runs on after any fallback.
  public let provider: ExecutionProviderKind
  public let deviceID: Int
  /// Providers that were asked for but could not attach, with ORT's reason.
  public let fallbacks: [ProviderAttachment]
  /// Wall time spent creating the session, in seconds.
  public let loadSeconds: Double
  private let runStatistics = Mutex((count: 0, seconds: 0.0))

  /// How often `run` was called and the wall time it took in total (for `--profile`).
  public var runs: (count: Int, seconds: Double) { runStatistics.withLock { $0 } }

  /// Creates a session, trying `options.providers` in order and falling back to the next one
  /// (CPU last) unless `options.strictProviders` is set.
  public init(runtime: OrtRuntime, modelPath: String, options: ExecutionOptions = ExecutionOptions(),
              deviceID: Int? = nil, threading: SessionThreading = .globalPool) throws(OnnxRuntimeError) {
    guard FileManager.default.fileExists(atPath: modelPath) else {
      throw OnnxRuntimeError(.invalidInput, "model file not found: \(modelPath)")
    }
    let started = DispatchTime.now().uptimeNanoseconds
    let handle = runtime.handle
    let api = handle.api
    let device = deviceID ?? options.deviceIDs[0]
    let (created, chosen, failures) = try Self.load(runtime: runtime, modelPath: modelPath, options: options, device: device, threading: threading)

    var memoryInfo: OpaquePointer?
    do throws(OnnxRuntimeError) {
      try handle.check(api.CreateCpuMemoryInfo!(OrtArenaAllocator, OrtMemTypeDefault, &memoryInfo), "creating memory info")
      self.inputs = try Self.describe(runtime: runtime, session: created, inputs: true)
      self.outputs = try Self.describe(runtime: runtime, session: created, inputs: false)
    } catch {
      api.ReleaseSession!(created)
      throw error
    }
    self.runtime = runtime
    self.loaded = Mutex(LoadedSession(created, api: handle))
    self.memoryInfo = memoryInfo!
    self.modelPath = modelPath
    self.provider = chosen
    self.deviceID = device
    self.fallbacks = failures
    self.options = options
    self.threading = threading
    self.loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
  }

  /// Creates the ORT session on the first provider of `options` that attaches.
  static func load(runtime: OrtRuntime, modelPath: String, options: ExecutionOptions, device: Int,
                   threading: SessionThreading) throws(OnnxRuntimeError) -> (OpaquePointer, ExecutionProviderKind, [ProviderAttachment]) {
    let handle = runtime.handle
    let api = handle.api
    var failures: [ProviderAttachment] = []
    var chosen: ExecutionProviderKind = .cpu
    var created: OpaquePointer?
    let candidates = options.providers.contains(.cpu) ? options.providers : options.providers + [.cpu]

    for provider in candidates {
      var sessionOptions: OpaquePointer?
      try handle.check(api.CreateSessionOptions!(&sessionOptions), "creating session options")
      defer { api.ReleaseSessionOptions!(sessionOptions) }
      switch threading {
      case .globalPool:
        try handle.check(api.DisablePerSessionThreads!(sessionOptions), "using global thread pools")
      case .callerThread:
        // A per-session pool of one thread is no pool: every operator runs on the calling thread.
        try handle.check(api.SetIntraOpNumThreads!(sessionOptions, 1), "setting intra-op threads")
        try handle.check(api.SetInterOpNumThreads!(sessionOptions, 1), "setting inter-op threads")
      }
      try handle.check(api.SetSessionGraphOptimizationLevel!(sessionOptions, options.graphOptimization),
                       "setting graph optimisation")
      do throws(OnnxRuntimeError) {
        if provider != .cpu, !runtime.compiledProviders().contains(provider.ortName) {
          throw OnnxRuntimeError(.providerUnavailable, "\(provider.ortName) is not compiled into this ONNX Runtime build")
        }
        try runtime.append(provider, deviceID: device, options: options, to: sessionOptions!)
        var session: OpaquePointer?
        try handle.check(api.CreateSession!(runtime.environment, modelPath, sessionOptions, &session),
                         "loading \(modelPath) on \(provider.rawValue)")
        created = session
        chosen = provider
        break
      } catch {
        let attachment = ProviderAttachment(provider: provider, deviceID: device, failure: error.message)
        // A CPU failure is a model problem (corrupt file, bad graph), never a provider problem.
        if provider == .cpu || options.strictProviders {
          throw OnnxRuntimeError(provider == .cpu ? error.code : .providerUnavailable, error.message)
        }
        failures.append(attachment)
      }
    }
    guard let created else { throw OnnxRuntimeError(.runtime(1), "no provider could load \(modelPath)") }
    return (created, chosen, failures)
  }

  deinit {
    runtime.handle.api.ReleaseMemoryInfo!(memoryInfo)
  }

  /// Frees the ORT session (its weights and arena) now; a run in progress finishes first on it.
  /// The next `run` loads the model again.
  public func release() { loaded.withLock { $0 = nil } }

  /// Whether the ORT session is in memory (false after `release()` until the next run).
  public var isLoaded: Bool { loaded.withLock { $0 != nil } }

  /// Times the model was loaded again after a `release()`.
  public var reloadCount: Int { reloads.withLock { $0 } }

  /// The ORT session, loaded again (on the provider it had) if it was released.
  private func acquire() throws(OnnxRuntimeError) -> LoadedSession {
    try loaded.withLock { current throws(OnnxRuntimeError) -> LoadedSession in
      if let current { return current }
      var pinned = options
      pinned.providers = [provider]
      pinned.strictProviders = true
      let (pointer, _, _) = try Self.load(runtime: runtime, modelPath: modelPath, options: pinned, device: deviceID, threading: threading)
      let session = LoadedSession(pointer, api: runtime.handle)
      current = session
      reloads.withLock { $0 += 1 }
      return session
    }
  }

  static func describe(runtime: OrtRuntime, session: OpaquePointer, inputs: Bool) throws(OnnxRuntimeError) -> [TensorInfo] {
    let handle = runtime.handle
    let api = handle.api
    var allocator: OpaquePointer?
    try handle.check(api.GetAllocatorWithDefaultOptions!(&allocator), "getting allocator")
    var count = 0
    try handle.check(inputs ? api.SessionGetInputCount!(session, &count) : api.SessionGetOutputCount!(session, &count),
                     "counting tensors")
    var result: [TensorInfo] = []
    for index in 0..<count {
      var namePointer: UnsafeMutablePointer<CChar>?
      try handle.check(
        inputs ? api.SessionGetInputName!(session, index, allocator, &namePointer)
          : api.SessionGetOutputName!(session, index, allocator, &namePointer), "reading tensor name")
      let name = namePointer.map { String(cString: $0) } ?? "?"
      _ = api.AllocatorFree!(allocator, namePointer)

      var typeInfo: OpaquePointer?
      try handle.check(
        inputs ? api.SessionGetInputTypeInfo!(session, index, &typeInfo)
          : api.SessionGetOutputTypeInfo!(session, index, &typeInfo), "reading type of \(name)")
      defer { api.ReleaseTypeInfo!(typeInfo) }
      var tensorInfo: OpaquePointer?  // borrowed from typeInfo, not released
      try handle.check(api.CastTypeInfoToTensorInfo!(typeInfo, &tensorInfo), "reading tensor info of \(name)")
      guard let tensorInfo else {
        result.append(TensorInfo(name: name, elementType: .other(0), shape: []))
        continue
      }
      let (type, shape) = try readTypeAndShape(handle: handle, info: tensorInfo)
      result.append(TensorInfo(name: name, elementType: type, shape: shape))
    }
    return result
  }

  static func readTypeAndShape(handle: OrtApiHandle, info: OpaquePointer) throws(OnnxRuntimeError) -> (TensorElementType, [Int]) {
    let api = handle.api
    var elementType = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED
    try handle.check(api.GetTensorElementType!(info, &elementType), "reading element type")
    var rank = 0
    try handle.check(api.GetDimensionsCount!(info, &rank), "reading rank")
    var dims = [Int64](repeating: 0, count: rank)
    try handle.check(api.GetDimensions!(info, &dims, rank), "reading dimensions")
    return (TensorElementType(elementType), dims.map { Int($0) })
  }

  /// Runs the model. `inputs` are matched by name; missing names are an error. Float32 tensors
  /// fed to float16 inputs are converted. Returns the requested outputs (default: all, in the
  /// model's order).
  public func run(_ inputs: [String: Tensor], outputNames: [String]? = nil) throws(OnnxRuntimeError) -> [Tensor] {
    var ordered: [(TensorInfo, Tensor)] = []
    for info in self.inputs {
      guard var tensor = inputs[info.name] else {
        throw OnnxRuntimeError(.invalidInput, "missing input '\(info.name)' for \(modelPath)")
      }
      try Self.validate(tensor.shape, against: info, model: modelPath)
      if tensor.elementType != info.elementType { tensor = tensor.converted(to: info.elementType) }
      ordered.append((info, tensor))
    }
    let names = outputNames ?? outputs.map(\.name)
    let started = DispatchTime.now().uptimeNanoseconds
    defer {
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
      runStatistics.withLock { $0 = ($0.count + 1, $0.seconds + elapsed) }
    }
    return try withOrtValues(ordered[...], values: []) { (values: [OpaquePointer?]) throws(OnnxRuntimeError) in
      try runValues(inputNames: ordered.map(\.0.name), values: values, outputNames: names)
    }
  }

  static func validate(_ shape: [Int], against info: TensorInfo, model: String) throws(OnnxRuntimeError) {
    let matches = shape.count == info.shape.count && zip(shape, info.shape).allSatisfy { $1 < 0 || $0 == $1 }
    if !matches {
      throw OnnxRuntimeError(.invalidInput, "input '\(info.name)' of \(model) expects shape \(info.shape), got \(shape)")
    }
  }

  /// Wraps each tensor's buffer in an OrtValue without copying; the buffers stay pinned for the
  /// duration of `body` by nesting the `withUnsafeBytes` scopes.
  private func withOrtValues<R>(_ rest: ArraySlice<(TensorInfo, Tensor)>, values: [OpaquePointer?],
                                _ body: ([OpaquePointer?]) throws(OnnxRuntimeError) -> R) throws(OnnxRuntimeError) -> R {
    guard let (info, tensor) = rest.first else { return try body(values) }
    let api = runtime.handle.api
    let shape = tensor.shape.map { Int64($0) }
    let remaining = rest.dropFirst()
    func wrap(_ raw: UnsafeRawBufferPointer) throws(OnnxRuntimeError) -> R {
      var value: OpaquePointer?
      try runtime.handle.check(
        api.CreateTensorWithDataAsOrtValue!(memoryInfo, UnsafeMutableRawPointer(mutating: raw.baseAddress), raw.count,
                                            shape, shape.count, tensor.elementType.onnx, &value),
        "wrapping input '\(info.name)'")
      defer { api.ReleaseValue!(value) }
      return try withOrtValues(remaining, values: values + [value], body)
    }
    switch tensor.storage {
    case .float32(let array): return try withUnsafeRawBuffer(array, wrap)
    case .float16(let array): return try withUnsafeRawBuffer(array, wrap)
    case .int64(let array): return try withUnsafeRawBuffer(array, wrap)
    }
  }

  private func runValues(inputNames: [String], values: [OpaquePointer?], outputNames: [String]) throws(OnnxRuntimeError) -> [Tensor] {
    let handle = runtime.handle
    let api = handle.api
    let inputC = inputNames.map { strdup($0) }
    let outputC = outputNames.map { strdup($0) }
    defer {
      inputC.forEach { free($0) }
      outputC.forEach { free($0) }
    }
    var results = [OpaquePointer?](repeating: nil, count: outputNames.count)
    let inputNamePointers = inputC.map { UnsafePointer($0) }
    let outputNamePointers = outputC.map { UnsafePointer($0) }
    let session = try acquire()
    let status = withExtendedLifetime(session) {
      api.Run!(session.pointer, nil, inputNamePointers, values, values.count, outputNamePointers, outputNames.count, &results)
    }
    defer { results.forEach { api.ReleaseValue!($0) } }
    try handle.check(status, "running \((modelPath as NSString).lastPathComponent)")
    var tensors: [Tensor] = []
    for (index, value) in results.enumerated() {
      guard let value else { throw OnnxRuntimeError(.runtime(1), "output \(outputNames[index]) missing") }
      tensors.append(try copyTensor(value, name: outputNames[index]))
    }
    return tensors
  }

  private func copyTensor(_ value: OpaquePointer, name: String) throws(OnnxRuntimeError) -> Tensor {
    let handle = runtime.handle
    let api = handle.api
    var info: OpaquePointer?
    try handle.check(api.GetTensorTypeAndShape!(value, &info), "reading output '\(name)'")
    defer { api.ReleaseTensorTypeAndShapeInfo!(info) }
    let (type, shape) = try Self.readTypeAndShape(handle: handle, info: info!)
    var data: UnsafeMutableRawPointer?
    try handle.check(api.GetTensorMutableData!(value, &data), "reading output '\(name)' data")
    let count = shape.reduce(1, *)
    guard let data else { return Tensor(shape: shape, floats: []) }
    switch type {
    case .float32:
      return Tensor(shape: shape, floats: Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count)))
    case .float16:
      return Tensor(shape: shape, halfBits: Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: UInt16.self), count: count)))
    case .int64:
      return Tensor(shape: shape, int64s: Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Int64.self), count: count)))
    case .other(let raw):
      throw OnnxRuntimeError(.invalidInput, "output '\(name)' has unsupported element type \(raw)")
    }
  }
}

private func withUnsafeRawBuffer<T, R>(_ array: [T], _ body: (UnsafeRawBufferPointer) throws(OnnxRuntimeError) -> R)
  throws(OnnxRuntimeError) -> R {
  var result: Result<R, OnnxRuntimeError>!
  array.withUnsafeBytes { raw in
    do throws(OnnxRuntimeError) { result = .success(try body(raw)) } catch { result = .failure(error) }
  }
  return try result.get()
}
