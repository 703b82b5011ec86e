import Foundation
import Imaging

/// Encodes RGB frames through a rawvideo pipe into ffmpeg. Frames go to `path + ".part"` and are
/// renamed into place by `finish()`, so a failed encode leaves nothing at `path`.
public final class FrameWriter {
  public let path: String
  let width: Int
  let height: Int
  private let process = Process()
  private let input: FileHandle
  private let errors: StderrCollector
  private let partial: String
  private var finished = false
  public private(set) var framesWritten = 0

  public init(path: String, width: Int, height: Int, frameRate: Double, encoding: VideoEncoding,
              metadata: [(key: String, value: String)] = [], placement: HelperPlacement = .unrestricted) throws(MediaError) {
    self.path = path
    self.width = width
    self.height = height
    let ext = (path as NSString).pathExtension
    partial = (path as NSString).deletingPathExtension + ".part." + ext
    var arguments = ["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)",
                     "-framerate", String(format: "%.6f", frameRate), "-i", "-"] + encoding.arguments
      + placement.threadArguments
    for (key, value) in metadata { arguments += ["-metadata", "\(key)=\(value)"] }
    arguments.append(partial)
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = placement.commandPrefix + ["ffmpeg"] + arguments
    let stdin = Pipe(), err = Pipe()
    process.standardInput = stdin
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    do { try process.run() } catch { throw MediaError(.toolMissing, "cannot start ffmpeg: \(error.localizedDescription)") }
    input = stdin.fileHandleForWriting
    errors = StderrCollector(err.fileHandleForReading)
  }

  deinit {
    if !finished {
      process.terminate()
      try? input.close()
      try? FileManager.default.removeItem(atPath: partial)
    }
  }

  public func write(_ frame: Image) throws(MediaError) {
    guard frame.width == width, frame.height == height else {
      throw MediaError(.badInput, "frame is \(frame.width)x\(frame.height), the video is \(width)x\(height)")
    }
    let rgb = frame.converted(toChannels: 3)
    // Straight from the pixel buffer: no per-frame copy into a Data.
    do { try rgb.pixels.withUnsafeBytes { try input.write(contentsOf: $0) } } catch {
      throw MediaError(.processFailed, "ffmpeg stopped taking frames: \(errors.finish())")
    }
    framesWritten += 1
  }

  /// Closes the pipe, waits for ffmpeg and moves the file into place.
  public func finish() throws(MediaError) {
    guard !finished else { return }
    finished = true
    try? input.close()
    process.waitUntilExit()
    let message = errors.finish()
    guard process.terminationStatus == 0 else {
      try? FileManager.default.removeItem(atPath: partial)
      throw MediaError(.processFailed, "ffmpeg could not encode \(path): \(message)")
    }
    try publish(partial, to: path)
  }
}

/// Moves a finished `partial` file to `path` so that it is durable before it becomes visible:
/// fsync, replace, rename, fsync the folder. A crash never leaves a torn file at `path`; on
/// failure `partial` is removed.
func publish(_ partial: String, to path: String) throws(MediaError) {
  guard synchronize(partial) else {
    try? FileManager.default.removeItem(atPath: partial)
    throw MediaError(.processFailed, "cannot flush \(partial) to disk (disk full?)")
  }
  _ = try? FileManager.default.removeItem(atPath: path)
  do { try FileManager.default.moveItem(atPath: partial, toPath: path) } catch {
    try? FileManager.default.removeItem(atPath: partial)
    throw MediaError(.processFailed, "cannot move \(partial) to \(path): \(error.localizedDescription)")
  }
  _ = synchronize((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
}

/// fsync of a file or folder; false when it cannot be opened or flushed.
public func synchronize(_ path: String) -> Bool {
  let descriptor = open(path, O_RDONLY)
  guard descriptor >= 0 else { return false }
  defer { close(descriptor) }
  return fsync(descriptor) == 0
}
