import Foundation
import Imaging
import Media


extension Swap {
  /// Decode -> process -> encode. ffmpeg decodes and encodes in their own processes and a
  /// prefetching thread keeps up to four decoded frames ready, so the stages overlap while memory
  /// stays bounded to a few frames however long the video is.
  /// Audio from the target is muxed back at the end; nothing appears at the output path until
  /// the whole file is written.
  func swapVideo(_ info: MediaInfo, label: String, timer: StageTimer, process: (Image) throws -> Image) throws -> Int {
    let start = trimFrameStart ?? 0
    let end = min(trimFrameEnd ?? info.frameCount, info.frameCount)
    guard start >= 0, end > start else {
      throw CLIError.badInput("--trim-frame-start/--trim-frame-end select no frames of the video's \(info.frameCount)")
    }
    let folder = (output as NSString).deletingLastPathComponent
    let temporary = (folder.isEmpty ? "." : folder) + "/.swapline-\(getpid())-video.mkv"
    defer { try? FileManager.default.removeItem(atPath: temporary) }
    let reader: FramePrefetcher, writer: FrameWriter
    do {
      reader = FramePrefetcher(try FrameReader(path: target, info: info, start: start, count: end - start))
      writer = try FrameWriter(path: temporary, width: info.width, height: info.height, frameRate: info.frameRate,
                               encoding: .h264(quality: videoQuality, preset: videoPreset))
    } catch { throw CLIError(message: "\(error)", exitCode: error.code == .badInput ? 2 : 1) }
    let progress = FrameProgress(total: end - start)
    var done = 0
    do {
      while let frame = try timer.measure("decode", { try reader.next() }) {
        let result = try process(frame)
        try timer.measure("encode") { try writer.write(result.width == info.width && result.height == info.height ? result : frame) }
        done += 1
        progress.update(done)
      }
      try timer.measure("encode") { try writer.finish() }
    } catch let error as MediaError {
      throw CLIError(message: "\(error)", exitCode: error.code == .badInput ? 2 : 1)
    }
    progress.finish()
    try timer.measure("mux") { try muxAudio(video: temporary, info: info, startFrame: start, frames: done, label: label) }
    return done
  }

  /// Copies the encoded video and the target's audio (trimmed to the same frames) into OUTPUT,
  /// via a temporary name and a rename.
  func muxAudio(video: String, info: MediaInfo, startFrame: Int, frames: Int, label: String) throws {
    let ext = (output as NSString).pathExtension
    let partial = (output as NSString).deletingPathExtension + ".part." + ext
    let startTime = info.frameTimes[startFrame] - (info.frameTimes.first ?? 0)
    let duration = Double(frames) / max(info.frameRate, 1)
    var arguments = ["-v", "error", "-y", "-i", video]
    if info.audioStreams > 0 {
      arguments += ["-ss", String(format: "%.6f", startTime), "-t", String(format: "%.6f", duration), "-i", target,
                    "-map", "0:v:0", "-map", "1:a:0", "-c:a", ext.lowercased() == "webm" ? "libopus" : "aac"]
    } else {
      arguments += ["-map", "0:v:0"]
    }
    arguments += ["-c:v", "copy", "-metadata", "comment=\(label)", "-metadata", "swapline_provenance=\(label)"]
    if ["mp4", "mov"].contains(ext.lowercased()) { arguments += ["-movflags", "+faststart"] }
    arguments.append(partial)
    do {
      _ = try runTool("ffmpeg", arguments)
      try FileManager.default.moveItem(atPath: partial, toPath: output)
    } catch {
      try? FileManager.default.removeItem(atPath: partial)
      throw CLIError.failure("cannot write \(output): \(error)")
    }
  }
}

/// Frames, fps and ETA on one terminal line; plain lines every few seconds when not a terminal.
final class FrameProgress {
  let total: Int
  let started = Date()
  let isTerminal = isatty(STDERR_FILENO) == 1
  var lastPrinted = Date.distantPast

  init(total: Int) { self.total = total }

  func update(_ done: Int) {
    let now = Date()
    guard done == total || now.timeIntervalSince(lastPrinted) > (isTerminal ? 0.2 : 5) else { return }
    lastPrinted = now
    let elapsed = max(now.timeIntervalSince(started), 1e-3)
    let fps = Double(done) / elapsed
    let eta = fps > 0 ? Double(total - done) / fps : 0
    let line = String(format: "frames %d/%d  %.1f fps  ETA %.0f s", done, total, fps, eta)
    FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
  }

  func finish() {
    if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
