import ArgumentParser
import Benchmarks
import FaceAnalysis
import Foundation
import Swapping
import Imaging
import OnnxRuntime

struct Benchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure performance on fixed workloads (build with -c release for meaningful figures).",
    subcommands: [DetectBenchmark.self, KernelBenchmark.self, VideoBenchmark.self, StoreBenchmark.self])
}

/// Detection latency from Swift against the same ONNX session run alone on the same prepared
/// tensor, interleaved in one run so machine noise hits both alike; the difference is what our
/// pre/post-processing costs.
struct DetectBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "detect",
    abstract: "Face detection latency: full Swift path vs. the bare ONNX session on the same input.")

  @Argument(help: "Image to detect on.")
  var image: String

  @Option(help: "Timed iterations of each variant.")
  var iterations = 30

  @Option(help: "Untimed warm-up iterations.")
  var warmup = 3

  @OptionGroup(title: "Face detector") var detector: FaceDetectorArguments
  @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
  @OptionGroup(title: "Execution") var execution: ExecutionArguments

  func run() async throws {
    try await reportingErrors {
      guard iterations > 0, warmup >= 0 else { throw CLIError.badInput("--iterations must be positive") }
      let picture = try readInputImage(image).converted(toChannels: 3)
      let runtime = try execution.makeRuntime()
      let pool = InferencePool(runtime: runtime, configuration: InferencePoolConfiguration(budgetBytes: .max, execution: execution.options))
      let faceDetector = try detector.makeDetector(pool: pool, store: models.store)
      guard faceDetector.backends.count == 1, detector.angles == [0] else {
        throw CLIError.badInput("benchmark detect measures one model at one angle; pick a single --face-detector-model")
      }
      let backend = faceDetector.backends[0]
      let measured = try DetectionLatency.measure(faceDetector, on: picture, size: detector.options.size, iterations: iterations, warmup: warmup)
      let (full, bare, stages, faceCount) = (measured.full, measured.bare, measured.stages, measured.faces)
      let n = Double(iterations)
      print("benchmark detect: \(image) \(picture.width)x\(picture.height), model \(backend.session.modelPath)")
      print("  size \(detector.options.size), \(runtime.threading.intraOpThreads) intra-op threads, \(iterations) iterations after \(warmup) warm-up, \(faceCount) faces")
      print(String(format: "  full Swift detect     median %8.2f ms  mean %8.2f ms", median(full), full.reduce(0, +) / n))
      print(String(format: "  bare ONNX session run median %8.2f ms  mean %8.2f ms", median(bare), bare.reduce(0, +) / n))
      print(String(format: "  stages (mean): preprocess %.2f ms, inference %.2f ms, postprocess %.2f ms",
                   stages.preprocess * 1000 / n, stages.inference * 1000 / n, stages.postprocess * 1000 / n))
      print(String(format: "  overhead: %.2f ms per image, full/bare ratio %.3f", median(full) - median(bare), median(full) / median(bare)))
    }
  }
}

/// Throughput of the image kernels on a real photo, in megapixels per second of output.
struct KernelBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kernels",
    abstract: "Image kernel throughput (resize, rotate, detector input preparation) in megapixels/s.")

  @Argument(help: "Image to work on.")
  var image: String

  @Option(help: "Timed repetitions per kernel.")
  var iterations = 20

  func run() async throws {
    try await reportingErrors {
      let picture = try readInputImage(image).converted(toChannels: 3)
      guard iterations > 0 else { throw CLIError.badInput("--iterations must be positive") }
      print("benchmark kernels: \(image) \(picture.width)x\(picture.height), \(iterations) iterations (median)")
      for result in KernelThroughput.measure(picture, iterations: iterations) {
        let name = result.kernel, ms = result.milliseconds
        print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: " %8.2f ms  %8.1f MP/s", ms, result.megapixelsPerSecond))
      }
    }
  }
}
