import Foundation
import Jobs
import TestSupport
import Testing

/// Video runs as jobs: the 4 s 720p clip end to end, kill -9 and resume, several workers, and
/// bad input. Real ffmpeg, real models, the swapline under test (`CLITests.binary`). Cancelling a
/// running job, retry and resume are in DataSafetyTests.
@Suite(.serialized) struct VideoJobTests {
  static func ffmpeg(_ arguments: [String]) throws { try runFFmpeg(arguments) }

  static func probe(_ arguments: [String]) throws -> String {
    try CLITests.run("/usr/bin/ffprobe", ["-v", "error"] + arguments).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Per-frame MD5s of the decoded RGB frames (ffmpeg's framemd5), hashes only.
  static func frameHashes(_ path: String) throws -> [String] {
    let result = try CLITests.run("/usr/bin/ffmpeg", ["-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-pix_fmt", "rgb24", "-f", "framemd5", "-"])
    // A file ffmpeg cannot read must not compare equal to another unreadable one.
    guard result.status == 0 else { throw CommandFailed(description: "framemd5 of \(path): \(result.stderr)") }
    let text = result.stdout
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last!) }
  }

  /// Frame n of a video as packed RGB.
  static func frame(_ path: String, _ n: Int) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    process.arguments = ["-v", "error", "-nostdin", "-i", path, "-vf", "select=eq(n\\,\(n))", "-vframes", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, !data.isEmpty else { throw CommandFailed(description: "cannot decode frame \(n) of \(path)") }
    return [UInt8](data)
  }

  /// Mean absolute RGB difference of frame n of two videos of `width` pixels a row, inside a rectangle.
  static func meanDifference(_ a: String, _ b: String, frame n: Int, width: Int, x: Range<Int>, y: Range<Int>) throws -> Double {
    let first = try frame(a, n), second = try frame(b, n)
    guard first.count == second.count, first.count >= y.upperBound * width * 3 else {
      throw CommandFailed(description: "frame \(n) of \(a) and \(b) differ in size (\(first.count), \(second.count) bytes)")
    }
    return CLITests.meanChange(first, second, width: width, x: x, y: y)
  }

  /// Frame-equality comparisons with `reference` would pass with a renderer that changes nothing,
  /// so each reference run must show a swapped face and an untouched background.
  static func requireSwapped(_ clip: String, _ output: String, width: Int, face: (x: Range<Int>, y: Range<Int>),
                             background: (x: Range<Int>, y: Range<Int>)) throws {
    let inFace = try meanDifference(clip, output, frame: 0, width: width, x: face.x, y: face.y)
    let outside = try meanDifference(clip, output, frame: 0, width: width, x: background.x, y: background.y)
    guard inFace > 8, outside < 2 else {
      throw CommandFailed(description: "\(output) is not a face swap of \(clip): mean change \(inFace) in the face, \(outside) outside")
    }
  }

  /// The shared 2 s 320x240 clip (50 frames) and its uninterrupted lossless run (DataSafetyTests).
  static var smallClip: String { get throws { try DataSafetyTests.clip } }
  static var reference: [String] { get throws { try DataSafetyTests.reference } }
  static var lossless: [String] { DataSafetyTests.lossless }

  static func swap(_ clip: String, _ output: String, _ extra: [String] = []) -> [String] {
    ["swap", "-s", "samples/grace_hopper.jpg", "-t", clip, "-o", output] + extra
  }

