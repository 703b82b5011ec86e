import Foundation
import Imaging
import Jobs
import TestSupport
import Testing

/// What the README promises and no other test held the code to: Ctrl-C and resume, --restart, the
/// retry backoff, job identity, trimmed audio, encoder settings, thread placement, help texts,
/// detector options, rotated input. Real swapline runs on DataSafetyTests' 2 s clip (50 frames).
@Suite(.serialized) struct PromiseTests {
  static let grace = DataSafetyTests.grace

  static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if condition() { return true }
      Thread.sleep(forTimeInterval: 0.05)
    }
    return false
  }




  /// A trimmed range keeps its own stretch of audio, re-encoded and cut; webm gets audio too.
  @Test func trimmedAudioIsCutToTheRangeInMp4AndWebm() throws {
    let folder = CLITests.temporaryDirectory()
    for (name, encoder) in [("t.mp4", "libx264"), ("t.webm", "libvpx-vp9")] {
      let output = folder + "/" + name
      let result = try CLITests.swapline(try DataSafetyTests.swap(output, ["--trim-frame-start", "10", "--trim-frame-end", "35",
                                                                          "--output-video-encoder", encoder]))
      #expect(result.status == 0, "\(result.stderr)")
      #expect(try DataSafetyTests.frameCount(output) == 25)
      let codec = try VideoJobTests.probe(["-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", output])
      #expect(codec == (name.hasSuffix(".webm") ? "opus" : "aac"), "\(name): \(codec)")
      // Audio packets' end: within a frame (plus one audio packet) of the 1.0 s range.
      let end = try VideoJobTests.probe(["-select_streams", "a:0", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", output])
        .split(separator: "\n").compactMap { line -> Double? in
          let parts = line.split(separator: ",").compactMap { Double($0) }
          return parts.count == 2 ? parts[0] + parts[1] : nil
        }.max() ?? 0
      #expect(abs(end - 1.0) < 0.07, "\(name): audio ends at \(end) s for a 1.0 s range")
    }
  }

  /// --output-video-quality and --output-video-preset reach x264 (its settings are written into
  /// the stream): crf = round(51 - 0.51 x quality), FaceFusion's mapping. An nvenc request on a
  /// machine where ffmpeg cannot use nvenc falls back to libx264 with a warning.
  @Test func qualityAndPresetReachTheEncoder() throws {
    let folder = CLITests.temporaryDirectory()
    func x264Settings(_ extra: [String]) throws -> (String, String) {
      let output = folder + "/q\(UUID().uuidString.prefix(6)).mp4"
      let result = try CLITests.swapline(try DataSafetyTests.swap(output, ["--trim-frame-end", "5"] + extra))
      #expect(result.status == 0, "\(result.stderr)")
      let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
      guard let start = bytes.range(of: Data("x264 - core".utf8)) else { return ("", result.stderr) }
      return (String(decoding: bytes[start.lowerBound..<min(bytes.endIndex, start.lowerBound + 1500)], as: UTF8.self), result.stderr)
    }
    let (slow, _) = try x264Settings(["--output-video-quality", "80", "--output-video-preset", "veryslow"])
    #expect(slow.contains(" crf=10.0 ") && slow.contains(" subme=10 ") && slow.contains(" me=umh "), "\(slow)")
    // The default, 65: crf 18 (FaceFusion's 80 gave ~4x a typical input's bitrate).
    let (plain, _) = try x264Settings([])
    #expect(plain.contains(" crf=18.0 ") && plain.contains(" subme=2 "), "\(plain)")
    let (fast, _) = try x264Settings(["--output-video-quality", "20", "--output-video-preset", "ultrafast"])
    #expect(fast.contains(" crf=41.0 ") && fast.contains(" subme=0 ") && fast.contains(" me=dia "), "\(fast)")

    let nvencWorks = (try? VideoJobTests.ffmpeg(["-f", "lavfi", "-i", "color=size=320x240:rate=1", "-frames:v", "1", "-c:v", "h264_nvenc", "-f", "null", "-"])) != nil
    let (nvenc, stderr) = try x264Settings(["--output-video-encoder", "h264_nvenc"])
    if nvencWorks {
      #expect(nvenc.isEmpty && !stderr.contains("falling back"), "\(stderr)")
    } else {
      #expect(!nvenc.isEmpty && stderr.contains("h264_nvenc") && stderr.contains("libx264"), "\(stderr)")
    }
  }

  /// Default placement on a machine of two or more cores: inference pinned to core 0, helpers to the
  /// others. `--no-thread-pinning` and `--execution-thread-count 2` leave every thread free.
  @Test func threadsArePinnedUnlessToldOtherwise() throws {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let everyCore = cores == 1 ? "0" : "0-\(cores - 1)"
    func affinities(_ extra: [String]) throws -> Set<String> {
      let folder = CLITests.temporaryDirectory()
      let run = try CLITests.Background(try DataSafetyTests.swap(folder + "/p.mkv", DataSafetyTests.lossless + ["--jobs-dir", folder + "/jobs"] + extra),
                                        log: folder + "/run.log")
      var seen = Set<String>()
      // Sample every thread's allowed CPUs while frames are being rendered.
      _ = Self.waitFor(60) {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.process.processIdentifier)/task")) ?? []
        for task in tasks {
          let status = (try? String(contentsOfFile: "/proc/\(run.process.processIdentifier)/task/\(task)/status", encoding: .utf8)) ?? ""
          if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) {
            seen.insert(line.split(separator: "\t").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? "")
          }
        }
        return !run.process.isRunning || (seen.count >= 3 && (try? DataSafetyTests.segments(folder + "/jobs").count) ?? 0 >= 1)
      }
      let (status, stderr) = run.finish()
      #expect(status == 0, "\(stderr)")
      return seen
    }
    let pinned = try affinities([])
    if cores >= 2 {
      #expect(pinned.contains("0") && pinned.contains(cores == 2 ? "1" : "1-\(cores - 1)"), "\(pinned)")
    }
    #expect(try affinities(["--no-thread-pinning"]) == [everyCore])
    #expect(try affinities(["--execution-thread-count", "2"]) == [everyCore])
  }

  /// `--help` of every command and subcommand renders, with usage, and wraps within 100 columns.
  @Test func everyCommandHasHelp() throws {
    func subcommands(_ path: [String]) throws -> [String] {
      let help = try CLITests.swapline(path + ["--help"])
      #expect(help.status == 0 && help.stdout.contains("USAGE: swapline"), "\(path): \(help.stdout) \(help.stderr)")
      // Usage lines list every option on one line; everything else wraps.
      #expect(help.stdout.split(separator: "\n").allSatisfy { $0.count <= 100 || $0.hasPrefix("USAGE:") },
              "\(path) has lines over 100 columns:\n\(help.stdout)")
      guard let section = help.stdout.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [] }
      return section.split(separator: "\n").compactMap { line in
        line.hasPrefix("  ") && !line.hasPrefix("    ") ? line.split(separator: " ").first.map(String.init) : nil
      }.filter { $0 != "help" }
    }
    let commands = try subcommands([])
    #expect(Set(["swap", "detect", "models", "doctor", "jobs", "worker", "coordinator"]).isSubset(of: Set(commands)), "\(commands)")
    var visited = 0
    for command in commands {
      for sub in try subcommands([command]) {
        _ = try subcommands([command, sub])
        visited += 1
      }
      visited += 1
    }
    #expect(visited >= commands.count + 5)
  }

  /// --face-detector-score keeps only faces at or above it; a missing detector family is named
  /// with the command that fetches it; --memory-budget is parsed and reported by doctor.
  @Test func detectorScoreFamilyAndMemoryBudgetOptionsAct() throws {
    struct Report: Decodable { struct Face: Decodable { let score: Float }; let faces: [Face] }
    func faces(_ extra: [String]) throws -> [Float] {
      let result = try CLITests.swapline(["detect", "samples/solvay_conference_1927.jpg", "--json"] + extra)
      #expect(result.status == 0, "\(result.stderr)")
      return try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)).faces.map(\.score)
    }
    let all = try faces([]), confident = try faces(["--face-detector-score", "0.8"])
    #expect(confident.allSatisfy { $0 >= 0.8 } && !confident.isEmpty && confident.count < all.count, "\(all.count) -> \(confident)")
    #expect(confident.count == all.filter { $0 >= 0.8 }.count)

    let empty = CLITests.temporaryDirectory()
    for family in ["yolo_face", "retinaface", "yunet"] {
      let result = try CLITests.swapline(["detect", "samples/grace_hopper.jpg", "--face-detector-model", family, "--models-dir", empty])
      #expect(result.status == 2 && result.stderr.contains("models fetch"), "\(family): \(result.status) \(result.stderr)")
    }
    let doctor = try CLITests.swapline(["doctor", "--memory-budget", "512M", "--video-memory-strategy", "strict"])
    #expect(doctor.stdout.contains("session budget 0.5 GiB, video memory strategy strict"), "\(doctor.stdout)")
    let bad = try CLITests.swapline(["doctor", "--memory-budget", "lots"])
    #expect(bad.status == 2 && bad.stderr.contains("--memory-budget must be a size"), "\(bad.stderr)")
  }

  /// A video with a rotation flag is swapped upright, as players show it.
  @Test func aRotatedVideoIsSwappedUpright() throws {
    let folder = CLITests.temporaryDirectory()
    let rotated = folder + "/rotated.mp4", output = folder + "/o.mkv"
    // Stored a quarter turn clockwise, flagged to be shown turned back: players show it upright.
    try VideoJobTests.ffmpeg(["-i", try DataSafetyTests.clip, "-vf", "transpose=1", "-c:v", "libx264", "-an", folder + "/sideways.mp4"])
    try VideoJobTests.ffmpeg(["-i", folder + "/sideways.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated])
    let result = try CLITests.swapline(try DataSafetyTests.swap(output, DataSafetyTests.lossless + ["--trim-frame-end", "5"], target: rotated))
    #expect(result.status == 0, "\(result.stderr)")
    let size = try VideoJobTests.probe(["-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", output])
    #expect(size == "320,240", "\(size)")
    // Upright, the frames are the clip's: the face swapped where the clip has it, the rest untouched.
    try VideoJobTests.requireSwapped(rotated, output, width: 320, face: DataSafetyTests.face, background: DataSafetyTests.background)
  }

  /// A PNG that cannot be written whole (file size limit, as on a full disk) leaves neither OUTPUT
  /// nor a temporary file, and says why.
  @Test func anImageWriteThatFailsLeavesNothing() throws {
    let folder = CLITests.temporaryDirectory()
    let command = "ulimit -f 16; trap '' XFSZ; exec " + ([CLITests.binary, "swap", "-s", Self.grace, "-t", CLITests.root + "/samples/astronaut.png",
                                                          "-o", folder + "/big.png"].map { "'\($0)'" }.joined(separator: " "))
    let result = try CLITests.run("/bin/bash", ["-c", command])
    #expect(result.status == 1 && result.stderr.contains("big.png"), "\(result.status) \(result.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [], "left behind")
  }
}

extension NeuralSwapCommandTests {
  /// Each mask option changes which part of the face is swapped (hyperswap stand-in that inverts
  /// the face, so every swapped pixel changes): box padding, areas and regions at the CLI.
  /// Models named by an option are the ones looked for.
  @Test func maskAndModelOptionsAct() throws {
    let models = try CLITests.standInModels([("vendor/test-models/bisenet_resnet_34_bluescarf.onnx", "bisenet_resnet_34.onnx")])
    let original = try ImageIO.read(path: CLITests.root + "/samples/astronaut.png").converted(toChannels: 3).pixels
    /// Mean change around the eyes and on the chin.
    func change(_ options: [String]) throws -> (eyes: Double, chin: Double) {
      let output = models + "/\(UUID().uuidString.prefix(8)).png"
      let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", output,
                                          "--face-swapper-model", "hyperswap_1a_256", "--models-dir", models] + options)
      #expect(result.status == 0, "\(options): \(result.stderr)")
      let swapped = try ImageIO.read(path: output).converted(toChannels: 3).pixels
      return (CLITests.meanChange(swapped, original, width: 512, x: 200..<260, y: 90..<115),
              CLITests.meanChange(swapped, original, width: 512, x: 205..<245, y: 155..<170))
    }
    let box = try change([])
    #expect(box.eyes > 50 && box.chin > 50, "\(box)")
    let padded = try change(["--face-mask-padding", "0", "0", "30", "0"])
    #expect(padded.eyes > 50 && padded.chin < 5, "bottom padding: \(padded)")
    let upper = try change(["--face-mask-types", "area", "--face-mask-areas", "upper-face"])
    #expect(upper.eyes > 50 && upper.chin < 5, "upper-face: \(upper)")
    let lower = try change(["--face-mask-types", "area", "--face-mask-areas", "lower-face"])
    #expect(lower.eyes < 5 && lower.chin > 50, "lower-face: \(lower)")
    let skin = try change(["--face-mask-types", "region", "--face-mask-regions", "skin"])
    #expect(skin.eyes > 50 && skin.chin > 50, "skin: \(skin)")
    // The parser stand-in never says "nose": a nose-only region mask swaps nothing.
    let nose = try change(["--face-mask-types", "region", "--face-mask-regions", "nose"])
    #expect(nose.eyes < 1 && nose.chin < 1, "nose: \(nose)")

    for (option, model) in [("--face-enhancer-model", "codeformer"), ("--face-landmarker-model", "peppa_wutz")] {
      let processors = option == "--face-enhancer-model" ? ["--processors", "face_swapper", "face_enhancer"] : []
      let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", models + "/m.png",
                                          "--face-swapper-model", "hyperswap_1a_256", "--models-dir", models, option, model] + processors)
      #expect(result.status == 2 && result.stderr.contains("\(model).onnx is not in"), "\(option): \(result.stderr)")
    }
  }

  /// --face-selector-mode at the CLI: one face of the Solvay photo, or all of them.
  @Test func selectorModeOneOrMany() throws {
    let folder = CLITests.temporaryDirectory()
    for (mode, expected) in [("one", "swapped 1 face"), ("many", "swapped 2")] {
      let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/solvay_conference_1927.jpg",
                                          "-o", folder + "/\(mode).jpg", "--face-selector-mode", mode])
      #expect(result.status == 0 && result.stdout.contains(expected), "\(mode): \(result.stdout) \(result.stderr)")
    }
  }
}

