import Foundation
import Jobs
import TestSupport
import Testing

/// Regression tests for the data-safety defects D1-D16 of issue 16, each as a user meets it:
/// real swapline runs on short clips made from the sample photos, real ffmpeg, real SQLite.
@Suite(.serialized) struct DataSafetyTests {
  static let grace = CLITests.root + "/samples/grace_hopper.jpg"

  /// 2 s of 320x240 at 25 fps (50 frames), the astronaut drifting right, with a tone.
  static var clip: String { get throws { try clipResult.get() } }
  private static let clipResult = Result<String, any Error> { try makeClip(width: 320, height: 240, seconds: 2, name: "clip.mp4") }

  static func makeClip(width: Int, height: Int, seconds: Int, name: String) throws -> String {
    let path = CLITests.temporaryDirectory() + "/" + name
    let side = min(width, height) * 5 / 6
    try VideoJobTests.ffmpeg([
      "-f", "lavfi", "-i", "color=c=0x303030:s=\(width)x\(height):r=25:d=\(seconds)", "-loop", "1", "-i", CLITests.root + "/samples/astronaut.png",
      "-f", "lavfi", "-i", "sine=frequency=330:duration=\(seconds)", "-filter_complex",
      "[1]scale=\(side):\(side)[face];[0][face]overlay=x='10+8*t':y=4:shortest=1,format=yuv420p[v]",
      "-map", "[v]", "-map", "2:a", "-t", String(seconds), "-c:v", "libx264", "-g", "25", "-c:a", "aac", path,
    ])
    return path
  }

  /// ffv1 (lossless, so frames compare exactly), chunks of 10 frames, and the detector once a
  /// chunk with the tracker carrying the face between: detection cadence is not what these runs
  /// check, and SCRFD is most of a run's CPU.
  static let lossless = ["--output-video-encoder", "ffv1", "--chunk-size", "10", "--face-detector-interval", "10"]

  /// The uninterrupted lossless run of `clip`, for frame-exact comparisons.
  /// Where frame 0 has the astronaut's face (measured once: where a swap changes pixels), and a
  /// band of plain background right of the photo.
  static let face = (x: 84..<110, y: 42..<70), background = (x: 230..<320, y: 0..<240)

  static var reference: [String] { get throws { try referenceResult.get() } }
  private static let referenceResult = Result<[String], any Error> {
    let output = CLITests.temporaryDirectory() + "/reference.mkv"
    let result = try CLITests.swapline(["swap", "-s", grace, "-t", try clip, "-o", output] + lossless)
    guard result.status == 0 else { throw CommandFailed(description: "the reference run failed: \(result.stderr)") }
    let hashes = try VideoJobTests.frameHashes(output)
    guard hashes.count == 50 else { throw CommandFailed(description: "the reference run has \(hashes.count) frames, not 50") }
    try VideoJobTests.requireSwapped(try clip, output, width: 320, face: face, background: background)
    return hashes
  }