  @Test func aFourSecond720pClipSwapsEndToEnd() throws {
    let folder = CLITests.temporaryDirectory()
    let clip = folder + "/clip720.mp4", output = folder + "/swapped720.mp4"
    try Self.ffmpeg(["-f", "lavfi", "-i", "color=c=0x404040:s=1280x720:r=25:d=4", "-loop", "1", "-i", CLITests.root + "/samples/astronaut.png",
                     "-f", "lavfi", "-i", "sine=frequency=330:duration=4", "-filter_complex",
                     "[1]scale=560:560[face];[0][face]overlay=x='200+40*t':y='80+20*sin(t)':shortest=1,format=yuv420p[v]",
                     "-map", "[v]", "-map", "2:a", "-t", "4", "-c:v", "libx264", "-c:a", "aac", clip])
    // Chunks of 25 frames: four segments to join, as a long video has many.
    let result = try CLITests.swapline(Self.swap(clip, output, ["--chunk-size", "25"]))
    #expect(result.status == 0, "\(result.stderr)")
    func frames(_ path: String) throws -> Int {
      Int(try Self.probe(["-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path])) ?? -1
    }
    #expect(try frames(clip) == 100)
    #expect(try frames(output) == 100)
    func duration(_ path: String, _ stream: String) throws -> Double {
      Double(try Self.probe(["-select_streams", stream, "-show_entries", "stream=duration", "-of", "csv=p=0", path])) ?? -1
    }
    let videoDuration = try duration(output, "v:0"), audioDuration = try duration(output, "a:0")
    #expect(abs(videoDuration - (try duration(clip, "v:0"))) <= 0.04, "video \(videoDuration) s")
    #expect(abs(audioDuration - videoDuration) <= 0.05, "audio \(audioDuration) s against video \(videoDuration) s")
    #expect(try Self.probe(["-show_entries", "format_tags=comment", "-of", "csv=p=0", output]).contains("face-swapped by swapline"))
    // Sampled frames: the face moved with the overlay and is swapped there; the background is not.
    for n in [0, 50, 99] {
      let before = try Self.frame(clip, n), after = try Self.frame(output, n)
      #expect(before.count == 1280 * 720 * 3 && after.count == before.count)
      let t = Double(n) / 25, left = Int(200 + 40 * t), top = Int(80 + 20 * sin(t))
      // The astronaut's face sits at about (0.33-0.65, 0.10-0.50) of the 560 px overlay.
      func meanChange(x: Range<Int>, y: Range<Int>) -> Double { CLITests.meanChange(before, after, width: 1280, x: x, y: y) }
      let face = meanChange(x: (left + 185)..<(left + 365), y: (top + 60)..<(top + 280))
      let background = meanChange(x: 0..<150, y: 500..<720)
      #expect(face > 5, "frame \(n): mean change in the face \(face) (background \(background))")
      #expect(background < 2, "frame \(n): mean change in the background \(background)")
    }
  }

  @Test func killNineThenTheSameCommandResumesWithIdenticalFrames() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/resumed.mkv"
    let arguments = Self.swap(try Self.smallClip, output, Self.lossless)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLITests.binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Wait until at least two chunks are committed in the job store, then kill -9 mid-run.
    let storePath = folder + "/.swapline-jobs/jobs.sqlite"
    let deadline = Date().addingTimeInterval(300)
    while !FileManager.default.fileExists(atPath: storePath) && Date() < deadline && process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
    let store = try SQLiteChunkStore(path: storePath)
    func chunks() -> [ChunkRecord] { (try? store.chunks(job: 1)) ?? [] }
    while chunks().filter({ $0.state == .done }).count < 2 && Date() < deadline && process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let atKill = chunks()
    let done = atKill.filter { $0.state == .done }.count, inFlight = atKill.filter { $0.state == .leased }.count
    #expect(done >= 2 && done < 5, "\(done) chunks done at the kill")
    // In flight per worker: one finishing, one being analysed, one opened early.
    #expect(inFlight >= 1 && inFlight <= 3, "\(inFlight) chunks in flight at the kill")
    #expect(!FileManager.default.fileExists(atPath: output))

    let rerun = try CLITests.swapline(arguments)
    #expect(rerun.status == 0, "\(rerun.stderr)")
    #expect(rerun.stderr.contains("resuming job 1: \(done) of 5 chunks already done"), "\(rerun.stderr)")
    #expect(rerun.stdout.contains("\(5 - done) rendered by this process"), "\(rerun.stdout)")
    #expect(try Self.frameHashes(output) == Self.reference)
    // Chunks done before the kill were never redone; exactly the ones in flight were.
    let after = chunks()
    #expect(after.allSatisfy { $0.state == .done })
    #expect(after.filter { $0.attempt > 1 }.count == inFlight)
    #expect(after.filter { $0.attempt > 1 }.allSatisfy { $0.infrastructureFailures == 1 })
  }

  @Test func twoWorkerProcessesShareTheJobAndProduceTheSameFrames() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/two.mkv"
    let result = try CLITests.swapline(Self.swap(Self.smallClip, output, Self.lossless + ["--workers", "2"]))
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try Self.frameHashes(output) == Self.reference)
    let show = try CLITests.swapline(["jobs", "show", "1", "--json", "--jobs-dir", folder + "/.swapline-jobs"])
    let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
    let owners = Set((json["chunks"] as? [[String: Any]] ?? []).compactMap { $0["owner"] as? String })
    #expect(owners.count == 2, "chunks rendered by \(owners)")
  }

