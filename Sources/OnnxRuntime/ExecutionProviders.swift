import COnnxRuntime
import Foundation

/// An execution provider a user can ask for with `--execution-providers`.
public enum ExecutionProviderKind: String, Sendable, CaseIterable, Equatable, Hashable, Codable {
  case cpu
  case cuda
  case tensorrt

  /// The name ONNX Runtime lists in GetAvailableProviders.
  public var ortName: String {
    switch self {
    case .cpu: "CPUExecutionProvider"
    case .cuda: "CUDAExecutionProvider"
    case .tensorrt: "TensorrtExecutionProvider"
    }
  }
}

/// CUDA provider settings (FaceFusion uses EXHAUSTIVE conv algo search).
public struct CUDAProviderOptions: Sendable, Equatable {
  public enum ArenaExtendStrategy: String, Sendable, Codable, CaseIterable { case nextPowerOfTwo = "kNextPowerOfTwo", sameAsRequested = "kSameAsRequested" }
  public enum ConvAlgoSearch: String, Sendable, Codable, CaseIterable { case exhaustive = "EXHAUSTIVE", heuristic = "HEURISTIC", `default` = "DEFAULT" }

  /// Upper bound for CUDA's memory arena in bytes; nil lets ORT use the whole device.
  public var gpuMemoryLimit: Int64?
  public var arenaExtendStrategy: ArenaExtendStrategy
  public var convAlgoSearch: ConvAlgoSearch

  public init(gpuMemoryLimit: Int64? = nil, arenaExtendStrategy: ArenaExtendStrategy = .sameAsRequested,
              convAlgoSearch: ConvAlgoSearch = .exhaustive) {
    self.gpuMemoryLimit = gpuMemoryLimit
    self.arenaExtendStrategy = arenaExtendStrategy
    self.convAlgoSearch = convAlgoSearch
  }

  func keyValues(deviceID: Int) -> [(String, String)] {
    var pairs = [("device_id", String(deviceID)), ("arena_extend_strategy", arenaExtendStrategy.rawValue),
                 ("cudnn_conv_algo_search", convAlgoSearch.rawValue)]
    if let gpuMemoryLimit { pairs.append(("gpu_mem_limit", String(gpuMemoryLimit))) }
    return pairs
  }
}

/// TensorRT provider settings. Engines are cached because building one takes minutes.
public struct TensorRTProviderOptions: Sendable, Equatable {
  public var fp16: Bool
  /// Folder for engine and timing caches; nil disables caching.
  public var cacheDirectory: String?
  public var builderOptimizationLevel: Int

  public init(fp16: Bool = true, cacheDirectory: String? = nil, builderOptimizationLevel: Int = 4) {
    self.fp16 = fp16
    self.cacheDirectory = cacheDirectory
    self.builderOptimizationLevel = builderOptimizationLevel
  }

  func keyValues(deviceID: Int) -> [(String, String)] {
    var pairs = [("device_id", String(deviceID)), ("trt_fp16_enable", fp16 ? "1" : "0"),
                 ("trt_builder_optimization_level", String(builderOptimizationLevel))]
    if let cacheDirectory {
      pairs += [("trt_engine_cache_enable", "1"), ("trt_engine_cache_path", cacheDirectory),
                ("trt_timing_cache_enable", "1"), ("trt_timing_cache_path", cacheDirectory)]
    }
    return pairs
  }
}

/// How sessions are executed: providers in preference order, devices and provider settings.
public struct ExecutionOptions: Sendable, Equatable {
  /// Providers in preference order (`--execution-providers`). CPU is always the last resort.
  public var providers: [ExecutionProviderKind]
  /// GPU device ids (`--execution-device-ids`); the first one is used by a session unless the
  /// caller picks another (one worker per GPU).
  public var deviceIDs: [Int]
  /// When true, a provider that cannot attach is an error instead of a fallback.
  public var strictProviders: Bool
  public var cuda: CUDAProviderOptions
  public var tensorrt: TensorRTProviderOptions
  public var graphOptimization: GraphOptimizationLevel

  public init(providers: [ExecutionProviderKind] = [.cpu], deviceIDs: [Int] = [0], strictProviders: Bool = false,
              cuda: CUDAProviderOptions = CUDAProviderOptions(), tensorrt: TensorRTProviderOptions = TensorRTProviderOptions(),
              graphOptimization: GraphOptimizationLevel = ORT_ENABLE_ALL) {
    self.providers = providers.isEmpty ? [.cpu] : providers
    self.deviceIDs = deviceIDs.isEmpty ? [0] : deviceIDs
    self.strictProviders = strictProviders
    self.cuda = cuda
    self.tensorrt = tensorrt
    self.graphOptimization = graphOptimization
  }
}