  static func frameCount(_ path: String) throws -> Int {
    Int(try VideoJobTests.probe(["-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path])) ?? -1
  }

  static func swap(_ output: String, _ extra: [String] = [], target: String? = nil) throws -> [String] {
    ["swap", "-s", grace, "-t", try target ?? clip, "-o", output] + extra
  }

  /// A job whose last chunk always fails (an injected corrupt frame): it ends `failed` with the
  /// other chunks done and their segments kept, the state a crash or a dead chunk leaves behind.
  static func failedJob(_ folder: String, output: String) throws -> String {
    let run = try CLITests.swapline(swap(output, lossless), environment: ["SWAPLINE_INJECT_CORRUPT_FRAME": "45"])
    #expect(run.status == 1 && run.stderr.contains("job 1 failed: chunk 4"), "\(run.status) \(run.stderr)")
    return folder + "/.swapline-jobs"
  }

  /// Segment files of a job's done chunks, by chunk index.
  static func segments(_ jobs: String, job: Int64 = 1) throws -> [Int: String] {
    let store = try SQLiteChunkStore(path: jobs + "/jobs.sqlite")
    var result: [Int: String] = [:]
    for chunk in try store.chunks(job: job) where chunk.state == .done { result[chunk.index] = jobs + "/job-\(job)/" + chunk.output! }
    return result
  }

  // D1
  @Test func aDirectoryAtOutputIsRefusedBeforeAnyWorkAndKept() throws {
    let folder = CLITests.temporaryDirectory()
    for name in ["out.mp4", "out.png"] {
      try FileManager.default.createDirectory(atPath: folder + "/\(name)/sub", withIntermediateDirectories: true)
      try "precious".write(toFile: folder + "/\(name)/sub/keep.txt", atomically: true, encoding: .utf8)
      let target = name.hasSuffix(".png") ? CLITests.root + "/samples/astronaut.png" : try Self.clip
      let result = try CLITests.swapline(Self.swap(folder + "/" + name, target: target))
      #expect(result.status == 2 && result.stderr.contains("it is a directory"), "\(name): \(result.status) \(result.stderr)")
      #expect(try String(contentsOfFile: folder + "/\(name)/sub/keep.txt", encoding: .utf8) == "precious")
    }
    // Nothing was started: no job store, no staging folder.
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["out.mp4", "out.png"])
  }

  // D2
  @Test func aDiskThatFillsDuringTheJoinLeavesNothingAtOutput() throws {
    let folder = CLITests.temporaryDirectory()
    let small = folder + "/small"
    try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
    // The output's folder holds 160 KB, the jobs folder is elsewhere: every chunk fits, the join does not.
    let mount = try CLITests.run("/bin/mount", ["-t", "tmpfs", "-o", "size=160k", "tmpfs", small])
    try #require(mount.status == 0, "mounting a tmpfs needs root: \(mount.stderr)")
    defer { _ = try? CLITests.run("/bin/umount", [small]) }
    let output = small + "/o.mp4"
    let result = try CLITests.swapline(Self.swap(output, ["--chunk-size", "10", "--output-video-quality", "100", "--jobs-dir", folder + "/jobs"]))
    #expect(result.status == 1, "\(result.status) \(result.stderr)")
    #expect(result.stderr.contains("disk is full"), "\(result.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: small) == [], "left in the output folder")
    let show = try CLITests.swapline(["jobs", "show", "1", "--jobs-dir", folder + "/jobs"])
    #expect(show.stdout.contains("job 1: failed") && show.stdout.contains("5 done"), "\(show.stdout)")
  }

  // D3 and D9
  @Test func cancellingARunningJobStopsItAndRetryResumeBringsItBack() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/c.mkv", jobs = folder + "/.swapline-jobs"
    let clip = try Self.makeClip(width: 320, height: 240, seconds: 8, name: "long.mp4")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLITests.binary)
    process.arguments = try Self.swap(output, ["--output-video-encoder", "ffv1", "--chunk-size", "10"], target: clip)
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(120)
    while (try? Self.segments(jobs).count) ?? 0 < 1 && Date() < deadline && process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
    let cancel = try CLITests.swapline(["jobs", "cancel", "1", "--jobs-dir", jobs])
    #expect(cancel.status == 0, "\(cancel.stderr)")
    let cancelled = Date()
    while process.isRunning && Date().timeIntervalSince(cancelled) < 20 { Thread.sleep(forTimeInterval: 0.1) }
    let stillRunning = process.isRunning
    if stillRunning { process.interrupt() }
    process.waitUntilExit()
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(!stillRunning, "swap still running 20 s after the cancel")
    #expect(Date().timeIntervalSince(cancelled) < 10, "took \(Date().timeIntervalSince(cancelled)) s to stop")
    #expect(process.terminationStatus == 1 && stderr.contains("job 1 was cancelled"), "\(process.terminationStatus) \(stderr)")
    #expect(!stderr.contains("disk full") && !stderr.contains("resume job 1"), "\(stderr)")
    #expect(!FileManager.default.fileExists(atPath: output))
    // No ffmpeg of the run is left behind.
    let leftovers = try CLITests.run("/usr/bin/pgrep", ["-f", folder])
    #expect(leftovers.stdout.isEmpty, "processes left: \(leftovers.stdout)")

    #expect(try CLITests.swapline(["jobs", "retry", "1", "--jobs-dir", jobs]).status == 0)
    let resume = try CLITests.swapline(["jobs", "resume", "1", "--jobs-dir", jobs])
    #expect(resume.status == 0, "\(resume.stderr)")
    #expect(try Self.frameCount(output) == 200)
    let list = try CLITests.swapline(["jobs", "list", "--jobs-dir", jobs])
    #expect(list.stdout.hasPrefix("1\tdone\t20 done"), "\(list.stdout)")
  }