extension PromiseTests {
  /// README: HDR (10-bit) video is processed as 8-bit SDR: it is read, swapped and written 8-bit.
  @Test func tenBitVideoIsSwappedAsEightBit() throws {
    let folder = CLITests.temporaryDirectory()
    let deep = folder + "/deep.mkv", output = folder + "/o.mp4"
    try VideoJobTests.ffmpeg(["-i", try DataSafetyTests.clip, "-frames:v", "5", "-c:v", "ffv1", "-pix_fmt", "yuv420p10le", "-an", deep])
    #expect(try VideoJobTests.probe(["-select_streams", "v:0", "-show_entries", "stream=pix_fmt", "-of", "csv=p=0", deep]) == "yuv420p10le")
    let result = try CLITests.swapline(["swap", "-s", Self.grace, "-t", deep, "-o", output])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try VideoJobTests.probe(["-select_streams", "v:0", "-show_entries", "stream=pix_fmt", "-of", "csv=p=0", output]) == "yuv420p")
    #expect(try DataSafetyTests.frameCount(output) == 5)
    try VideoJobTests.requireSwapped(deep, output, width: 320, face: DataSafetyTests.face, background: DataSafetyTests.background)
  }
}

extension NeuralSwapCommandTests {
  /// --face-landmarker-score decides whether the 68-point landmarker's five points replace the
  /// detector's for alignment: 0 always (the stand-in's points move the paste), 1 never.
  @Test func landmarkerScoreDecidesWhoseFivePointsAlign() throws {
    let models = try CLITests.standInModels([("vendor/test-models/2dfan4_spot.onnx", "2dfan4.onnx")])
    func swapped(_ score: String, landmarker: String = "2dfan4") throws -> [UInt8] {
      let output = models + "/score-\(score)-\(landmarker).png"
      let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", output,
                                          "--face-swapper-model", "hyperswap_1a_256", "--models-dir", models,
                                          "--face-landmarker-model", landmarker, "--face-landmarker-score", score])
      #expect(result.status == 0, "\(result.stderr)")
      return try ImageIO.read(path: output).converted(toChannels: 3).pixels
    }
    let never = try swapped("1"), always = try swapped("0"), detectorOnly = try swapped("0", landmarker: "none")
    #expect(never == detectorOnly, "score 1 must keep the detector's points")
    let moved = zip(always, never).filter { abs(Int($0) - Int($1)) > 8 }.count
    #expect(moved > 1_000, "score 0 must align on the landmarker's points: \(moved) bytes moved")
  }

  /// --face-selector-mode reference: only faces like the reference face (by embedding) are
  /// swapped. Two copies of one portrait, one tinted red and one blue: the synthetic arcface's
  /// embedding follows the crop's colour, so within a tight distance the reference matches only itself.
  @Test func referenceModeSwapsOnlyFacesLikeTheReference() throws {
    let models = try CLITests.modelsFolder([("vendor/test-models/arcface_w600k_r50_synthetic.onnx", "arcface_w600k_r50.onnx"),
                       ("models/scrfd_2.5g_kps.onnx", "scrfd_2.5g_kps.onnx"),
                       ("models/shape_predictor_68_face_landmarks.dat", "shape_predictor_68_face_landmarks.dat")])
    let pair = models + "/pair.png"
    try VideoJobTests.ffmpeg(["-i", CLITests.root + "/samples/grace_hopper.jpg", "-filter_complex",
                              "[0]split[a][b];[a]colorchannelmixer=rr=1:gg=0.4:bb=0.4[red];[b]colorchannelmixer=rr=0.4:gg=0.4:bb=1[blue];[red][blue]hstack",
                              "-frames:v", "1", pair])
    func swapped(_ options: [String]) throws -> String {
      let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", pair, "-o", models + "/o.png", "--models-dir", models] + options)
      #expect(result.status == 0, "\(result.stderr)")
      return result.stdout
    }
    #expect(try swapped(["--face-selector-mode", "many"]).contains("swapped 2 faces"))
    // The two copies' embeddings are 0.1-0.3 apart (measured): --reference-face-distance decides.
    #expect(try swapped(["--face-selector-mode", "reference", "--reference-face-position", "0", "--reference-face-distance", "0.1"])
      .contains("swapped 1 face"))
    #expect(try swapped(["--face-selector-mode", "reference", "--reference-face-position", "1", "--reference-face-distance", "0.1"])
      .contains("swapped 1 face"))
    #expect(try swapped(["--face-selector-mode", "reference", "--reference-face-position", "0", "--reference-face-distance", "0.3"])
      .contains("swapped 2 faces"))
  }
}

