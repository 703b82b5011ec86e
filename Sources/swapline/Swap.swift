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

  @Option(name: .customLong("storage"), help: "Video, with --database: where segments and the output go, a folder every node mounts or s3://BUCKET/PREFIX (then OUTPUT is an s3:// URL and local inputs are uploaded).")
  var storage: String?

  @OptionGroup(title: "Object storage (cluster, with --storage s3://...)") var s3: Storage.Connection

  @Option(name: .customLong("lease-seconds"), parsing: .unconditional, help: "Video: how long a chunk's lease lasts without renewal (renewed every third of it).")
  var leaseSeconds: Double = 30

  @Option(name: .customLong("run-report"),
          help: "Video: write a JSON report of the run to this file: stage times, each model's runs timed in the pipeline and re-timed alone (the inference floor), peak memory (what `swapline benchmark video` reads).")
  var runReport: String?

  @Flag(name: .long, help: "Print the time spent in each stage.")
  var profile = false

  @OptionGroup(title: "Processors") var processing: ProcessorArguments
  @OptionGroup(title: "Face swapper") var faceSwapper: FaceSwapperArguments
  @OptionGroup(title: "Face masker") var faceMasker: FaceMaskerArguments
  @OptionGroup(title: "Face detector") var detector: FaceDetectorArguments
  @OptionGroup(title: "Face landmarker and selector") var selection: FaceSelectionArguments
  @OptionGroup(title: "Output") var outputOptions: OutputArguments
  @OptionGroup(title: "Video") var video: VideoArguments
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
    var settings = RunSettings.forThisProcess
    settings.workers = workers
    settings.jobsDirectory = jobsDirectory
    settings.restart = restart
    settings.leaseSeconds = leaseSeconds
    settings.threadPinning = !noThreadPinning
    settings.recordReport = runReport != nil
    return settings
  }

  func run() async throws {
    try await reportingErrors {
      let configuration = try makeConfiguration()
      let settings = runSettings
      if let database, let storage {
        // Cluster mode: the job is submitted; workers render it and the coordinator writes OUTPUT.
        let run = SwapRun(configuration: configuration, settings: settings, events: RunEventPrinter(level: logLevel).callAsFunction)
        let segments = try SegmentStorage.open(storage, connection: s3, role: "submit")
        defer { segments.removeWorkFolder() }
        let prepared = try run.submit(to: try ClusterArguments.openForSubmission(database: database, storage: segments, leaseSeconds: leaseSeconds))
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
