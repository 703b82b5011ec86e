import Foundation
import Imaging
import Media
import TestSupport
import Testing

/// Real ffmpeg/ffprobe on clips generated here (testsrc2 with a sine audio track).
@Suite(.serialized) struct MediaTests {
  static let folder: String = {
    let path = NSTemporaryDirectory() + "swapline-media-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()

  /// 2 s, 25 fps, 160x120, B-frames and keyframes every 12 frames (so seeks land between them), AAC audio.
  static var clip: String { get throws { try clipResult.get() } }
  private static let clipResult = Result<String, any Error> {
    let path = folder + "/clip.mp4"
    try run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
         "-c:v", "libx264", "-g", "12", "-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path])
    return path
  }

  /// Runs ffmpeg; a missing or failing ffmpeg fails the calling test (fixtures are results, not crashes).
  static func run(_ arguments: [String]) throws { try runFFmpeg(arguments) }

  func frames(_ path: String, _ info: MediaInfo, start: Int = 0, count: Int? = nil) throws -> [Image] {
    let reader = try FrameReader(path: path, info: info, start: start, count: count)
    var frames: [Image] = []
    while let frame = try reader.next() { frames.append(frame) }
    return frames
  }

  @Test func probesSizeRateFramesAndAudio() throws {
    let info = try MediaProbe.probe(Self.clip)
    #expect(info.width == 160 && info.height == 120)
    #expect(abs(info.frameRate - 25) < 1e-6)
    #expect(info.frameCount == 50)
    #expect(info.audioStreams == 1)
    #expect(!info.isVariableFrameRate && !info.isHDR && info.rotation == 0)
    #expect(abs(info.duration - 2) < 0.1)
  }

  @Test func decodingARangeIsFrameExact() throws {
    let info = try MediaProbe.probe(Self.clip)
    let all = try frames(Self.clip, info)
    #expect(all.count == 50)
    // Start between keyframes: the seek must land exactly on frame 17.
    let range = try frames(Self.clip, info, start: 17, count: 12)
    #expect(range.count == 12)
    #expect(range == Array(all[17..<29]))
    #expect(try frames(Self.clip, info, start: 49, count: 1) == [all[49]])
  }

  @Test func losslessEncodeRoundTripsEveryPixel() throws {
    let info = try MediaProbe.probe(Self.clip)
    let original = try frames(Self.clip, info, start: 5, count: 10)
    let output = Self.folder + "/lossless.mkv"
    let writer = try FrameWriter(path: output, width: 160, height: 120, frameRate: 25, encoding: .lossless,
                                 metadata: [("comment", "face-swapped by swapline")])
    for frame in original { try writer.write(frame) }
    try writer.finish()
    let encoded = try MediaProbe.probe(output)
    #expect(encoded.frameCount == 10)
    #expect(try frames(output, encoded) == original)
    #expect(!FileManager.default.fileExists(atPath: Self.folder + "/lossless.part.mkv"))
  }

  /// A video's frames as RGB bytes, decoded with an explicit YUV matrix and range.
  static func rgb(_ path: String, matrix: String, range: String) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    process.arguments = ["-v", "error", "-nostdin", "-i", path, "-vf", "scale=in_color_matrix=\(matrix):in_range=\(range)",
                         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
    process.waitUntilExit()
    return bytes
  }

  /// Decoding to RGB and encoding back (what every swapped frame goes through) keeps the colour
  /// description: a BT.709 limited-range clip comes back tagged BT.709 limited range and encoded
  /// with that matrix, so read as its tags say it matches the input to about a level per channel
  /// (before, it was encoded with ffmpeg's default BT.601 matrix and left untagged: read as the
  /// BT.709 its source was, 9 levels off on average). An untagged clip stays untagged (BT.601 both ways).
  @Test func aDecodeAndEncodeKeepsTheColourDescription() throws {
    let tagged = Self.folder + "/bt709.mp4", plain = Self.folder + "/untagged.mp4"
    try Self.run(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.4", "-vf", "scale=out_color_matrix=bt709:out_range=tv",
                  "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709",
                  "-color_trc", "bt709", "-color_range", "tv", tagged])
    try Self.run(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.4", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", plain])
    let cases = [(tagged, ColourTags(matrix: "bt709", range: "tv", primaries: "bt709", transfer: "bt709"), "bt709"), (plain, ColourTags(), "bt601")]
    for (input, expected, matrix) in cases {
      let info = try MediaProbe.probe(input)
      #expect(info.colour == expected, "\(input): \(info.colour)")
      let output = input.replacingOccurrences(of: ".mp4", with: ".out.mp4")
      // Quality 100: x264 at CRF 0 (lossless), so what differs is the colour conversion alone.
      let writer = try FrameWriter(path: output, width: info.width, height: info.height, frameRate: 25,
                                   encoding: VideoEncoding(encoder: .libx264, quality: 100), colour: info.colour)
      for frame in try frames(input, info) { try writer.write(frame) }
      try writer.finish()
      #expect(try MediaProbe.probe(output).colour == expected)
      let (before, after) = (try Self.rgb(input, matrix: matrix, range: "tv"), try Self.rgb(output, matrix: matrix, range: "tv"))
      #expect(before.count == after.count && !before.isEmpty)
      let error = zip(before, after).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(max(before.count, 1))
      #expect(error < 2, "\(input): mean absolute error \(error) levels")
    }
  }

  /// An RGB source (FFV1 in bgr0 probes as matrix "gbr", which -colorspace cannot name) is
  /// re-encoded to YUV untagged instead of failing.
  @Test func anRGBSourceEncodesToYUVWithoutAMatrixTag() throws {
    let rgb = Self.folder + "/rgb.mkv"
    try Self.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=0.2", "-c:v", "ffv1", "-pix_fmt", "bgr0", rgb])
    let info = try MediaProbe.probe(rgb)
    #expect(info.colour.matrix == nil)
    let output = Self.folder + "/rgb.out.mp4"
    let writer = try FrameWriter(path: output, width: info.width, height: info.height, frameRate: 25,
                                 encoding: VideoEncoding(encoder: .libx264, quality: 90), colour: info.colour)
    for frame in try frames(rgb, info) { try writer.write(frame) }
    try writer.finish()
    #expect(try MediaProbe.probe(output).frameCount == info.frameCount)
  }

  @Test func badInputsAreReportedClearly() throws {
    #expect(FileManager.default.createFile(atPath: Self.folder + "/notes.mp4", contents: Data("not a video".utf8)))
    try Self.run(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", Self.folder + "/audio.m4a"])
    for (path, message) in [(Self.folder + "/missing.mp4", "no such file"), (Self.folder + "/notes.mp4", "cannot read video"),
                            (Self.folder + "/audio.m4a", "no video stream")] {
      #expect { _ = try MediaProbe.probe(path) } throws: { error in
        (error as? MediaError)?.code == .badInput && "\(error)".contains(message)
      }
    }
    let info = try MediaProbe.probe(Self.clip)
    #expect(throws: MediaError.self) { _ = try FrameReader(path: Self.clip, info: info, start: 45, count: 10) }
  }

  @Test func aTruncatedVideoFailsOrIsDetectablyShort() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Self.clip))
    let truncated = Self.folder + "/truncated.mp4"
    try data.prefix(data.count * 2 / 3).write(to: URL(fileURLWithPath: truncated))
    // The index (moov) sits at the end of this file: cut, it is no video at all.
    #expect { try MediaProbe.probe(truncated) } throws: { ($0 as? MediaError)?.code == .badInput }
    // With the index first (+faststart), the header still promises all 50 frames and fewer decode:
    // the shortfall is visible (swap warns about it), never a shorter video that looks complete.
    let indexFirst = Self.folder + "/index-first.mp4", cut = Self.folder + "/index-first-cut.mp4"
    try Self.run(["-i", Self.clip, "-c", "copy", "-movflags", "+faststart", indexFirst])
    let whole = try Data(contentsOf: URL(fileURLWithPath: indexFirst))
    try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
    let info = try MediaProbe.probe(cut)
    #expect(info.declaredFrameCount == 50)
    #expect(info.frameCount > 0 && info.frameCount < 50, "\(info.frameCount) frames decode")
    let reader = try FrameReader(path: cut, info: info)
    var delivered = 0
    while try reader.next() != nil { delivered += 1 }
    #expect(delivered == info.frameCount)
  }

}