  // D5
  @Test func aSymlinkPlantedAtTheOldTemporaryNameIsNotWrittenThrough() throws {
    let folder = CLITests.temporaryDirectory()
    try "victim".write(toFile: folder + "/victim.txt", atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: folder + "/p.part.mp4", withDestinationPath: folder + "/victim.txt")
    let result = try CLITests.swapline(Self.swap(folder + "/p.mp4", ["--trim-frame-end", "10"]))
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try String(contentsOfFile: folder + "/victim.txt", encoding: .utf8) == "victim")
    #expect(try Self.frameCount(folder + "/p.mp4") == 10)
    // A symbolic link at OUTPUT itself is replaced, not followed.
    try FileManager.default.createSymbolicLink(atPath: folder + "/q.png", withDestinationPath: folder + "/victim.txt")
    let image = try CLITests.swapline(["swap", "-s", Self.grace, "-t", CLITests.root + "/samples/astronaut.png", "-o", folder + "/q.png"])
    #expect(image.status == 0, "\(image.stderr)")
    #expect(try String(contentsOfFile: folder + "/victim.txt", encoding: .utf8) == "victim")
    #expect(try FileManager.default.attributesOfItem(atPath: folder + "/q.png")[.type] as? FileAttributeType == .typeRegular)
    // The same for a video OUTPUT: the link is replaced, its target (another video) untouched.
    try FileManager.default.copyItem(atPath: Self.clip, toPath: folder + "/precious.mp4")
    try FileManager.default.createSymbolicLink(atPath: folder + "/link.mp4", withDestinationPath: folder + "/precious.mp4")
    let video = try CLITests.swapline(Self.swap(folder + "/link.mp4", ["--trim-frame-end", "10"]))
    #expect(video.status == 0, "\(video.stderr)")
    #expect(try FileManager.default.attributesOfItem(atPath: folder + "/link.mp4")[.type] as? FileAttributeType == .typeRegular)
    #expect(FileManager.default.contentsEqual(atPath: folder + "/precious.mp4", andPath: try Self.clip))
  }

  // Found in review: the joined file's duration check must not refuse audio that runs on past the
  // last frame (the container lasts as long as its longest stream).
  @Test func audioLongerThanTheVideoIsKept() throws {
    let folder = CLITests.temporaryDirectory()
    try VideoJobTests.ffmpeg(["-i", Self.clip, "-f", "lavfi", "-i", "sine=frequency=220:duration=1.6", "-map", "0:v", "-map", "1:a",
                              "-t", "1.6", "-c:v", "copy", "-c:a", "aac", "-frames:v", "25", folder + "/long-audio.mp4"])
    let result = try CLITests.swapline(Self.swap(folder + "/o.mp4", [], target: folder + "/long-audio.mp4"))
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try Self.frameCount(folder + "/o.mp4") == 25)
  }



  static func failedJobAt(_ output: String) throws -> String {
    try failedJob((output as NSString).deletingLastPathComponent, output: output)
  }


  // D10
  @Test func aProviderThatCannotAttachIsSaid() throws {
    let folder = CLITests.temporaryDirectory()
    let result = try CLITests.swapline(["swap", "-s", Self.grace, "-t", CLITests.root + "/samples/astronaut.png", "-o", folder + "/o.png",
                                        "--execution-providers", "cuda", "cpu"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("warning: cuda unavailable, running on cpu"), "\(result.stderr)")
  }

  // D10, cluster side: a worker says so at start, before it takes any chunk.
  @Test func aWorkerWhoseGPUCannotAttachSaysSo() throws {
    let database = try TestPostgres.database()
    let worker = try CLITests.swapline(["worker", "--once", "--database", database, "--storage", CLITests.temporaryDirectory(),
                                        "--execution-providers", "cuda", "cpu"])
    #expect(worker.status == 0, "\(worker.stderr)")
    #expect(worker.stderr.contains("warning: cuda unavailable"), "\(worker.stderr)")
    let strict = try CLITests.swapline(["worker", "--once", "--database", database, "--storage", CLITests.temporaryDirectory(),
                                        "--execution-providers", "cuda", "cpu", "--execution-strict"])
    #expect(strict.status == 1 && strict.stderr.contains("cuda cannot attach"), "\(strict.stderr)")
  }

  // D11
  @Test func onnxRuntimeRecordsNoTelemetry() throws {
    let home = CLITests.temporaryDirectory()
    // ORT's telemetry SDK stays quiet by itself where CI is set, so the child runs without it.
    let result = try CLITests.swapline(["swap", "-s", Self.grace, "-t", CLITests.root + "/samples/astronaut.png", "-o", home + "/o.png"],
                                       environment: ["HOME": home, "XDG_CACHE_HOME": home + "/.cache"],
                                       unsetting: ["CI", "ORT_DISABLE_TELEMETRY"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: home + "/.cache/Microsoft/DeveloperTools/.onnxruntime"),
            "\((try? FileManager.default.subpathsOfDirectory(atPath: home + "/.cache")) ?? [])")
  }

  // D12
  @Test func oddSizedVideosArePaddedToEven() throws {
    let folder = CLITests.temporaryDirectory()
    try VideoJobTests.ffmpeg(["-i", Self.clip, "-vf", "scale=321:241", "-t", "0.4", "-c:v", "libx264", "-pix_fmt", "yuv444p", folder + "/odd.mp4"])
    let result = try CLITests.swapline(Self.swap(folder + "/o.mp4", [], target: folder + "/odd.mp4"))
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try VideoJobTests.probe(["-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", folder + "/o.mp4"])
            == "322,242")
    #expect(try Self.frameCount(folder + "/o.mp4") == 10)
  }

  // D13
  @Test func variableFrameRateTimingIsKept() throws {
    let folder = CLITests.temporaryDirectory()
    // Frames 10-20 dropped: a 0.48 s gap, as a phone's VFR recording has.
    try VideoJobTests.ffmpeg(["-i", Self.clip, "-vf", "select='not(between(n,10,20))'", "-fps_mode", "vfr", "-c:v", "libx264", "-c:a", "copy",
                              folder + "/vfr.mp4"])
    func times(_ path: String) throws -> [Double] {
      try VideoJobTests.probe(["-select_streams", "v:0", "-show_entries", "frame=pts_time", "-of", "csv=p=0", path])
        .split(separator: "\n").compactMap { Double($0.split(separator: ",").first ?? "") }
    }
    let input = try times(folder + "/vfr.mp4")
    #expect(input.count == 39)
    for (name, extra) in [("o.mp4", ["--chunk-size", "10"]), ("o.mkv", Self.lossless)] {
      let result = try CLITests.swapline(Self.swap(folder + "/" + name, extra, target: folder + "/vfr.mp4"))
      #expect(result.status == 0, "\(result.stderr)")
      let output = try times(folder + "/" + name)
      #expect(output.count == input.count, "\(name): \(output.count) frames")
      // Matroska shifts every stream by the AAC priming delay (0.023 s): compare from the first frame.
      let drift = zip(input, output).map { abs(($0 - input[0]) - ($1 - output[0])) }.max() ?? 1
      #expect(drift < 0.002, "\(name): frame times differ by up to \(drift) s: \(output)")
    }
  }

  // D14
  @Test func anUnreachableDatabaseFailsFastOrIsWaitedForAloud() throws {
    let started = Date()
    let list = try CLITests.swapline(["jobs", "list", "--database", "postgresql://nobody@127.0.0.1:1/x"])
    #expect(list.status == 1 && list.stderr.contains("cannot open the cluster store"), "\(list.stderr)")
    #expect(Date().timeIntervalSince(started) < 5, "took \(Date().timeIntervalSince(started)) s")
    #expect(try CLITests.swapline(["jobs", "list", "--database", ""]).status == 2)
    let worker = try ClusterTests.Background(["worker", "--database", "postgresql://nobody@127.0.0.1:1/x", "--storage", CLITests.temporaryDirectory()],
                                             log: CLITests.temporaryDirectory() + "/worker.log")
    let deadline = Date().addingTimeInterval(10)
    while !worker.text.contains("waiting for the database (attempt 2/30)") && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    worker.stop()
    #expect(worker.text.contains("waiting for the database (attempt 1/30)") && worker.text.contains("attempt 2/30"), "\(worker.text)")
  }



  // D17/D18: errors name the real cause, and surprises are refused before any work.
  @Test func errorsNameTheRealCauseBeforeAnyWork() throws {
    let folder = CLITests.temporaryDirectory()
    let astronaut = CLITests.root + "/samples/astronaut.png"
    _ = mkfifo(folder + "/fifo.png", 0o600)
    let cases: [([String], String)] = try [
      (["swap", "-s", Self.grace, "-t", Self.clip, "-o", folder + "/x.png"], "is a video: give OUTPUT a video extension"),
      (Self.swap(folder + "/x.mp4", ["--chunk-size", "-5"]), "--chunk-size must be at least 1"),
      (["swap", "-s", folder + "/fifo.png", "-t", astronaut, "-o", folder + "/x.png"], "not a regular file"),
      (["swap", "-s", Self.grace, "-t", astronaut, "-o", folder + "/x.png", "--models-dir", folder + "/nope"], "is not a folder"),
      (["swap", "-s", Self.grace, "-t", Self.clip, "-o", Self.clip], "the target would be overwritten"),
      (["swap", "-s", Self.grace, "-t", astronaut, "-o", folder + "/x.png", "--trim-frame-end", "3"], "apply to videos only"),
      (Self.swap(folder + "/x.mp4", ["--lease-seconds", "0"]), "--lease-seconds must be at least 1"),
    ]
    for (arguments, message) in cases {
      let result = try CLITests.swapline(arguments)
      #expect(result.status == 2 && result.stderr.contains(message), "\(arguments): \(result.status) \(result.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["fifo.png"])
  }
}

