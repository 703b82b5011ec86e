import ArgumentParser
import Foundation
import Media
import Models
import OnnxRuntime

struct Doctor: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check the installation: ONNX Runtime, execution providers that really attach, threads, ffmpeg, models.",
    discussion: "Exits 1 when something the default (CPU) path needs is missing.")

  @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
  @OptionGroup(title: "Execution") var execution: ExecutionArguments
  @OptionGroup(title: "Memory") var memory: MemoryArguments

  func run() async throws {
    try await reportingErrors {
      var healthy = true
      print("swapline \(Swapline.configuration.version)")
      do {
        let runtime = try OrtRuntime(threading: ThreadingOptions(intraOpThreads: execution.threadCount))
        print("onnxruntime: \(runtime.version) (\(runtime.libraryPath))")
        print("  compiled providers: \(runtime.compiledProviders().joined(separator: ", "))")
        for provider in ExecutionProviderKind.allCases {
          let attachment = runtime.probeProvider(provider, deviceID: execution.deviceIDs[0], options: execution.options)
          if let failure = attachment.failure {
            print("  \(provider.rawValue): not attachable: \(failure)")
          } else {
            print("  \(provider.rawValue): attached (device \(attachment.deviceID))")
          }
        }
        let threading = runtime.threading
        print("threads: intra-op \(threading.intraOpThreads) (global pool), inter-op \(threading.interOpThreads), "
              + "spinning \(threading.allowSpinning ? "on" : "off"), \(ProcessInfo.processInfo.activeProcessorCount) cores")
      } catch {
        healthy = false
        print("onnxruntime: NOT LOADED: \(error)")
      }
      let pool = memory.configuration(execution: execution)
      print(String(format: "memory: %.1f GiB RAM, session budget %.1f GiB, video memory strategy %@",
                   Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824, Double(pool.budgetBytes) / 1_073_741_824,
                   pool.strategy.rawValue as NSString))
      for tool in ["ffmpeg", "ffprobe"] {
        if let line = try? runTool(tool, ["-version"]).split(separator: "\n").first {
          print("\(tool): \(line)")
        } else {
          healthy = false
          print("\(tool): NOT FOUND (apt-get install ffmpeg)")
        }
      }
      let store = models.store
      print("models: \(store.directory)")
      for spec in ModelCatalog.all where spec.isOfflinePack {
        // A truncated or altered file is not "present": its hash is checked.
        switch store.verify(spec) {
        case .missing:
          print("  \(spec.name): MISSING (run make setup)")
          healthy = false
        case .mismatch(let expected, let actual):
          print("  \(spec.name): DAMAGED (\(store.locate(spec) ?? "")): sha256 \(actual), expected \(expected); run make setup again")
          healthy = false
        case .ok(let method):
          print("  \(spec.name): present, \(method) ok (\(store.locate(spec) ?? ""))")
        case .unverifiable(let reason):
          print("  \(spec.name): present (\(store.locate(spec) ?? "")), not verifiable: \(reason)")
        }
      }
      if !healthy { throw ExitCode(1) }
    }
  }
}
