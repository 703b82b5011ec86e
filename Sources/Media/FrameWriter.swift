import Foundation
import Imaging

/// Encodes RGB frames through a rawvideo pipe into ffmpeg. ffmpeg writes into a private staging
/// folder beside `path` (see StagingFolder) and `finish()` renames the file into place, so a failed
/// encode leaves nothing at `path` and a planted symbolic link is never written through.
///
/// Encoders with 4:2:0 chroma cannot take an odd width or height: such frames get one more
/// column or row copied from the edge (a 321x241 video comes out 322x242, no pixel lost).
public final class FrameWriter {
  public let path: String
  let width: Int
  let height: Int
  private let process = Process()
  private let input: FileHandle
  private let errors: StderrCollector
  private let partial: String
  private let staging: StagingFolder
  /// The encoded size: the frames' size, made even for 4:2:0 encoders.
  public let encodedWidth: Int
  public let encodedHeight: Int
  private var finished = false
  public private(set) var framesWritten = 0

  /// `frameTimes`: each frame's presentation time in seconds (from the first), for variable
  /// frame rate video; nil writes frames at `frameRate`. `colour`: the source's colour
  /// description: frames are converted to YUV with its matrix and range (exact rounding) and the
  /// stream is tagged with it.
  public init(path: String, width: Int, height: Int, frameRate: Double, encoding: VideoEncoding,
              metadata: [(key: String, value: String)] = [], placement: HelperPlacement = .unrestricted,
              frameTimes: [Double]? = nil, colour: ColourTags = ColourTags()) throws(MediaError) {
    self.path = path
    self.width = width
    self.height = height
    staging = try StagingFolder(beside: path)
    partial = staging.file(for: path)
    let even = encoding.encoder.subsamplesChroma
    encodedWidth = even ? (width + 1) & ~1 : width
    encodedHeight = even ? (height + 1) & ~1 : height
    var arguments = ["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(encodedWidth)x\(encodedHeight)",
                     "-framerate", String(format: "%.6f", frameRate), "-i", "-"] + encoding.arguments
      + placement.threadArguments + colour.tagArguments(rgb: !encoding.encoder.subsamplesChroma)
    // RGB -> YUV in a scale filter of our own: the stream's matrix and range, exact rounding.
    let conversion = encoding.encoder.subsamplesChroma ? colour.encodingFilter(pixelFormat: encoding.encoder.pixelFormat) : nil
    if let frameTimes, !frameTimes.isEmpty {
      // Raw frames carry no timestamps: each frame's own time is set by a sum of terms, one per
      // frame (setpts has no table lookup), in a 90 kHz time base; passthrough keeps every frame.
      // The filter goes into a file in the staging folder: a chunk of thousands of frames would
      // pass the kernel's limit for one argument.
      let terms = frameTimes.enumerated().map { String(format: "eq(N\\,%d)*%.6f", $0.offset, $0.element) }.joined(separator: "+")
      let script = staging.path + "/timestamps.filter"
      let filters = ["settb=1/90000,setpts=(\(terms))/TB"] + (conversion.map { [$0] } ?? [])
      guard FileManager.default.createFile(atPath: script, contents: Data(filters.joined(separator: ",").utf8)) else {
        staging.remove()
        throw MediaError(.processFailed, "cannot write in \(staging.path)")
      }
      arguments += ["-filter_script:v", script, "-fps_mode", "passthrough", "-enc_time_base", "1/90000"]
    } else if let conversion {
      arguments += ["-vf", conversion]
    }
    for (key, value) in metadata { arguments += ["-metadata", "\(key)=\(value)"] }
    arguments.append(partial)
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = placement.commandPrefix + ["ffmpeg"] + arguments
    let stdin = Pipe(), err = Pipe()
    process.standardInput = stdin
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    do { try process.run() } catch {
      staging.remove()
      throw MediaError(.toolMissing, "cannot start ffmpeg: \(error.localizedDescription)")
    }
    input = stdin.fileHandleForWriting
    errors = StderrCollector(err.fileHandleForReading)
  }

  deinit {
    if !finished {
      process.terminate()
      try? input.close()
      process.waitUntilExit()
      staging.remove()
    }
  }

  public func write(_ frame: Image) throws(MediaError) {
    guard frame.width == width, frame.height == height else {
      throw MediaError(.badInput, "frame is \(frame.width)x\(frame.height), the video is \(width)x\(height)")
    }
    let rgb = Self.paddedToEven(frame.converted(toChannels: 3), width: encodedWidth, height: encodedHeight)
    // Straight from the pixel buffer: no per-frame copy into a Data.
    do { try rgb.pixels.withUnsafeBytes { try input.write(contentsOf: $0) } } catch {
      throw MediaError(.processFailed, "ffmpeg stopped taking frames: \(explainingDiskErrors(errors.finish()))")
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
    defer { staging.remove() }
    guard process.terminationStatus == 0 else {
      throw MediaError(.processFailed, "ffmpeg could not encode \(path): \(explainingDiskErrors(message))")
    }
    try publish(partial, to: path)
  }

  /// `frame` with its last column and row repeated up to `width` x `height` (one each at most).
  static func paddedToEven(_ frame: Image, width: Int, height: Int) -> Image {
    guard frame.width != width || frame.height != height else { return frame }
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let sourceRow = frame.width * 3
    frame.pixels.withUnsafeBufferPointer { source in
      pixels.withUnsafeMutableBufferPointer { target in
        for y in 0..<height {
          let from = min(y, frame.height - 1) * sourceRow, to = y * width * 3
          (target.baseAddress! + to).update(from: source.baseAddress! + from, count: sourceRow)
          for x in frame.width..<width {
            for c in 0..<3 { target[to + x * 3 + c] = source[from + sourceRow - 3 + c] }
          }
        }
      }
    }
    return (try? Image(width: width, height: height, channels: 3, pixels: pixels)) ?? frame
  }
}
