import ArgumentParser
import FaceAnalysis
import Foundation
import Swapping
import Imaging
import Models
import OnnxRuntime
import Media
import Pipeline
import Processors

extension FaceSelectorMode: ExpressibleByArgument {}
extension FaceSelectorOrder: ExpressibleByArgument {}
extension VideoEncoding.Encoder: ExpressibleByArgument {}

struct Swap: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Swap the face from the source image(s) into a target image or video.",
    discussion: """
      By default the offline classic swapper warps the source face onto each target face's \
      68-point geometry, matches its colour and blends it in. With --face-swapper-model NAME a \
      FaceFusion zoo swapper from --models-dir is used as FaceFusion uses it (it needs \
      arcface_w600k_r50.onnx, and crossface_* for simswap, ghost and hififace). \
      The output format follows OUTPUT's extension (.png, .jpg, .webp; .mp4, .mkv, .mov, .webm for a \
      video target, streamed through ffmpeg with the target's audio) and carries a provenance \
      label saying it was produced by face swapping. A target without faces is written unchanged \
      with a warning; a source without a face is an error (exit 2).
      """)

  @Option(name: [.customShort("s"), .customLong("source")], parsing: .upToNextOption, help: "Source image(s) with the face to use.")
  var sources: [String] = []

  @Option(name: [.customShort("t"), .customLong("target")], help: "Target image whose faces are replaced.")
  var target: String

  @Option(name: [.customShort("o"), .customLong("output")], help: "Output image path.")
  var output: String

  @Option(name: .customLong("face-swapper-model"),
          help: "classic (offline default) or a FaceFusion zoo swapper present in --models-dir: inswapper_128(_fp16), hyperswap_1a/1b/1c_256, simswap_256, simswap_unofficial_512, ghost_1/2/3_256, hififace_unofficial_256, blendswap_256, uniface_256.")
  var swapperModel: String = "classic"

  @Option(name: .customLong("face-swapper-weight"), parsing: .unconditional, help: "Identity weight 0-1 for neural swappers (0.5 = the source identity).")
  var weight: Float = 0.5

  @Option(name: .customLong("face-swapper-pixel-boost"), help: "Crop size for neural swappers, a multiple of the model size, e.g. 512x512 for a 128 or 256 model.")
  var pixelBoost: String?

  @Option(name: .customLong("face-mask-blur"), parsing: .unconditional, help: "Box mask blur 0-1 for neural swappers.")
  var maskBlur: Float = 0.3

  @Option(name: .customLong("face-mask-types"), parsing: .upToNextOption,
          help: "Neural swappers' masks, combined by per-pixel minimum: box, occlusion (xseg), region (bisenet), area (68 points).")
  var maskTypes: [String] = ["box"]

  @Option(name: .customLong("face-mask-padding"), parsing: .upToNextOption, help: "Box mask padding in percent: top right bottom left.")
  var maskPadding: [Int] = [0, 0, 0, 0]

  @Option(name: .customLong("face-mask-areas"), parsing: .upToNextOption, help: "Area mask: upper-face, lower-face, mouth.")
  var maskAreas: [String] = FaceMaskArea.allCases.map(\.rawValue)

  @Option(name: .customLong("face-mask-regions"), parsing: .upToNextOption,
          help: "Region mask classes: skin, left-eyebrow, right-eyebrow, left-eye, right-eye, glasses, nose, mouth, upper-lip, lower-lip.")
  var maskRegions: [String] = FaceMaskRegion.allCases.map(\.rawValue)

  @Option(name: .customLong("face-occluder-model"), help: "xseg_1, xseg_2, xseg_3 or many.")
  var occluderModel: String = "xseg_1"

  @Option(name: .customLong("face-parser-model"), help: "bisenet_resnet_18 or bisenet_resnet_34.")
  var parserModel: String = "bisenet_resnet_34"

  @Option(name: .customLong("processors"), parsing: .upToNextOption,
          help: "Processors in order: face_swapper, face_enhancer, frame_enhancer.")
  var processors: [String] = ["face_swapper"]

  @Option(name: .customLong("face-enhancer-model"), help: "Face enhancer from --models-dir (gfpgan_1.4, codeformer, gpen_bfr_512, ...).")
  var faceEnhancerModel: String = "gfpgan_1.4"

  @Option(name: .customLong("face-enhancer-blend"), parsing: .unconditional, help: "Face enhancer blend 0-100.")
  var faceEnhancerBlend: Int = 80

  @Option(name: .customLong("frame-enhancer-model"), help: "Frame enhancer from --models-dir (real_esrgan_x2, real_esrgan_x4, span_kendata_x4, ...).")
  var frameEnhancerModel: String = "span_kendata_x4"

  @Option(name: .customLong("frame-enhancer-blend"), parsing: .unconditional, help: "Frame enhancer blend 0-100.")
  var frameEnhancerBlend: Int = 80

  @Option(name: .customLong("face-landmarker-model"),
          help: "2dfan4 or peppa_wutz (from --models-dir) refine the five alignment points of neural swappers; auto uses 2dfan4 when present, none keeps the detector's points.")
  var landmarkerModel: String = "auto"

  @Option(name: .customLong("face-landmarker-score"), parsing: .unconditional, help: "Minimum landmark score for the five points to come from the 68 (0.5).")
  var landmarkerScore: Float = 0.5

  @Option(name: .customLong("face-selector-mode"),
          help: "many: every target face; one: the first in --face-selector-order; reference: faces like the reference face (needs arcface_w600k_r50.onnx). FaceFusion defaults to reference; ours is many because the offline pack has no recogniser.")
  var selectorMode: FaceSelectorMode = .many

  @Option(name: .customLong("face-selector-order"), help: "left-right, right-left, top-bottom, bottom-top, small-large, large-small, best-worst, worst-best.")
  var selectorOrder: FaceSelectorOrder = .largeSmall

  @Option(name: .customLong("reference-face-position"), parsing: .unconditional, help: "Which face of the target (in selector order) is the reference.")
  var referencePosition: Int = 0

  @Option(name: .customLong("reference-face-distance"), parsing: .unconditional, help: "Largest face distance 0-1 that still matches the reference (0.3).")
  var referenceDistance: Float = 0.3

  @Option(name: .customLong("output-image-quality"), parsing: .unconditional, help: "JPEG/WebP quality 0-100 (100 = lossless WebP).")
  var quality: Int = 90

  @Option(name: .customLong("output-video-quality"), parsing: .unconditional, help: "Video quality 0-100 (libx264 crf = 51 - 0.51 x quality).")
  var videoQuality: Int = 80

  @Option(name: .customLong("output-video-preset"), help: "Encoder preset: ultrafast ... veryslow (mapped for nvenc and vp9).")
  var videoPreset: String = "veryfast"

  @Option(name: .customLong("output-video-encoder"),
          help: "libx264, libx265, libvpx-vp9, h264_nvenc, hevc_nvenc (fall back to libx264/libx265 without an NVIDIA GPU), or ffv1 (lossless, .mkv).")
  var videoEncoder: VideoEncoding.Encoder = .libx264

  @Option(name: .customLong("chunk-size"), parsing: .unconditional, help: "Video: frames per chunk, the unit of resuming and of sharing work between workers.")
  var chunkSize: Int = 100

  @Option(name: .customLong("workers"), parsing: .unconditional, help: "Video: worker processes on this machine claiming chunks of the job (e.g. one per GPU).")
  var workers: Int = 1

  @Option(name: .customLong("jobs-dir"), help: "Video: folder of the job store and chunk segments (default: .swapline-jobs next to OUTPUT).")
  var jobsDirectory: String?

  @Flag(name: .customLong("restart"), help: "Video: start over instead of resuming an unfinished run of the same command.")
  var restart = false

  @Option(name: .customLong("log-level"), help: "error, warn, info (progress bar, default) or debug (a line per chunk).")
  var logLevel: LogLevel = .info

  @Flag(name: .customLong("no-thread-pinning"),
        help: "Video on CPU: do not pin the inference thread to the first core and decoding/rendering/encoding to the others.")
  var noThreadPinning = false

  @Option(name: .customLong("database"),
          help: "Video: submit the job to the cluster store at this PostgreSQL URL instead of running it here (`swapline worker` processes render it, `swapline coordinator` writes OUTPUT).")
  var database: String?

  @Option(name: .customLong("storage"), help: "Video, with --database: the shared folder (mounted by every node) for chunk segments.")
  var storage: String?

  @Option(name: .customLong("lease-seconds"), parsing: .unconditional, help: "Video: how long a chunk's lease lasts without renewal (renewed every third of it).")
  var leaseSeconds: Double = 30

  @Option(name: .customLong("run-report"),
          help: "Video: write a JSON report of the run to this file: stage times, each model's runs timed in the pipeline and re-timed alone (the inference floor), peak memory (what `swapline benchmark video` reads).")
  var runReport: String?

  @Option(name: .customLong("face-detector-interval"), parsing: .unconditional,
          help: "Video: run the detector on every k-th frame and track faces in between (1 = every frame).")
  var detectorInterval: Int = 2

  @Option(name: .customLong("face-tracker-smoothing"), parsing: .unconditional,
          help: "Video: weight 0-1 of a new detection in the tracked face position (1 = no smoothing).")
  var trackerSmoothing: Float = 0.6

  @Option(name: .customLong("trim-frame-start"), parsing: .unconditional, help: "First video frame to process.")
  var trimFrameStart: Int?

  @Option(name: .customLong("trim-frame-end"), parsing: .unconditional, help: "Video frame to stop before.")
  var trimFrameEnd: Int?

  @Flag(name: .long, help: "Print the time spent in each stage.")
  var profile = false

  @OptionGroup(title: "Face detector") var detector: FaceDetectorArguments
  @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
  @OptionGroup(title: "Execution") var execution: ExecutionArguments
  @OptionGroup(title: "Memory") var memory: MemoryArguments

  /// The configuration's own rules (one place, shared with `jobs submit --config`), then the
  /// ones about how and where this run works.
  func validate() throws {
    let configuration = try makeConfiguration()
    do { try configuration.validate() } catch { throw ValidationError(error.description) }
    if database != nil {
      guard storage != nil else { throw ValidationError("--database needs --storage, the shared folder for segments") }
      guard configuration.isVideo else { throw ValidationError("--database is for videos; images are swapped here at once") }
    }
    guard (1...64).contains(workers) else { throw ValidationError("--workers takes 1 to 64") }
    guard leaseSeconds >= 1 else { throw ValidationError("--lease-seconds must be at least 1 (a lease is renewed every third of it)") }
    if let database, database.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--database needs a PostgreSQL URL") }
    if let storage, storage.isEmpty { throw ValidationError("--storage needs a folder") }
    if let jobsDirectory, jobsDirectory.isEmpty { throw ValidationError("--jobs-dir needs a folder") }
    if let directory = models.modelsDirectory {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("--models-dir \(directory) is not a folder")
      }
    }
  }

  /// How and where this run works (not part of the job's identity).
  var runSettings: RunSettings {
    var settings = RunSettings()
    settings.workers = workers
    settings.jobsDirectory = jobsDirectory
    settings.restart = restart
    settings.leaseSeconds = leaseSeconds
    settings.threadPinning = !noThreadPinning
    settings.recordReport = runReport != nil
    settings.faults = FaultInjection(environment: ProcessInfo.processInfo.environment)
    settings.version = Swapline.configuration.version
    return settings
  }

  func run() async throws {
    try await reportingErrors {
      let configuration = try makeConfiguration()
      let settings = runSettings
      if let database, let storage {
        // Cluster mode: the job is submitted; workers render it and the coordinator writes OUTPUT.
        let run = SwapRun(configuration: configuration, settings: settings, events: RunEventPrinter(level: logLevel).callAsFunction)
        let prepared = try run.submit(to: try ClusterArguments.openForSubmission(database: database, storage: storage, leaseSeconds: leaseSeconds))
        print("job \(prepared.job): \(prepared.resumed ? "already submitted" : "submitted"), \(prepared.chunkCount) chunks (\(prepared.doneChunks) done)")
        return
      }
      let outcome = try runHere(configuration, settings: settings, logLevel: logLevel)
      if case .image(let faces) = outcome.kind {
        print("\(output): \(outcome.swapped ? "swapped" : "processed") \(faces) face\(faces == 1 ? "" : "s")")
      }
      if let runReport, let report = outcome.report {
        do { try JSONEncoder().encode(report).write(to: URL(fileURLWithPath: runReport)) } catch {
          throw CLIError.failure("cannot write --run-report \(runReport): \(error)")
        }
      }
      if profile {
        if let placement = outcome.placement { print("  placement: " + placement) }
        outcome.timer.printReport()
        for session in outcome.pool.residentSessions where session.runs.count > 0 {
          let (count, seconds) = session.runs
          print("  model " + (session.modelPath as NSString).lastPathComponent + String(format: ": %d runs, %.1f ms (%.1f ms a run, %@)",
                count, seconds * 1000, seconds * 1000 / Double(count), session.provider.rawValue as NSString))
        }
      }
    }
  }
}

extension StageTimer {
  func printReport() {
    for (stage, milliseconds) in report { print("  " + stage.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: " %9.1f ms", milliseconds)) }
  }
}