extension MediaTests {
  @Test func prefetchingKeepsOrderAndReportsTheEnd() throws {
    let info = try MediaProbe.probe(Self.clip)
    let direct = try frames(Self.clip, info, start: 3, count: 20)
    let prefetcher = FramePrefetcher(try FrameReader(path: Self.clip, info: info, start: 3, count: 20), capacity: 2)
    var prefetched: [Image] = []
    while let frame = try prefetcher.next() { prefetched.append(frame) }
    #expect(prefetched == direct)
    #expect(try prefetcher.next() == nil)
  }

  @Test func aQuarterTurnedVideoDecodesUpright() throws {
    let rotated = Self.folder + "/rotated.mp4"
    try Self.run(["-i", Self.clip, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated])
    let info = try MediaProbe.probe(rotated)
    #expect(info.rotation % 180 == 90)
    #expect(info.width == 120 && info.height == 160)
    let first = try #require(try frames(rotated, info, count: 1).first)
    #expect(first.width == 120 && first.height == 160)
  }

  @Test func anUnknownVideoCodecIsBadInputWithItsTag() throws {
    // An MJPEG AVI whose codec tag is patched to an unknown one.
    let avi = Self.folder + "/mjpeg.avi", unknown = Self.folder + "/unknown.avi"
    try Self.run(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5:duration=1", "-c:v", "mjpeg", avi])
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: avi)))
    for index in 0..<(bytes.count - 4) where bytes[index..<(index + 4)].elementsEqual("MJPG".utf8) || bytes[index..<(index + 4)].elementsEqual("mjpg".utf8) {
      bytes.replaceSubrange(index..<(index + 4), with: Array("ZZZZ".utf8))
    }
    try Data(bytes).write(to: URL(fileURLWithPath: unknown))
    #expect(throws: MediaError(.badInput, "'\(unknown)': video codec 'ZZZZ' is not supported by this ffmpeg")) {
      try MediaProbe.probe(unknown)
    }
  }

  @Test func everyEncoderWritesItsContainers() throws {
    let info = try MediaProbe.probe(Self.clip)
    let source = try frames(Self.clip, info, count: 5)
    for (encoder, ext) in [(VideoEncoding.Encoder.libx264, "mp4"), (.libx265, "mkv"), (.libvpx_vp9, "webm"), (.libx264, "mov"), (.ffv1, "mkv")] {
      let path = Self.folder + "/encoded-\(encoder.rawValue).\(ext)"
      #expect(encoder.containers.contains(ext))
      let writer = try FrameWriter(path: path, width: 160, height: 120, frameRate: 25, encoding: VideoEncoding(encoder: encoder, quality: 60))
      for frame in source { try writer.write(frame) }
      try writer.finish()
      let probe = try MediaProbe.probe(path)
      #expect(probe.frameCount == 5, "\(encoder.rawValue)")
      #expect(probe.codec == ["libx264": "h264", "libx265": "hevc", "libvpx-vp9": "vp9", "ffv1": "ffv1"][encoder.rawValue], "\(probe.codec)")
    }
  }

  @Test func nvencIsUsableExactlyWhereFfmpegCanEncodeWithIt() {
    // The oracle is ffmpeg itself encoding a frame of another size with each encoder, so the
    // check holds (and can fail) on machines with and without an NVIDIA GPU alike.
    for encoder in [VideoEncoding.Encoder.h264_nvenc, .hevc_nvenc, .libx264] {
      let encodes = (try? Self.run(["-f", "lavfi", "-i", "color=size=320x240:rate=1", "-frames:v", "1", "-c:v", encoder.rawValue, "-f", "null", "-"])) != nil
      #expect(VideoEncoding.isUsable(encoder) == encodes, "\(encoder.rawValue)")
    }
    #expect(VideoEncoding.isUsable(.libx264))
    #expect(VideoEncoding.Encoder.h264_nvenc.softwareFallback == .libx264 && VideoEncoding.Encoder.hevc_nvenc.softwareFallback == .libx265)
  }
}