  /// A local worker (`jobs work ID`, started once the job exists) never outlives its parent: kill -9 the parent
  /// once the worker holds a chunk, and the worker stops (its standard input ends), releasing
  /// its lease; the same command then finishes the job with the same frames.
  @Test func aLocalWorkerStopsWhenItsParentIsKilled() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/orphan.mkv"
    let arguments = Self.swap(try Self.smallClip, output, Self.lossless + ["--workers", "2"])
    let parent = try CLITests.Background(arguments, log: folder + "/parent.log")
    func workers() -> [pid_t] {
      ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }.filter { pid in
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let command = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return status.contains("PPid:\t\(parent.process.processIdentifier)\n") && command.contains("jobs\0work\0")
      }
    }
    let storePath = folder + "/.swapline-jobs/jobs.sqlite"
    var deadline = Date().addingTimeInterval(120)
    var owners: Set<String> = []
    var store: SQLiteChunkStore?
    while owners.count < 2 && Date() < deadline && parent.process.isRunning {
      Thread.sleep(forTimeInterval: 0.05)
      if store == nil, FileManager.default.fileExists(atPath: storePath) { store = try? SQLiteChunkStore(path: storePath) }
      owners = Set(((try? store?.chunks(job: 1)) ?? []).filter { $0.state == .leased }.compactMap(\.owner))
    }
    let worker = try #require(workers().first, "no worker process: \(parent.text)")
    kill(parent.process.processIdentifier, SIGKILL)
    parent.process.waitUntilExit()
    let held = try #require(store).chunks(job: 1).filter { $0.state == .leased && ($0.owner ?? "").hasSuffix(":\(worker)") }.map(\.index)
    #expect(owners.count == 2 && !held.isEmpty, "leases held by \(owners), the worker's: \(held)")
    deadline = Date().addingTimeInterval(15)
    while kill(worker, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    #expect(kill(worker, 0) != 0, "the worker \(worker) outlived its parent by 15 s")
    // It stopped rather than worked on: the chunks it held went back to pending, unfinished.
    let after = try #require(store).chunks(job: 1)
    #expect(held.allSatisfy { after[$0].state == .pending }, "\(after.map { "\($0.index): \($0.state)" })")
    let rerun = try CLITests.swapline(arguments)
    #expect(rerun.status == 0 && rerun.stderr.contains("resuming job 1"), "\(rerun.stderr)")
    #expect(try Self.frameHashes(output) == Self.reference)
  }

  @Test func jobsCommandsListShowAndRefuseWhatCannotBe() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/listed.mp4"
    let run = try CLITests.swapline(Self.swap(Self.smallClip, output, ["--trim-frame-end", "20", "--chunk-size", "10"]))
    #expect(run.status == 0, "\(run.stderr)")
    let jobsDir = folder + "/.swapline-jobs"
    let list = try CLITests.swapline(["jobs", "list", "--jobs-dir", jobsDir])
    #expect(list.status == 0 && list.stdout.contains("1\tdone\t2 done\t\(output)"), "\(list.stdout)")
    let show = try CLITests.swapline(["jobs", "show", "1", "--jobs-dir", jobsDir])
    #expect(show.stdout.contains("frames 0..<20") && show.stdout.contains("2 done"), "\(show.stdout)")
    #expect(try CLITests.swapline(["jobs", "cancel", "1", "--jobs-dir", jobsDir]).status == 2)  // already done
    #expect(try CLITests.swapline(["jobs", "show", "9", "--jobs-dir", jobsDir]).status == 2)
    #expect(try CLITests.swapline(["jobs", "list", "--jobs-dir", folder + "/nowhere"]).status == 2)
  }

  @Test func badVideoInputsExitTwoAndWriteNothing() throws {
    let folder = CLITests.temporaryDirectory()
    // Audio only: no video stream.
    try Self.ffmpeg(["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", folder + "/audio.mp4"])
    // A video stream without a single frame.
    try Self.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-frames:v", "0", "-c:v", "libx264", folder + "/empty.mkv"])
    // Half a file: cut in the middle of the stream.
    let whole = try Data(contentsOf: URL(fileURLWithPath: Self.smallClip))
    try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: folder + "/truncated.mp4"))
    for input in ["audio.mp4", "empty.mkv", "truncated.mp4"] {
      let output = folder + "/out-\(input).mp4"
      let result = try CLITests.swapline(Self.swap(folder + "/" + input, output))
      #expect(result.status == 2, "\(input): \(result.status) \(result.stderr)")
      #expect(result.stderr.contains("swapline: error:"), "\(input): \(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: output), "\(input)")
    }
    // An encoder that cannot write the container is refused before any work.
    let wrong = try CLITests.swapline(Self.swap(Self.smallClip, folder + "/x.webm", ["--output-video-encoder", "libx264"]))
    #expect(wrong.status == 2 && wrong.stderr.contains("cannot be written to .webm"), "\(wrong.stderr)")
  }

  @Test func aFullDiskFailsTheJobWithItsReasonAndWritesNothing() throws {
    let folder = CLITests.temporaryDirectory()
    let output = folder + "/full.mkv"
    // File size limit of 1 MB (the 50-frame segment is about 1.9 MB) with SIGXFSZ ignored:
    // writes past it fail with EFBIG, as on a full disk.
    let command = try "ulimit -f 1024; trap '' XFSZ; exec " + ([CLITests.binary]
      + Self.swap(try Self.smallClip, output, ["--output-video-encoder", "ffv1", "--chunk-size", "50"]))
      .map { "'\($0)'" }.joined(separator: " ")
    let result = try CLITests.run("/bin/bash", ["-c", command])
    #expect(result.status == 1, "\(result.status): \(result.stderr)")
    #expect(result.stderr.contains("job 1 failed: chunk 0 (frames 0-49) failed 3 times") && result.stderr.contains("File too large"),
            "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: output))
    let show = try CLITests.swapline(["jobs", "show", "1", "--jobs-dir", folder + "/.swapline-jobs"])
    #expect(show.stdout.contains("job 1: failed") && show.stdout.contains("dead"), "\(show.stdout)")
  }
}

/// A command a test depends on failed.
struct CommandFailed: Error, CustomStringConvertible {
  let description: String
}
