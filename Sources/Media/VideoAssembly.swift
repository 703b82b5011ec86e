import Foundation

/// Joining chunk segments into the output video, per the recipe verified for chunked video:
/// count each segment's packets, concatenate with the concat demuxer and `duration` lines (exact
/// joins), mux the target's audio once at the end, then publish by rename.
public enum VideoAssembly {
  /// Throws unless the segment holds exactly `expected` frames (Av1an's FRAME MISMATCH).
  public static func verifyFrameCount(of path: String, expected: Int) throws(MediaError) {
    let frames = try frameCount(of: path)
    guard frames == expected else {
      throw MediaError(.processFailed, "segment \((path as NSString).lastPathComponent) has \(frames) frames, expected \(expected) (frame mismatch)")
    }
  }

  /// The number of video packets (= frames for our encoders) in a segment, without decoding.
  public static func frameCount(of path: String) throws(MediaError) -> Int {
    let text = try runTool("ffprobe", ["-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries",
                                       "stream=nb_read_packets", "-of", "csv=p=0", path])
    // MPEG-TS lists the stream once per program as well: the first number is the count.
    guard let count = text.split(whereSeparator: \.isNewline).lazy.compactMap({ Int($0.split(separator: ",").first ?? "") }).first else {
      throw MediaError(.processFailed, "cannot count the frames of \(path)")
    }
    return count
  }

  /// Writes `output` from the segments (in order) plus the audio of `audioSource` from
  /// `audioStart` seconds for `duration` seconds, with `metadata` in the container. ffmpeg writes
  /// into a private staging folder; the result is checked (frame count, duration, audio) before
  /// it is fsynced and renamed to `output`, so nothing half-written is ever at `output`.
  /// `copyAudio`: the audio stream is copied as is (whole-video runs whose audio codec the
  /// container takes), else re-encoded, which also cuts it exactly for a trimmed range.
  /// `durations`: each segment's length in seconds when frames are not evenly spaced (variable
  /// frame rate: from its first frame to the next segment's), else frames / frameRate.
  public static func assemble(segments: [(path: String, frames: Int)], frameRate: Double, audioSource: String?, audioStart: Double,
                              duration: Double, durations: [Double]? = nil, copyAudio: Bool = false,
                              metadata: [(key: String, value: String)], output: String, workFolder: String,
                              beforePublish: () throws(MediaError) -> Void = {}) throws(MediaError) {
    let list = workFolder + "/concat.txt"
    var text = "ffconcat version 1.0\n"
    for (index, segment) in segments.enumerated() {
      // The concat demuxer resolves relative names against the list's own folder: give absolute ones.
      let path = segment.path.hasPrefix("/") ? segment.path : FileManager.default.currentDirectoryPath + "/" + segment.path
      text += "file '\(path.replacingOccurrences(of: "'", with: "'\\''"))'\n"
      let seconds = durations?[index] ?? Double(segment.frames) / max(frameRate, 1e-6)
      text += "duration \(String(format: "%.9f", seconds))\n"
    }
    do { try text.write(toFile: list, atomically: true, encoding: .utf8) } catch {
      throw MediaError(.processFailed, "cannot write \(list): \(error.localizedDescription)")
    }
    let ext = (output as NSString).pathExtension.lowercased()
    let staging = try StagingFolder(beside: output)
    defer { staging.remove() }
    let partial = staging.file(for: output)
    var arguments = ["-v", "error", "-y", "-nostdin", "-f", "concat", "-safe", "0", "-i", list]
    if let audioSource, copyAudio {
      arguments += ["-i", audioSource, "-map", "0:v:0", "-map", "1:a:0", "-c:a", "copy"]
    } else if let audioSource {
      arguments += ["-ss", String(format: "%.6f", audioStart), "-t", String(format: "%.6f", duration), "-i", audioSource,
                    "-map", "0:v:0", "-map", "1:a:0", "-c:a", ext == "webm" ? "libopus" : "aac"]
    } else {
      arguments += ["-map", "0:v:0"]
    }
    arguments += ["-c:v", "copy"]
    for (key, value) in metadata { arguments += ["-metadata", "\(key)=\(value)"] }
    // use_metadata_tags keeps our own tag (not only the standard comment) in MP4/MOV.
    if ext == "mp4" || ext == "mov" {
      arguments += ["-movflags", "+faststart+use_metadata_tags"]
      // Uneven frame times need a fine clock; the muxer's default (the mean rate) would round them.
      if durations != nil { arguments += ["-video_track_timescale", "90000"] }
    }
    arguments.append(partial)
    let (_, warnings) = try runToolCollectingErrors("ffmpeg", arguments)
    // ffmpeg 5.1 exits 0 when the +faststart pass cannot write its trailer (a full disk): its
    // words and the file itself are checked before anything is published.
    if warnings.contains("Error writing trailer") || warnings.contains("No space left on device") {
      throw MediaError(.processFailed, "ffmpeg could not finish \(output): \(explainingDiskErrors(lastLines(warnings)))")
    }
    try verifyJoined(partial, name: output, frames: segments.reduce(0) { $0 + $1.frames }, duration: duration,
                     hasAudio: audioSource != nil)
    try beforePublish()
    try publish(partial, to: output)
  }

  /// Throws unless the joined file opens, holds `frames` video frames, lasts about `duration`
  /// seconds and has an audio stream when one was muxed in.
  public static func verifyJoined(_ path: String, name: String, frames: Int, duration: Double, hasAudio: Bool) throws(MediaError) {
    let text: String
    do {
      text = try runTool("ffprobe", ["-v", "error", "-count_packets", "-show_entries", "stream=codec_type,nb_read_packets:format=duration",
                                     "-of", "json", path])
    } catch {
      throw MediaError(.processFailed, "the joined \(name) is unreadable, not published: \(explainingDiskErrors(error.message))")
    }
    guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
      let streams = json["streams"] as? [[String: Any]]
    else { throw MediaError(.processFailed, "the joined \(name) is unreadable, not published") }
    let video = streams.first { $0["codec_type"] as? String == "video" }
    let counted = Int(video?["nb_read_packets"] as? String ?? "") ?? -1
    guard counted == frames else {
      throw MediaError(.processFailed, "the joined \(name) has \(counted) frames, expected \(frames); not published")
    }
    let seconds = Double((json["format"] as? [String: Any])?["duration"] as? String ?? "") ?? -1
    // The container lasts as long as its longest stream (copied audio may run on past the last
    // frame), so only a shortfall counts; a frame of slack plus the container's own rounding.
    guard duration <= 0 || seconds >= duration - max(0.1, duration * 0.02) else {
      throw MediaError(.processFailed, "the joined \(name) lasts \(seconds) s, expected \(duration) s; not published")
    }
    if hasAudio && !streams.contains(where: { $0["codec_type"] as? String == "audio" }) {
      throw MediaError(.processFailed, "the joined \(name) lost its audio stream; not published")
    }
  }
}

extension VideoAssembly {
  /// Whether an audio stream of `codec` can be copied into a file with extension `ext`.
  public static func container(_ ext: String, takesAudio codec: String) -> Bool {
    switch ext.lowercased() {
    case "mkv": return true
    case "webm": return ["opus", "vorbis"].contains(codec)
    case "mp4", "mov": return ["aac", "mp3", "alac", "ac3", "eac3", "opus"].contains(codec)
    default: return false
    }
  }
}
