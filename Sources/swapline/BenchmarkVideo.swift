import ArgumentParser
import Benchmarks
import FaceAnalysis
import Foundation
import Swapping
import Imaging
import Media

/// `swapline benchmark video`: the swap command on generated clips, reporting fps, stage times,
/// the inference floor and floor / wall time, and peak RSS per clip length.
struct VideoBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "video",
    abstract: "Video swap throughput, inference floor and peak memory on generated clips (release build).",
    discussion: """
      Generates clips of each --lengths from --face (a photo drifting and zooming over a grey \
      background, with a tone), runs `swapline swap -s SOURCE -t CLIP` on each as a separate \
      process with default options plus --extra, and reports frames per second, time per stage, \
      the inference floor (every model run the pipeline performed, re-run alone with the same \
      thread settings, summed), floor / wall time, and the process's peak RSS.
      """)

  @Option(parsing: .upToNextOption, help: "Clip lengths in seconds.")
  var lengths: [Int] = [10, 60]

  @Option(help: "Frame size WIDTHxHEIGHT.")
  var size: String = "1280x720"

  @Option(help: "Photo that moves through the clip.")
  var face: String = "samples/astronaut.png"

  @Option(help: "Source face.")
  var source: String = "samples/grace_hopper.jpg"

  @Option(parsing: .upToNextOption, help: "Extra swap options, e.g. --extra=--face-detector-interval --extra=1.")
  var extra: [String] = []

  @Option(name: .customLong("face-swapper-model"),
          help: "Swapper to run (default: classic). A zoo swapper adds its solo time: the same swapper runs re-timed alone with every core.")
  var swapperModel: String = "classic"

  @Option(name: .customLong("models-dir"), help: "Folder with the model files (passed to swap).")
  var modelsDirectory: String?

  @Option(help: "Runs of the first (shortest) clip; the median floor / wall is reported, because these machines are noisy.")
  var repeats: Int = 3

  @Option(help: "Folder for the clips and outputs (default: a temporary folder, removed afterwards).")
  var workFolder: String?

  func run() async throws {
    try await reportingErrors {
      let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
      guard parts.count == 2, parts[0] >= 64, parts[1] >= 64, !lengths.isEmpty, lengths.allSatisfy({ $0 > 0 }) else {
        throw CLIError.badInput("--size takes WIDTHxHEIGHT (at least 64x64) and --lengths positive seconds")
      }
      let (width, height) = (parts[0], parts[1])
      let folder = workFolder ?? NSTemporaryDirectory() + "swapline-bench-\(getpid())"
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      defer { if workFolder == nil { try? FileManager.default.removeItem(atPath: folder) } }
      var reports: [(Int, RunReport, Double)] = []
      for seconds in lengths {
        let clip = folder + "/clip-\(seconds)s.mp4"
        try VideoThroughput.makeClip(width: width, height: height, seconds: seconds, face: face, to: clip)
        for run in 0..<(seconds == lengths.first ? max(1, repeats) : 1) {
          let arguments = ["-s", source, "-t", clip, "-o", folder + "/out-\(seconds)s-\(run).mp4", "--log-level", "warn",
                           "--jobs-dir", folder + "/jobs", "--face-swapper-model", swapperModel]
            + (modelsDirectory.map { ["--models-dir", $0] } ?? []) + extra
          do {
            let (report, total) = try VideoThroughput.run(executable: swaplineExecutable, swapArguments: arguments,
                                                          report: folder + "/report-\(seconds)s-\(run).json")
            reports.append((seconds, report, total))
          } catch { throw CLIError.failure("the \(seconds) s clip: \(error)") }
        }
      }
      print("benchmark video: \(width)x\(height) 25 fps, source \(source), swapper \(swapperModel), swap defaults"
            + (extra.isEmpty ? "" : " + " + extra.joined(separator: " ")))
      for (seconds, report, total) in reports {
        print(String(format: "  %d s clip: %d frames in %.2f s = %.1f fps (process %.2f s, model loading %.2f s), %d intra-op threads",
                     seconds, report.frames, report.videoSeconds, Double(report.frames) / report.videoSeconds, total, report.loadSeconds,
                     report.intraOpThreads))
        for (name, model) in report.models.sorted(by: { $0.key < $1.key }) {
          print(String(format: "    model %@: %d runs, %.2f s in the pipeline, %.2f s alone", name as NSString, model.runs,
                       model.pipelineSeconds, model.aloneSeconds))
        }
        print(String(format: "    inference floor %.2f s, floor / wall %.3f", report.floorSeconds, report.floorSeconds / report.videoSeconds))
        if let solo = report.models["face_swapper"], solo.aloneSeconds > 0 {
          let frames = Double(report.frames)
          print(String(format: "    %.3f s a frame, swapper solo %.3f s a frame (%d runs), wall / swapper solo %.3f", report.videoSeconds / frames,
                       solo.aloneSeconds / frames, solo.runs, report.videoSeconds / solo.aloneSeconds))
        }
        if let placement = report.placement { print("    placement: " + placement) }
        if let runs = report.landmarkerRuns, runs > 0 { print("    zoo landmarker runs: \(runs)") }
        print("    stages (summed over threads): " + report.stages.sorted(by: { $0.value > $1.value })
          .map { String(format: "%@ %.2f s", $0.key as NSString, $0.value) }.joined(separator: ", "))
        print(String(format: "    peak RSS %.1f MB", Double(report.peakResidentBytes) / 1_048_576))
      }
      let firstRuns = reports.filter { $0.0 == lengths[0] }
      let ratios = firstRuns.map { $0.1.floorSeconds / $0.1.videoSeconds }
      print(String(format: "  floor / wall over %d runs of the %d s clip: median %.3f (min %.3f, max %.3f)", ratios.count, lengths[0],
                   median(ratios), ratios.min() ?? 0, ratios.max() ?? 0))
      let soloRatios = firstRuns.compactMap { run in run.1.models["face_swapper"].map { run.1.videoSeconds / max($0.aloneSeconds, 1e-9) } }
      if !soloRatios.isEmpty {
        print(String(format: "  wall / swapper solo over %d runs of the %d s clip: median %.3f (min %.3f, max %.3f)", soloRatios.count, lengths[0],
                     median(soloRatios), soloRatios.min() ?? 0, soloRatios.max() ?? 0))
      }
      if lengths.count >= 2 {
        let first = Double(firstRuns.map(\.1.peakResidentBytes).max() ?? 0), last = Double(reports.last!.1.peakResidentBytes)
        print(String(format: "  peak RSS %d s / %d s: %.3f", reports.last!.0, reports.first!.0, last / max(first, 1)))
      }
    }
  }
}
