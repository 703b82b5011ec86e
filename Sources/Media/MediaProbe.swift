import Foundation

/// What ffprobe says about a video, plus what we measure ourselves (frame timestamps), because
/// container headers lie about frame rates (a VFR MKV can claim 30/1).
public struct MediaInfo: Sendable, Equatable {
  /// Size of the decoded frames: the stream's size, swapped for a quarter-turn display rotation
  /// (ffmpeg rotates frames upright when decoding).
  public let width: Int
  public let height: Int
  /// Frames per second from the average frame rate.
  public let frameRate: Double
  /// Frames counted from the packet/frame timestamps.
  public let frameCount: Int
  public let duration: Double
  public let codec: String
  public let pixelFormat: String
  /// Clockwise display rotation in degrees (from the display matrix), 0 when none.
  public let rotation: Int
  public let audioStreams: Int
  /// Codec of the first audio stream ("aac", "opus", ...), nil without audio.
  public let audioCodec: String?
  /// PQ or HLG transfer characteristics.
  public let isHDR: Bool
  /// Frame intervals vary by more than 10% from the mean.
  public let isVariableFrameRate: Bool
  /// Presentation time of every frame, in seconds.
  public let frameTimes: [Double]
  /// The frame count the container's header states, when it states one; more than `frameCount`
  /// means frames the header promises cannot be decoded (a truncated file).
  public var declaredFrameCount: Int? = nil
  /// The stream's colour description, kept on the output.
  public var colour = ColourTags()
}

/// What a container's header says, read without decoding a frame (for checks before a probe that
/// decodes every frame).
public struct MediaHeader: Sendable, Equatable {
  /// ffprobe's demuxer names ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "hls", ...).
  public let formatNames: [String]
  public let width: Int
  public let height: Int
  /// Frames the header states (nb_frames), else duration x frame rate; nil when neither is known.
  public let declaredFrames: Int?
}

