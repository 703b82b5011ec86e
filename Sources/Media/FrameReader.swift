import Foundation
import Imaging

/// Decodes frames [start, start + count) of a video to RGB through an ffmpeg rawvideo pipe, one
/// frame at a time (memory: one frame plus the pipe), never through image files.
///
/// Seeking follows the recipe verified for chunked video: input seek to half a frame before the
/// first wanted frame's timestamp with `-seek_timestamp 1`, which is frame-exact when decoding.
/// Not thread-safe: one thread at a time (FramePrefetcher hands it to its own thread).
// @unchecked: one thread at a time by contract (see above); moved, not shared.
public final class FrameReader: @unchecked Sendable {
  public let info: MediaInfo
  public let start: Int
  public let count: Int
  private let process = Process()
  private let output: FileHandle
  private let errors: StderrCollector
  private var delivered = 0
  private var finished = false

  /// `placement`: ffmpeg's threads, priority and CPUs.
  public init(path: String, info: MediaInfo, start: Int = 0, count: Int? = nil, placement: HelperPlacement = .unrestricted) throws(MediaError) {
    let total = info.frameCount
    let wanted = count ?? (total - start)
    guard start >= 0, wanted > 0, start + wanted <= total else {
      throw MediaError(.badInput, "frame range \(start)..<\(start + wanted) is outside the video's \(total) frames")
    }
    self.info = info
    self.start = start
    self.count = wanted
    var arguments = ["-v", "error", "-nostdin"] + placement.threadArguments
    if start > 0 {
      let seek = info.frameTimes[start] - 0.5 / max(info.frameRate, 1)
      arguments += ["-seek_timestamp", "1", "-ss", String(format: "%.6f", max(0, seek))]
    }
    // passthrough: the rawvideo muxer would otherwise duplicate the first frame to fill the gap
    // between the seek point and its timestamp.
    // The scaler takes the stream's own matrix and range from its frames (FrameWriter converts
    // back with the same ones: ColourTags).
    arguments += ["-i", path, "-map", "0:v:0", "-fps_mode", "passthrough", "-frames:v", String(wanted), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = placement.commandPrefix + ["ffmpeg"] + arguments
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
    // read(2) straight into the frame's own buffer: one copy from the pipe, none after.
    var pixels = [UInt8](repeating: 0, count: size)
    let descriptor = output.fileDescriptor
    var filled = 0
    pixels.withUnsafeMutableBytes { buffer in
      while filled < size {
        let count = read(descriptor, buffer.baseAddress! + filled, size - filled)
        if count > 0 {
          filled += count
        } else if count < 0 && errno == EINTR {
          continue
        } else {
          break
        }
      }
    }
    guard filled == size else {
      try? finish()
      throw MediaError(.badInput, "video ended after \(delivered) of \(count) frames (from frame \(start))")
    }
    delivered += 1
    do {
      return try Image(width: info.width, height: info.height, channels: 3, pixels: pixels)
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
