import Foundation
@testable import OnnxRuntime
import Testing

/// This machine has no GPU and the CPU wheel: CUDA and TensorRT must fail cleanly and fall back.
@Suite struct ProviderTests {
  @Test func cpuAttachesAndGpuProvidersReportWhyNot() throws {
    let runtime = try Fixtures.runtime
    #expect(runtime.probeProvider(.cpu).attached)
    for provider in [ExecutionProviderKind.cuda, .tensorrt] {
      let attachment = runtime.probeProvider(provider)
      #expect(!attachment.attached)
      #expect(attachment.failure?.contains(provider.ortName) == true)
    }
  }

  @Test func fallsBackToCpuUnlessStrict() throws {
    let options = ExecutionOptions(providers: [.tensorrt, .cuda, .cpu])
    let session = try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.scrfdModel, options: options)
    #expect(session.provider == .cpu)
    #expect(session.fallbacks.map(\.provider) == [.tensorrt, .cuda])
    #expect(session.fallbacks.allSatisfy { $0.failure != nil })

    let strict = ExecutionOptions(providers: [.cuda], strictProviders: true)
    #expect {
      _ = try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.scrfdModel, options: strict)
    } throws: { error in
      (error as? OnnxRuntimeError)?.code == .providerUnavailable
    }
  }

  @Test func providerSettingsBecomeOrtKeys() {
    // The keys ONNX Runtime's CUDA and TensorRT V2 option structs take (its provider docs), typed
    // out here rather than read from the code under test.
    let cuda = CUDAProviderOptions(gpuMemoryLimit: 4 << 30)
    #expect(Dictionary(uniqueKeysWithValues: cuda.keyValues(deviceID: 1)) == [
      "device_id": "1", "gpu_mem_limit": "4294967296", "arena_extend_strategy": "kSameAsRequested",
      "cudnn_conv_algo_search": "EXHAUSTIVE",
    ])
    #expect(Dictionary(uniqueKeysWithValues: CUDAProviderOptions().keyValues(deviceID: 0))["gpu_mem_limit"] == nil)
    let tensorrt = TensorRTProviderOptions(cacheDirectory: "/tmp/trt")
    #expect(Dictionary(uniqueKeysWithValues: tensorrt.keyValues(deviceID: 2)) == [
      "device_id": "2", "trt_fp16_enable": "1", "trt_builder_optimization_level": "4",
      "trt_engine_cache_enable": "1", "trt_engine_cache_path": "/tmp/trt", "trt_timing_cache_enable": "1", "trt_timing_cache_path": "/tmp/trt",
    ])
    #expect(Dictionary(uniqueKeysWithValues: TensorRTProviderOptions(fp16: false).keyValues(deviceID: 0)) == [
      "device_id": "0", "trt_fp16_enable": "0", "trt_builder_optimization_level": "4",
    ])
    #expect(ExecutionOptions(providers: [], deviceIDs: []).providers == [.cpu])
  }

  @Test func libraryLocatorHonoursTheSearchOrder() {
    let explicit = OrtLibraryLocator(environment: ["SWAPLINE_ORT_LIBRARY": "/opt/ort/libonnxruntime.so"],
                                     currentDirectory: Fixtures.root, executableDirectory: nil)
    #expect(explicit.resolve() == ["/opt/ort/libonnxruntime.so"])
    let project = OrtLibraryLocator(environment: [:], currentDirectory: Fixtures.root, executableDirectory: nil)
    #expect(project.resolve() == [Fixtures.root + "/vendor/onnxruntime/libonnxruntime.so.1"])
    let nothing = OrtLibraryLocator(environment: [:], currentDirectory: "/nonexistent", executableDirectory: nil)
    #expect(nothing.resolve() == ["libonnxruntime.so.1", "libonnxruntime.so", "libonnxruntime.dylib"])
  }
}