/// The outcome of trying to attach one provider.
public struct ProviderAttachment: Sendable, Equatable {
  public let provider: ExecutionProviderKind
  public let deviceID: Int
  /// nil when the provider attached; otherwise ORT's reason.
  public let failure: String?
  public var attached: Bool { failure == nil }
}

extension OrtRuntime {
  /// Appends one provider to session options. CPU needs no call: ORT always has it.
  func append(_ provider: ExecutionProviderKind, deviceID: Int, options: ExecutionOptions,
              to sessionOptions: OpaquePointer) throws(OnnxRuntimeError) {
    let api = handle.api
    switch provider {
    case .cpu:
      return
    case .cuda:
      var cudaOptions: OpaquePointer?
      try handle.check(api.CreateCUDAProviderOptions!(&cudaOptions), "creating CUDA options")
      defer { api.ReleaseCUDAProviderOptions!(cudaOptions) }
      try withKeyValues(options.cuda.keyValues(deviceID: deviceID)) { keys, values, count throws(OnnxRuntimeError) in
        try handle.check(api.UpdateCUDAProviderOptions!(cudaOptions, keys, values, count), "configuring CUDA")
      }
      try handle.check(api.SessionOptionsAppendExecutionProvider_CUDA_V2!(sessionOptions, cudaOptions),
                       "attaching CUDA provider")
    case .tensorrt:
      if let folder = options.tensorrt.cacheDirectory {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      }
      var trtOptions: OpaquePointer?
      try handle.check(api.CreateTensorRTProviderOptions!(&trtOptions), "creating TensorRT options")
      defer { api.ReleaseTensorRTProviderOptions!(trtOptions) }
      try withKeyValues(options.tensorrt.keyValues(deviceID: deviceID)) { keys, values, count throws(OnnxRuntimeError) in
        try handle.check(api.UpdateTensorRTProviderOptions!(trtOptions, keys, values, count), "configuring TensorRT")
      }
      try handle.check(api.SessionOptionsAppendExecutionProvider_TensorRT_V2!(sessionOptions, trtOptions),
                       "attaching TensorRT provider")
    }
  }

  /// Tries to attach `provider` to fresh session options, without loading any model. This is
  /// what `swapline doctor` reports: a listed provider is not necessarily a working one.
  public func probeProvider(_ provider: ExecutionProviderKind, deviceID: Int = 0,
                            options: ExecutionOptions = ExecutionOptions()) -> ProviderAttachment {
    let api = handle.api
    var sessionOptions: OpaquePointer?
    do throws(OnnxRuntimeError) {
      try handle.check(api.CreateSessionOptions!(&sessionOptions), "creating session options")
      defer { api.ReleaseSessionOptions!(sessionOptions) }
      guard let sessionOptions else { throw OnnxRuntimeError(.runtime(1), "no session options") }
      if provider != .cpu, !compiledProviders().contains(provider.ortName) {
        throw OnnxRuntimeError(
          .providerUnavailable,
          "\(provider.ortName) is not compiled into \(libraryPath) (CPU-only build; install the onnxruntime-gpu wheel)")
      }
      try append(provider, deviceID: deviceID, options: options, to: sessionOptions)
      return ProviderAttachment(provider: provider, deviceID: deviceID, failure: nil)
    } catch {
      return ProviderAttachment(provider: provider, deviceID: deviceID, failure: error.message)
    }
  }
}

/// Calls `body` with C arrays of NUL-terminated keys and values that live for the call.
func withKeyValues<R>(_ pairs: [(String, String)],
                      _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>, Int) throws(OnnxRuntimeError) -> R)
  throws(OnnxRuntimeError) -> R {
  let keys = pairs.map { strdup($0.0) }
  let values = pairs.map { strdup($0.1) }
  defer {
    keys.forEach { free($0) }
    values.forEach { free($0) }
  }
  let constKeys = keys.map { UnsafePointer($0) }
  let constValues = values.map { UnsafePointer($0) }
  return try constKeys.withUnsafeBufferPointer { keyBuffer throws(OnnxRuntimeError) in
    try constValues.withUnsafeBufferPointer { valueBuffer throws(OnnxRuntimeError) in
      try body(keyBuffer.baseAddress!, valueBuffer.baseAddress!, pairs.count)
    }
  }
}
