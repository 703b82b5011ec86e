import Foundation
import Imaging

/// Decodes frames [start, start + count) of a video to RGB through an ffmpeg rawvideo pipe, one
/// frame at a time (memory: one frame plus the pipe), never through image files.
///
/// Seeking follows the recipe verified for chunked video: input seek to half a frame before the
/// first wanted frame's timestamp with `-seek_timestamp 1`, which is frame-exact when decoding.
/// Not thread-safe: one thread at a time (FramePrefetcher hands it to its own thread).
public final class FrameReader: @unchecked Sendable {
  public let info: MediaInfo
  public let start: Int
  public let count: Int
  private let process = Process()
  private let output: FileHandle
  private let errors: StderrCollector
  private var delivered = 0
  private var finished = false

  public init(path: String, info: MediaInfo, start: Int = 0, count: Int? = nil) throws(MediaError) {
    let total = info.frameCount
    let wanted = count ?? (total - start)
    guard start >= 0, wanted > 0, start + wanted <= total else {
      throw MediaError(.badInput, "frame range \(start)..<\(start + wanted) is outside the video's \(total) frames")
    }
    self.info = info
    self.start = start
    self.count = wanted
    var arguments = ["-v", "error", "-nostdin"]
    if start > 0 {
      let seek = info.frameTimes[start] - 0.5 / max(info.frameRate, 1)
      arguments += ["-seek_timestamp", "1", "-ss", String(format: "%.6f", max(0, seek))]
    }
    // passthrough: the rawvideo muxer would otherwise duplicate the first frame to fill the gap
    // between the seek point and its timestamp.
    arguments += ["-i", path, "-map", "0:v:0", "-fps_mode", "passthrough", "-frames:v", String(wanted), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ffmpeg"] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { throw MediaError(.toolMissing, "cannot start ffmpeg: \(error.localizedDescription)") }
    output = out.fileHandleForReading
    errors = StderrCollector(err.fileHandleForReading)
  }

  deinit {
    if !finished {
      process.terminate()
      try? output.close()
    }
  }

  /// The next frame, or nil after the last one of the range. Throws if ffmpeg delivers fewer
  /// frames than asked for (a truncated or corrupt file).
  public func next() throws(MediaError) -> Image? {
    guard delivered < count else {
      try finish()
      return nil
    }
    let size = info.width * info.height * 3
    var bytes = Data()
    bytes.reserveCapacity(size)
    while bytes.count < size {
      guard let chunk = try? output.read(upToCount: size - bytes.count), !chunk.isEmpty else { break }
      bytes.append(chunk)
    }
    guard bytes.count == size else {
      try? finish()
      throw MediaError(.badInput, "video ended after \(delivered) of \(count) frames (from frame \(start))")
    }
    delivered += 1
    do {
      return try Image(width: info.width, height: info.height, channels: 3, pixels: [UInt8](bytes))
    } catch {
      throw MediaError(.processFailed, "\(error)")
    }
  }

  private func finish() throws(MediaError) {
    guard !finished else { return }
    finished = true
    _ = try? output.readToEnd()
    process.waitUntilExit()
    let message = errors.finish()
    guard process.terminationStatus == 0 else { throw MediaError(.badInput, "ffmpeg could not decode the video: \(message)") }
  }
}