extension PromiseTests {
  /// Every `benchmark` subcommand runs on a small workload and reports the figures it promises.
  @Test func everyBenchmarkRunsAndReportsFigures() throws {
    func figures(_ text: String, _ pattern: String) -> [Double] {
      let regex = try? NSRegularExpression(pattern: pattern)
      return (regex?.matches(in: text, range: NSRange(text.startIndex..., in: text)) ?? []).compactMap { match in
        Range(match.range(at: 1), in: text).flatMap { Double(text[$0]) }
      }
    }
    let detect = try CLITests.swapline(["benchmark", "detect", "samples/grace_hopper.jpg", "--iterations", "2", "--warmup", "1"])
    #expect(detect.status == 0 && detect.stdout.contains("1 faces"), "\(detect.stdout) \(detect.stderr)")
    #expect(figures(detect.stdout, #"full/bare ratio ([0-9.]+)"#).allSatisfy { $0 > 0.5 && $0 < 5 } && detect.stdout.contains("full/bare ratio"))

    let kernels = try CLITests.swapline(["benchmark", "kernels", "samples/grace_hopper.jpg", "--iterations", "1"])
    let rates = figures(kernels.stdout, #"([0-9.]+) MP/s"#)
    // A kernel that does no work shows up as an absurd rate (thousands of megapixels a second).
    #expect(kernels.status == 0 && rates.count >= 8 && rates.allSatisfy { $0 > 0 && $0 < 5_000 }, "\(kernels.stdout) \(kernels.stderr)")

    let folder = CLITests.temporaryDirectory()
    let video = try CLITests.swapline(["benchmark", "video", "--lengths", "1", "--size", "320x240", "--repeats", "1", "--work-folder", folder])
    #expect(video.status == 0 && video.stdout.contains("1 s clip: 25 frames in"), "\(video.stdout) \(video.stderr)")
    #expect(figures(video.stdout, #"= ([0-9.]+) fps"#).first.map { $0 > 0 } == true && figures(video.stdout, #"peak RSS ([0-9.]+) MB"#).first.map { $0 > 10 } == true,
            "\(video.stdout)")

    let store = try CLITests.swapline(["benchmark", "store", "--database", try TestPostgres.database(), "--claimers", "2", "--chunks", "50"])
    #expect(store.status == 0 && store.stdout.contains("2 claimers: 50 chunks in"), "\(store.stdout) \(store.stderr)")
    #expect(figures(store.stdout, #"= ([0-9]+) claims\+commits/s"#).first.map { $0 > 0 } == true, "\(store.stdout)")
  }
}