/// The job-store half of the data-safety regressions, a suite of its own so that it runs beside
/// DataSafetyTests instead of after it (each suite is serialized within itself).
@Suite(.serialized) struct DataSafetyJobTests {
  // D4
  @Test func relativeJobsFolderJoins() throws {
    let folder = CLITests.temporaryDirectory()
    try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: true)
    let result = try CLITests.swapline(["swap", "-s", DataSafetyTests.grace, "-t", DataSafetyTests.clip, "-o", "out/r.mkv", "--jobs-dir", "out/jobs",
                                        "--models-dir", CLITests.root + "/models"] + DataSafetyTests.lossless, in: folder)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try VideoJobTests.frameHashes(folder + "/out/r.mkv") == DataSafetyTests.reference)
  }

  // D7
  @Test func aMissingSegmentIsRenderedAgain() throws {
    let output = CLITests.temporaryDirectory() + "/m.mkv"
    let jobs = try DataSafetyTests.failedJobAt(output)
    try FileManager.default.removeItem(atPath: try #require(try DataSafetyTests.segments(jobs)[1]))
    let rerun = try CLITests.swapline(DataSafetyTests.swap(output, DataSafetyTests.lossless))
    #expect(rerun.status == 0, "\(rerun.stderr)")
    #expect(rerun.stderr.contains("lost its segment"), "\(rerun.stderr)")
    #expect(try VideoJobTests.frameHashes(output) == DataSafetyTests.reference)
  }

  // D6
  @Test func aDamagedSegmentIsRenderedAgainNotJoined() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/d.mkv"
    let jobs = try DataSafetyTests.failedJobAt(output)
    let segment = try #require(try DataSafetyTests.segments(jobs)[0])
    try FileHandle(forWritingAtPath: segment)!.truncate(atOffset: 1000)
    let rerun = try CLITests.swapline(DataSafetyTests.swap(output, DataSafetyTests.lossless))
    #expect(rerun.status == 0, "\(rerun.stderr)")
    #expect(rerun.stderr.contains("chunk 0") && rerun.stderr.contains("rendering again"), "\(rerun.stderr)")
    #expect(try VideoJobTests.frameHashes(output) == DataSafetyTests.reference)
  }

  // D16
  @Test func theSameWorkTypedDifferentlyResumesTheSameJob() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/t.mkv"
    _ = try DataSafetyTests.failedJobAt(output)
    // Another folder, relative paths with ./ and .., options in another order and spelt with '='.
    try FileManager.default.createDirectory(atPath: folder + "/elsewhere", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: folder + "/clip.mp4", withDestinationPath: DataSafetyTests.clip)
    let rerun = try CLITests.swapline(["swap", "--chunk-size=10", "-o", "../t.mkv", "--output-video-encoder", "ffv1", "-t", "./../clip.mp4",
                                       "-s", DataSafetyTests.grace, "--face-detector-interval=10", "--face-detector-angles", "0", "--log-level", "info", "--models-dir", "../../../" + CLITests.root + "/models"],
                                      in: folder + "/elsewhere")
    #expect(rerun.status == 0, "\(rerun.stderr)")
    #expect(rerun.stderr.contains("resuming job 1: 4 of 5 chunks already done"), "\(rerun.stderr)")
    #expect(rerun.stdout.contains("1 rendered by this process"), "\(rerun.stdout)")
    #expect(try VideoJobTests.frameHashes(output) == DataSafetyTests.reference)
    // A changed option is other work: a new job.
    let other = try CLITests.swapline(DataSafetyTests.swap(output, DataSafetyTests.lossless + ["--face-detector-score", "0.6"]))
    #expect(other.status == 0 && !other.stderr.contains("resuming"), "\(other.stderr)")
    #expect(try CLITests.swapline(["jobs", "list", "--jobs-dir", folder + "/.swapline-jobs"]).stdout.contains("2\tdone"))
  }

  // D15
  @Test func aDamagedJobStoreIsNamedAndRestartSetsItAside() throws {
    let output = CLITests.temporaryDirectory() + "/s.mkv"
    let jobs = try DataSafetyTests.failedJobAt(output)
    try FileHandle(forWritingAtPath: jobs + "/jobs.sqlite")!.truncate(atOffset: 100)
    for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: jobs + "/jobs.sqlite" + suffix) }
    let damaged = try CLITests.swapline(DataSafetyTests.swap(output, DataSafetyTests.lossless))
    #expect(damaged.status == 1, "\(damaged.stderr)")
    #expect(damaged.stderr.contains(jobs + "/jobs.sqlite is damaged") && damaged.stderr.contains("--restart"), "\(damaged.stderr)")
    let listed = try CLITests.swapline(["jobs", "list", "--jobs-dir", jobs])
    #expect(listed.status == 1 && listed.stderr.contains("is damaged"), "\(listed.stderr)")
    let restarted = try CLITests.swapline(DataSafetyTests.swap(output, DataSafetyTests.lossless + ["--restart"]))
    #expect(restarted.status == 0, "\(restarted.stderr)")
    #expect(restarted.stderr.contains("moved it to " + jobs + "/jobs.sqlite.damaged-"), "\(restarted.stderr)")
    #expect(try VideoJobTests.frameHashes(output) == DataSafetyTests.reference)
  }

  // D8
  @Test func twoConcurrentRunsOfOneJobCooperate() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/same.mkv"
    let first = Process()
    first.executableURL = URL(fileURLWithPath: CLITests.binary)
    first.arguments = try DataSafetyTests.swap(output, DataSafetyTests.lossless)
    let firstErrors = Pipe()
    first.standardError = firstErrors
    first.standardOutput = FileHandle.nullDevice
    try first.run()
    Thread.sleep(forTimeInterval: 0.3)
    let second = try CLITests.swapline(DataSafetyTests.swap(output, DataSafetyTests.lossless))
    first.waitUntilExit()
    let firstStderr = String(decoding: firstErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(first.terminationStatus == 0, "\(firstStderr)")
    #expect(second.status == 0, "\(second.stderr)")
    let list = try CLITests.swapline(["jobs", "list", "--jobs-dir", folder + "/.swapline-jobs"])
    #expect(list.stdout.hasPrefix("1\tdone\t5 done") && !list.stdout.contains("\n2\t"), "\(list.stdout)")
    #expect(try VideoJobTests.frameHashes(output) == DataSafetyTests.reference)
  }
}
