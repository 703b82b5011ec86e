import Foundation
import OnnxRuntime
import Testing

/// This machine has no GPU and the CPU wheel: CUDA and TensorRT must fail cleanly and fall back.
@Suite struct ProviderTests {
  @Test func cpuAttachesAndGpuProvidersReportWhyNot() {
    let runtime = Fixtures.runtime
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
    let cuda = CUDAProviderOptions(gpuMemoryLimit: 4 << 30)
    let execution = ExecutionOptions(providers: [.cuda], deviceIDs: [1], cuda: cuda,
                                     tensorrt: TensorRTProviderOptions(cacheDirectory: "/tmp/trt"))
    #expect(execution.deviceIDs == [1])
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