public enum MediaProbe {
  /// The container's header (one ffprobe call, no frame decoded).
  public static func header(_ path: String) throws(MediaError) -> MediaHeader {
    let data: Data
    do {
      data = try runToCompletion("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", path])
    } catch where error.code == .processFailed {
      throw MediaError(.badInput, "cannot read video '\(path)': \(error.message)")
    }
    guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw MediaError(.badInput, "cannot read video '\(path)': ffprobe gave no stream list")
    }
    let format = json["format"] as? [String: Any]
    let names = (format?["format_name"] as? String ?? "").split(separator: ",").map(String.init)
    let video = (json["streams"] as? [[String: Any]])?.first { $0["codec_type"] as? String == "video" }
    let rate = fraction(video?["avg_frame_rate"] as? String) ?? fraction(video?["r_frame_rate"] as? String) ?? 0
    let duration = Double(format?["duration"] as? String ?? "") ?? Double(video?["duration"] as? String ?? "")
    let declared = (video?["nb_frames"] as? String).flatMap { Int($0) } ?? duration.map { Int(($0 * rate).rounded()) }
    return MediaHeader(formatNames: names, width: video?["width"] as? Int ?? 0, height: video?["height"] as? Int ?? 0,
                       declaredFrames: declared)
  }

  /// Probes `path` with ffprobe: stream metadata, then every frame's timestamp. With
  /// `maxPixels`, a video whose frames are larger is refused from its header, before any frame
  /// is decoded (an upload must not make the server decode a bomb).
  public static func probe(_ path: String, maxPixels: Int? = nil) throws(MediaError) -> MediaInfo {
    guard isRemoteMedia(path) || FileManager.default.fileExists(atPath: path) else {
      throw MediaError(.badInput, "cannot read video '\(path)': no such file")
    }
    let streamData: Data
    do {
      streamData = try runToCompletion("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", path])
    } catch where error.code == .processFailed {
      throw MediaError(.badInput, "cannot read video '\(path)': \(error.message)")
    }
    guard let json = try? JSONSerialization.jsonObject(with: streamData) as? [String: Any],
      let streams = json["streams"] as? [[String: Any]]
    else { throw MediaError(.badInput, "cannot read video '\(path)': ffprobe gave no stream list") }
    guard let video = streams.first(where: { $0["codec_type"] as? String == "video" }) else {
      throw MediaError(.badInput, "'\(path)' has no video stream")
    }
    let audioList = streams.filter { $0["codec_type"] as? String == "audio" }
    let audio = audioList.count
    let codec = video["codec_name"] as? String ?? ""
    guard !codec.isEmpty, codec != "none" else {
      let tag = video["codec_tag_string"] as? String ?? "?"
      throw MediaError(.badInput, "'\(path)': video codec '\(tag)' is not supported by this ffmpeg")
    }
    var width = video["width"] as? Int ?? 0, height = video["height"] as? Int ?? 0
    guard width > 0, height > 0 else { throw MediaError(.badInput, "'\(path)': video stream has no size") }
    let rate = fraction(video["avg_frame_rate"] as? String) ?? fraction(video["r_frame_rate"] as? String) ?? 0
    var rotation = 0
    if let sideData = video["side_data_list"] as? [[String: Any]],
      let value = sideData.compactMap({ $0["rotation"] as? Int ?? ($0["rotation"] as? Double).map { Int($0) } }).first {
      rotation = ((-value % 360) + 360) % 360
    }
    // ffmpeg applies the display rotation when decoding, so frames of a quarter-turned video come
    // out with width and height swapped: report the size frames will have.
    if rotation % 180 == 90 { swap(&width, &height) }
    if let maxPixels, width * height > maxPixels {
      throw MediaError(.badInput, "'\(path)': video frames are \(width)x\(height), over the limit of \(maxPixels) pixels")
    }
    let transfer = video["color_transfer"] as? String ?? ""

    let timesData: Data
    do {
      timesData = try runToCompletion("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time,best_effort_timestamp_time",
                                                  "-of", "csv=p=0", path])
    } catch where error.code == .processFailed {
      throw MediaError(.badInput, "cannot decode video '\(path)': \(error.message)")
    }
    // Lines are "pts,best_effort" (either may be empty); stray blank lines are skipped.
    let times = String(decoding: timesData, as: UTF8.self).split(separator: "\n").compactMap { line -> Double? in
      line.split(separator: ",", omittingEmptySubsequences: false).lazy.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }.first
    }
    guard !times.isEmpty else { throw MediaError(.badInput, "'\(path)' has no decodable video frames") }
    let deltas = zip(times.dropFirst(), times).map { $0 - $1 }
    let meanDelta = deltas.isEmpty ? 0 : deltas.reduce(0, +) / Double(deltas.count)
    let variable = meanDelta > 0 && deltas.contains { abs($0 - meanDelta) > 0.1 * meanDelta }
    let format = json["format"] as? [String: Any]
    let duration = Double(format?["duration"] as? String ?? "") ?? (Double(times.count) / max(rate, 1))
    return MediaInfo(width: width, height: height, frameRate: rate, frameCount: times.count, duration: duration,
                     codec: video["codec_name"] as? String ?? "?", pixelFormat: video["pix_fmt"] as? String ?? "?",
                     rotation: rotation, audioStreams: audio, audioCodec: audioList.first?["codec_name"] as? String, isHDR: ["smpte2084", "arib-std-b67"].contains(transfer),
                     isVariableFrameRate: variable, frameTimes: times,
                     declaredFrameCount: (video["nb_frames"] as? String).flatMap { Int($0) },
                     colour: ColourTags(matrix: video["color_space"] as? String, range: video["color_range"] as? String,
                                        primaries: video["color_primaries"] as? String, transfer: transfer))
  }

  static func fraction(_ text: String?) -> Double? {
    guard let text else { return nil }
    let parts = text.split(separator: "/").compactMap { Double($0) }
    guard parts.count == 2, parts[1] != 0, parts[0] > 0 else { return parts.count == 1 ? parts[0] : nil }
    return parts[0] / parts[1]
  }
}
