import ArgumentParser
import Foundation
import Media
import OnnxRuntime
import Swapping

extension ExecutionProviderKind: ExpressibleByArgument {}
extension VideoMemoryStrategy: ExpressibleByArgument {}

/// FaceFusion's execution group: providers, devices, threads.
struct ExecutionArguments: ParsableArguments {
  @Option(name: .customLong("execution-providers"), parsing: .upToNextOption,
          help: "Execution providers in preference order: cpu, cuda, tensorrt. One that cannot attach falls back to the next (CPU last).")
  var providers: [ExecutionProviderKind] = [.cpu]

  @Option(name: .customLong("execution-device-ids"), parsing: .upToNextOption, help: "GPU device ids to use.")
  var deviceIDs: [Int] = [0]

  @Option(name: .customLong("execution-thread-count"), parsing: .unconditional,
          help: "Threads for ONNX Runtime's global intra-op pool (default: the number of cores; for video, one less, because decoding, rendering and encoding run beside inference).")
  var threadCountOption: Int?

  var threadCount: Int { threadCountOption ?? ProcessInfo.processInfo.activeProcessorCount }

  @Flag(name: .customLong("execution-strict"), help: "Fail instead of falling back when a requested provider cannot attach.")
  var strict = false

  @Option(name: .customLong("cuda-memory-limit"), help: "CUDA arena limit in MiB (default: no limit).")
  var cudaMemoryLimitMiB: Int?

  @Option(name: .customLong("cuda-conv-algo-search"), help: "cuDNN convolution algorithm search: EXHAUSTIVE, HEURISTIC or DEFAULT.")
  var cudaConvAlgoSearch: String = "EXHAUSTIVE"

  @Option(name: .customLong("cuda-arena-extend-strategy"), help: "CUDA arena growth: kNextPowerOfTwo or kSameAsRequested.")
  var cudaArenaStrategy: String = "kSameAsRequested"

  @Flag(name: .customLong("tensorrt-fp32"), help: "Build TensorRT engines in fp32 (default fp16).")
  var tensorrtFP32 = false

  @Option(name: .customLong("tensorrt-cache-dir"), help: "Folder for TensorRT engine and timing caches (default: .swapline/tensorrt).")
  var tensorrtCacheDirectory: String = ".swapline/tensorrt"

  func validate() throws {
    guard threadCountOption.map({ $0 >= 1 }) ?? true else { throw ValidationError("--execution-thread-count must be at least 1") }
    guard CUDAProviderOptions.ConvAlgoSearch(rawValue: cudaConvAlgoSearch) != nil else {
      throw ValidationError("--cuda-conv-algo-search must be EXHAUSTIVE, HEURISTIC or DEFAULT")
    }
    guard CUDAProviderOptions.ArenaExtendStrategy(rawValue: cudaArenaStrategy) != nil else {
      throw ValidationError("--cuda-arena-extend-strategy must be kNextPowerOfTwo or kSameAsRequested")
    }
  }

  /// The configuration's execution group from these options (`validate()` has refused any CUDA
  /// choice the fallbacks below would stand in for).
  var settings: SwapConfiguration.ExecutionSettings {
    var settings = SwapConfiguration.ExecutionSettings()
    settings.providers = providers
    settings.deviceIDs = deviceIDs
    settings.threadCount = threadCountOption
    settings.strict = strict
    settings.cudaMemoryLimitMiB = cudaMemoryLimitMiB
    settings.cudaConvAlgoSearch = .init(rawValue: cudaConvAlgoSearch) ?? .exhaustive
    settings.cudaArenaExtendStrategy = .init(rawValue: cudaArenaStrategy) ?? .sameAsRequested
    settings.tensorrtFP16 = !tensorrtFP32
    settings.tensorrtCacheDirectory = tensorrtCacheDirectory
    return settings
  }

  var options: ExecutionOptions { settings.options }

  func makeRuntime(defaultThreads: Int? = nil) throws -> OrtRuntime {
    try settings.makeRuntime(threads: defaultThreads ?? threadCount, locator: OrtLibraryLocator())
  }
}

/// FaceFusion's memory group plus our session budget.
struct MemoryArguments: ParsableArguments {
  @Option(name: .customLong("video-memory-strategy"),
          help: "FaceFusion's model release once the frames are processed: strict frees every model, moderate the processors' own (face analysis models stay), tolerant none.")
  var strategy: VideoMemoryStrategy = .tolerant

  @Option(name: .customLong("memory-budget"),
          help: "Byte budget for resident model sessions, e.g. 2G or 512M (default: half of RAM; on GPU 80% of device memory).")
  var budget: String?

  func validate() throws {
    if let budget, Self.parseBytes(budget) == nil {
      throw ValidationError("--memory-budget must be a size like 512M, 2G or 1073741824")
    }
  }

  static func parseBytes(_ text: String) -> Int64? {
    let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var digits = text.uppercased()
    if digits.hasSuffix("B") { digits.removeLast() }
    var factor: Int64 = 1
    if let unit = digits.last, let value = units[unit] {
      factor = value
      digits.removeLast()
    }
    guard let number = Double(digits), number > 0 else { return nil }
    return Int64(number * Double(factor))
  }

  /// The configuration's memory group from these options.
  var settings: SwapConfiguration.MemorySettings {
    var settings = SwapConfiguration.MemorySettings()
    settings.videoMemoryStrategy = strategy
    settings.budgetBytes = budget.flatMap(Self.parseBytes)
    return settings
  }

  /// The session pool's settings, as a swap with these options gets them.
  func configuration(execution: ExecutionArguments) -> InferencePoolConfiguration {
    execution.settings.poolConfiguration(memory: settings, analysisOnCallerThread: false)
  }
}