/// Job-control promises (interrupt, resume, restart, identity, a kill mid-join), a suite of its own
/// so it runs beside PromiseTests.
@Suite(.serialized) struct PromiseJobTests {
  @Test func ctrlCStopsWithExit130AndTheSameCommandResumes() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/r.mkv", jobs = folder + "/jobs"
    let command = try DataSafetyTests.swap(output, DataSafetyTests.lossless + ["--jobs-dir", jobs])
    let run = try CLITests.Background(command, log: folder + "/run.log")
    let started = PromiseTests.waitFor(60) { ((try? DataSafetyTests.segments(jobs).count) ?? 0) >= 1 || !run.process.isRunning }
    #expect(started && run.process.isRunning, "the run ended before its first chunk was committed")
    kill(run.process.processIdentifier, SIGINT)
    let (status, stderr) = run.finish()
    #expect(status == 130 && stderr.contains("interrupted; run the same command again to resume job 1"), "\(status) \(stderr)")
    #expect(!FileManager.default.fileExists(atPath: output))
    let done = try DataSafetyTests.segments(jobs).count
    #expect(done >= 1 && done < 5, "\(done) chunks done when interrupted")

    let again = try CLITests.swapline(command)
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stderr.contains("resuming job 1: \(done) of 5 chunks already done"), "\(again.stderr)")
    #expect(again.stdout.contains("(job 1, 5 chunks, \(5 - done) rendered by this process)"), "\(again.stdout)")
    // The progress line (not a terminal: one line per report) ends with the whole range and no time left.
    #expect(again.stderr.range(of: #"frames 50/50 +[0-9.]+ fps +ETA 0 s"#, options: .regularExpression) != nil, "\(again.stderr)")
    #expect(try VideoJobTests.frameHashes(output) == DataSafetyTests.reference)
  }

  /// The job's identity covers its input and model files: an unfinished job is resumed only by
  /// the same work; with a changed model or input file the same command starts a new job.
  /// `--log-level warn` leaves stderr silent on success.
  @Test func aChangedInputOrModelFileMakesANewJob() throws {
    let folder = CLITests.temporaryDirectory()
    let models = folder + "/models", jobs = folder + "/jobs", input = folder + "/in.mp4", output = folder + "/o.mkv"
    try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: CLITests.root + "/models/scrfd_2.5g_kps.onnx", toPath: models + "/scrfd_2.5g_kps.onnx")
    for linked in ["shape_predictor_68_face_landmarks.dat", "palm_detection_full.onnx", "hand_landmark_full.onnx"] {
      try FileManager.default.createSymbolicLink(atPath: models + "/" + linked, withDestinationPath: CLITests.root + "/models/" + linked)
    }
    try FileManager.default.copyItem(atPath: try DataSafetyTests.clip, toPath: input)
    let command = try DataSafetyTests.swap(output, DataSafetyTests.lossless + ["--trim-frame-end", "20", "--jobs-dir", jobs, "--models-dir", models],
                                           target: input)
    /// A run whose second chunk always fails: the job stays unfinished (failed, one chunk done).
    func unfinished(_ job: Int) throws {
      let run = try CLITests.swapline(command, environment: ["SWAPLINE_INJECT_CORRUPT_FRAME": "15"])
      #expect(run.status == 1 && run.stderr.contains("job \(job) failed: chunk 1"), "\(run.status) \(run.stderr)")
    }
    try unfinished(1)
    // The same model with one more protobuf field (a doc string): ONNX Runtime loads it, the bytes differ.
    let model = try FileHandle(forWritingTo: URL(fileURLWithPath: models + "/scrfd_2.5g_kps.onnx"))
    try model.seekToEnd()
    try model.write(contentsOf: Data([0x32, 0x04]) + Data("test".utf8))
    try model.close()
    let newModel = try CLITests.swapline(command + ["--log-level", "warn"])
    #expect(newModel.status == 0 && newModel.stdout.contains("(job 2, 2 chunks, 2 rendered") && newModel.stderr.isEmpty,
            "\(newModel.stdout) \(newModel.stderr)")

    try unfinished(3)
    // The same frames in a new container with another title.
    try VideoJobTests.ffmpeg(["-i", input, "-c", "copy", "-metadata", "title=changed", folder + "/in2.mp4"])
    try FileManager.default.removeItem(atPath: input)
    try FileManager.default.moveItem(atPath: folder + "/in2.mp4", toPath: input)
    let newInput = try CLITests.swapline(command)
    #expect(newInput.status == 0 && newInput.stdout.contains("(job 4, 2 chunks, 2 rendered") && !newInput.stderr.contains("resuming"),
            "\(newInput.stdout) \(newInput.stderr)")
    let list = try CLITests.swapline(["jobs", "list", "--jobs-dir", jobs]).stdout
    #expect(list.contains("1\tfailed") && list.contains("3\tfailed"), "\(list)")
  }

  /// A chunk that always fails is tried three times, 1 s then 2 s apart (README), and fails the
  /// job; `--restart` sets that job aside and renders everything again as a new job.
  @Test func aFailingChunkBacksOffThenRestartStartsANewJob() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/f.mkv", jobs = folder + "/jobs"
    let command = try DataSafetyTests.swap(output, DataSafetyTests.lossless + ["--trim-frame-end", "20", "--jobs-dir", jobs])
    let started = Date()
    let failed = try CLITests.swapline(command, environment: ["SWAPLINE_INJECT_CORRUPT_FRAME": "15"])
    let elapsed = Date().timeIntervalSince(started)
    #expect(failed.status == 1 && failed.stderr.contains("job 1 failed: chunk 1"), "\(failed.status) \(failed.stderr)")
    #expect(elapsed >= 3, "three attempts 1 s and 2 s apart took only \(elapsed) s")
    let chunk = try SQLiteChunkStore(path: jobs + "/jobs.sqlite").chunks(job: 1)[1]
    #expect(chunk.state == .dead && chunk.attempt == 3 && (chunk.lastError ?? "").contains("frame 15 is corrupt"), "\(chunk)")
    #expect(!FileManager.default.fileExists(atPath: output))

    let restarted = try CLITests.swapline(command + ["--restart"])
    #expect(restarted.status == 0, "\(restarted.stderr)")
    #expect(restarted.stdout.contains("(job 2, 2 chunks, 2 rendered by this process)"), "\(restarted.stdout)")
    #expect(!restarted.stderr.contains("resuming"), "\(restarted.stderr)")
    let list = try CLITests.swapline(["jobs", "list", "--jobs-dir", jobs]).stdout
    #expect(list.contains("1\tcancelled") && list.contains("2\tdone"), "\(list)")
    #expect(try VideoJobTests.frameHashes(output) == Array(DataSafetyTests.reference.prefix(20)))
  }

  /// README: nothing is ever half-written at OUTPUT. A run killed (-9) after its joined file is
  /// verified and before it is published leaves OUTPUT absent; the same command then publishes
  /// the same frames and removes the dead run's staging folder.
  @Test func aKillDuringTheJoinLeavesNothingAtOutput() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/j.mkv"
    let command = try DataSafetyTests.swap(output, DataSafetyTests.lossless + ["--jobs-dir", folder + "/jobs"])
    let run = try CLITests.Background(command, log: folder + "/run.log", environment: ["SWAPLINE_INJECT_JOIN_PAUSE": "60"])
    func staged() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(".j.mkv.swapline-") }
    }
    // The joined file sits in its staging folder, complete (its size steady), waiting to be published.
    var lastSize = -1, steadySince = Date()
    let waiting = PromiseTests.waitFor(90) {
      guard let stage = staged().first,
        let size = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + stage + "/j.mkv"))?[.size] as? Int, size > 0
      else { return !run.process.isRunning }
      if size != lastSize { (lastSize, steadySince) = (size, Date()) }
      return Date().timeIntervalSince(steadySince) > 1.5
    }
    #expect(waiting && run.process.isRunning, "the run never reached its publish")
    kill(run.process.processIdentifier, SIGKILL)
    _ = run.finish()
    #expect(!FileManager.default.fileExists(atPath: output))
    #expect(staged().count == 1, "\(staged())")

    let again = try CLITests.swapline(command)
    #expect(again.status == 0 && again.stdout.contains("0 rendered by this process"), "\(again.stdout) \(again.stderr)")
    #expect(try VideoJobTests.frameHashes(output) == DataSafetyTests.reference)
    #expect(staged().isEmpty, "the dead run's staging folder is left: \(staged())")
  }
}
