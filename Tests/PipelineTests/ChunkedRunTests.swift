import Foundation
import Imaging
import Jobs
import Media
import Pipeline
import TestSupport
import Testing

/// The chunk engine with real ffmpeg and a real SQLite store, on clips generated here.
@Suite(.serialized) struct ChunkedRunTests {
  static let folder: String = {
    let path = NSTemporaryDirectory() + "swapline-pipeline-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()

  /// 3 s at 25 fps, keyframes every 30 frames and B-frames, so chunk starts fall between keyframes.
  static var clip: String { get throws { try clipResult.get() } }
  private static let clipResult = Result<String, any Error> {
    let path = folder + "/clip.mp4"
    try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=192x108:rate=25:duration=3", "-f", "lavfi", "-i", "sine=frequency=300:duration=3",
            "-c:v", "libx264", "-g", "30", "-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path])
    return path
  }

  /// Runs ffmpeg; a missing or failing ffmpeg fails the calling test, not the test process.
  static func ffmpeg(_ arguments: [String]) throws { try runFFmpeg(arguments) }

  /// The per-frame MD5s of a video's frames as RGB (ffmpeg's framemd5 muxer), hashes only.
  static func frameHashes(_ path: String) throws -> [String] {
    let text = try runTool("ffmpeg", ["-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-pix_fmt", "rgb24", "-f", "framemd5", "-"])
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last!).trimmingCharacters(in: .whitespaces) }
  }

  /// Passes frames through unchanged; counts calls so the test sees every frame went through both stages.
  final class IdentityProcessor: VideoFrameProcessor, @unchecked Sendable {
    let lock = NSLock()
    var chunkStarts: [Int] = []
    var analysed: [Int] = []
    func beginChunk(at frame: Int) { lock.withLock { chunkStarts.append(frame) } }
    func prepare(_ frame: Image, index: Int, position: Int) throws -> Int { index }
    func analyse(_ frame: Image, prepared: Int, index: Int) throws -> Int {
      guard prepared == index else { throw MediaError(.badInput, "frame \(index) was analysed with frame \(prepared)'s preparation") }
      lock.withLock { analysed.append(index) }
      return index
    }
    func render(_ frame: Image, analysis: Int) throws -> Image { frame }
  }

  /// Fails the analysis of one frame (a model error mid-chunk); passes every other frame through.
  final class FailingProcessor: VideoFrameProcessor, @unchecked Sendable {
    let failing: Int
    init(failing: Int) { self.failing = failing }
    func beginChunk(at frame: Int) {}
    func prepare(_ frame: Image, index: Int, position: Int) throws -> Int { index }
    func analyse(_ frame: Image, prepared: Int, index: Int) throws -> Int {
      if index == failing { throw MediaError(.processFailed, "analysis failed at frame \(index)") }
      return index
    }
    func render(_ frame: Image, analysis: Int) throws -> Image { frame }
  }

  func spec(output: String, chunkFrames: Int, start: Int = 0, end: Int = 75) throws -> VideoJobSpec {
    VideoJobSpec(target: try Self.clip, output: output, startFrame: start, endFrame: end, chunkFrames: chunkFrames, encoding: .lossless,
                 label: "face-swapped by swapline tests", options: ["test": "identity"], files: [:])
  }

  @Test func chunkBoundariesAreFrameExact() throws {
    let info = try MediaProbe.probe(Self.clip)
    #expect(info.frameCount == 75)
    let jobs = try JobEngine(directory: Self.folder + "/jobs-exact")
    let output = Self.folder + "/identity.mkv"
    // 17-frame chunks: starts at 0, 17, 34, 51, 68, none on a keyframe after the first.
    let spec = try spec(output: output, chunkFrames: 17)
    let prepared = try jobs.prepare(spec)
    #expect(prepared.chunkCount == 5 && !prepared.resumed)
    let processor = IdentityProcessor()
    #expect(try jobs.work(job: prepared.job, spec: spec, info: info, processor: processor) == 5)
    #expect(try jobs.completion(job: prepared.job) == .complete)
    try jobs.finalize(job: prepared.job, spec: spec, info: info)
    #expect(processor.chunkStarts == [0, 17, 34, 51, 68])
    #expect(processor.analysed == Array(0..<75))
    let source = try Self.frameHashes(Self.clip)
    #expect(source.count == 75)
    #expect(try Self.frameHashes(output) == source)
    // Audio of the same length came along, and the provenance label is in the container.
    let probe = try runTool("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type,duration:format_tags=comment", "-of", "json", output])
    #expect(probe.contains("\"audio\"") && probe.contains("face-swapped by swapline tests"))
    #expect(try jobs.store.job(prepared.job)?.state == .done)
    #expect(!FileManager.default.fileExists(atPath: jobs.segmentFolder(job: prepared.job)))
  }

  @Test func aTrimmedRangeKeepsItsFrames() throws {
    let info = try MediaProbe.probe(Self.clip)
    let jobs = try JobEngine(directory: Self.folder + "/jobs-trim")
    let output = Self.folder + "/trimmed.mkv"
    let spec = try spec(output: output, chunkFrames: 10, start: 23, end: 61)
    let prepared = try jobs.prepare(spec)
    _ = try jobs.work(job: prepared.job, spec: spec, info: info, processor: IdentityProcessor())
    try jobs.finalize(job: prepared.job, spec: spec, info: info)
    #expect(try Self.frameHashes(output) == Array(try Self.frameHashes(Self.clip)[23..<61]))
  }

  @Test func theSameSpecResumesAndOnlyUnfinishedChunksRun() throws {
    let info = try MediaProbe.probe(Self.clip)
    let jobs = try JobEngine(directory: Self.folder + "/jobs-resume")
    let output = Self.folder + "/resumed.mkv"
    let spec = try spec(output: output, chunkFrames: 25)
    let first = try jobs.prepare(spec)
    // Stop in the middle of the second chunk (frame 30): the first is committed (its background
    // finish is awaited), the second is abandoned and goes back to pending.
    let interrupted = IdentityProcessor()
    _ = try jobs.work(job: first.job, spec: spec, info: info, processor: interrupted,
                      shouldStop: { interrupted.lock.withLock { (interrupted.analysed.last ?? 0) >= 30 } })
    let again = try jobs.prepare(spec)
    #expect(again.job == first.job && again.resumed && again.doneChunks == 1)
    let processor = IdentityProcessor()
    #expect(try jobs.work(job: again.job, spec: spec, info: info, processor: processor) == 2)
    #expect(processor.chunkStarts == [25, 50])
    try jobs.finalize(job: again.job, spec: spec, info: info)
    #expect(try Self.frameHashes(output) == (try Self.frameHashes(Self.clip)))
    // A different option is a different job.
    var changed = spec
    changed.options["test"] = "other"
    #expect(try jobs.prepare(changed).job != first.job)
  }

  @Test func aStaleWorkersSegmentIsNeverCommitted() throws {
    let info = try MediaProbe.probe(Self.clip)
    let jobs = try JobEngine(directory: Self.folder + "/jobs-fence")
    let spec = try spec(output: Self.folder + "/fenced.mkv", chunkFrames: 75)
    let prepared = try jobs.prepare(spec)
    // A worker that vanished holds the only chunk; releasing it re-grants it with a new token.
    let stale = try #require(try jobs.store.claim(worker: "elsewhere:1", job: prepared.job, leaseSeconds: 60))
    #expect(try jobs.store.releaseLeases(job: prepared.job, owners: ["elsewhere:1"]) == 1)
    #expect(try jobs.work(job: prepared.job, spec: spec, info: info, processor: IdentityProcessor()) == 1)
    #expect(try !jobs.store.complete(stale, output: "chunk-00000.t\(stale.token).mkv"))
    let record = try jobs.store.chunks(job: prepared.job)[0]
    #expect(record.output != "chunk-00000.t\(stale.token).mkv" && record.infrastructureFailures == 1)
  }


  /// A chunk whose analysis fails mid-chunk uses up an attempt each time (with backoff) and ends
  /// dead after the last one; the chunks before it are committed, and no lease is left held.
  @Test func aChunkFailingInAnalysisUsesUpItsAttemptsAndDies() throws {
    let info = try MediaProbe.probe(Self.clip)
    let store = try SQLiteChunkStore(path: Self.folder + "/failing.sqlite", policy: RetryPolicy(maxAttempts: 3, baseDelay: 0, maxDelay: 0, jitter: 0))
    let jobs = JobEngine(store: store, directory: Self.folder + "/jobs-failing")
    let spec = try spec(output: Self.folder + "/failing.mkv", chunkFrames: 25)
    let job = try jobs.prepare(spec).job
    let processor = FailingProcessor(failing: 30)
    for attempt in 1...3 {
      #expect(throws: MediaError.self) { try jobs.work(job: job, spec: spec, info: info, processor: processor) }
      let chunk = try store.chunks(job: job)[1]
      #expect(chunk.attempt == attempt && chunk.state == (attempt < 3 ? .pending : .dead), "attempt \(attempt): \(chunk)")
      #expect(chunk.lastError?.contains("analysis failed at frame 30") == true && chunk.infrastructureFailures == 0, "\(chunk)")
    }
    let chunks = try store.chunks(job: job)
    #expect(chunks[0].state == .done && !chunks.contains { $0.state == .leased }, "\(chunks.map(\.state))")
    #expect(try jobs.completion(job: job) != .complete)
  }
}
