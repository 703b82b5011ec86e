import ArgumentParser
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
      let prepared = FaceDetector.prepareInput(picture, size: detector.options.size, family: backend.family)
      let inputName = backend.session.inputs[0].name

      var full: [Double] = [], bare: [Double] = []
      var stages = DetectionTimings()
      var faceCount = 0
      for iteration in 0..<(warmup + iterations) {
        var timings = DetectionTimings()
        let fullStart = ContinuousClock.now
        faceCount = try faceDetector.detect(picture, timings: &timings).count
        let fullTime = ContinuousClock.now - fullStart
        let bareStart = ContinuousClock.now
        _ = try backend.session.run([inputName: prepared.tensor])
        let bareTime = ContinuousClock.now - bareStart
        guard iteration >= warmup else { continue }
        full.append(fullTime.milliseconds)
        bare.append(bareTime.milliseconds)
        stages.preprocess += timings.preprocess
        stages.inference += timings.inference
        stages.postprocess += timings.postprocess
      }
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

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  guard !sorted.isEmpty else { return 0 }
  return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
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
      let fit = min(640.0 / Double(picture.width), 640.0 / Double(picture.height))
      let (smallWidth, smallHeight) = (Int(Double(picture.width) * fit), Int(Double(picture.height) * fit))
      let angle = 10.0 * Double.pi / 180
      let tilt = AffineTransform(a: cos(angle), b: -sin(angle), tx: 200, c: sin(angle), d: cos(angle), ty: -150)
      // A slightly turned square around the picture's centre (half its shorter side) as the face
      // crop, so the paste-back region lies inside the picture whatever its size.
      let scale = 512 / (0.5 * Double(min(picture.width, picture.height)))
      let (centreX, centreY) = (Double(picture.width) / 2, Double(picture.height) / 2)
      let crop = AffineTransform(a: scale, b: 0.15 * scale, tx: 256 - scale * (centreX + 0.15 * centreY),
                                 c: -0.15 * scale, d: scale, ty: 256 - scale * (-0.15 * centreX + centreY))
      let frameMask = Mask(width: picture.width, height: picture.height, fill: 0.5)
      let faceCrop = picture.warpedAffine(crop, width: 512, height: 512)
      let cropMask = Mask.box(width: 512, height: 512)
      let kernels: [(String, Int, () -> Void)] = [
        ("resize bilinear to 640", smallWidth * smallHeight, { _ = picture.resizedBilinear(width: smallWidth, height: smallHeight) }),
        ("resize area to 640", smallWidth * smallHeight, { _ = picture.resizedArea(width: smallWidth, height: smallHeight) }),
        ("resize bilinear x2 up", picture.width * picture.height * 4,
         { _ = picture.resizedBilinear(width: picture.width * 2, height: picture.height * 2) }),
        ("rotate quarter turn", picture.width * picture.height, { _ = picture.rotated(quarterTurns: 1) }),
        ("warp affine full frame (10 degrees)", picture.width * picture.height,
         { _ = picture.warpedAffine(tilt, width: picture.width, height: picture.height) }),
        ("warp affine 512x512 face crop", 512 * 512, { _ = picture.warpedAffine(crop, width: 512, height: 512) }),
        ("gaussian blur 512x512 mask (sigma 32, box 0.5)", 512 * 512, { _ = Mask.box(width: 512, height: 512, blur: 0.5) }),
        ("gaussian blur full-frame mask (sigma 8)", picture.width * picture.height, { _ = frameMask.gaussianBlurred(sigma: 8) }),
        ("paste back 512x512 crop (warp + blend)", 512 * 512,
         { _ = picture.pastingBack(faceCrop, mask: cropMask, transform: crop) }),
        ("detector input 640 (resize + planar float)", 640 * 640,
         { _ = FaceDetector.prepareInput(picture, size: 640, family: .scrfd) }),
      ]
      print("benchmark kernels: \(image) \(picture.width)x\(picture.height), \(iterations) iterations (median)")
      for (name, outputPixels, body) in kernels {
        body()
        var times: [Double] = []
        for _ in 0..<iterations {
          let started = ContinuousClock.now
          body()
          times.append((ContinuousClock.now - started).milliseconds)
        }
        let ms = median(times)
        print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: " %8.2f ms  %8.1f MP/s", ms, Double(outputPixels) / 1e6 / (ms / 1000)))
      }
    }
  }
}
