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
  /// `audioStart` seconds for `duration` seconds, with `metadata` in the container. Writes go to a
  /// `.part` name, which is fsynced and renamed, so nothing half-written is ever at `output`.
  /// `copyAudio`: the audio stream is copied as is (whole-video runs whose audio codec the
  /// container takes), else re-encoded, which also cuts it exactly for a trimmed range.
  public static func assemble(segments: [(path: String, frames: Int)], frameRate: Double, audioSource: String?, audioStart: Double,
                              duration: Double, copyAudio: Bool = false, metadata: [(key: String, value: String)], output: String,
                              workFolder: String) throws(MediaError) {
    let list = workFolder + "/concat.txt"
    var text = "ffconcat version 1.0\n"
    for segment in segments {
      text += "file '\(segment.path.replacingOccurrences(of: "'", with: "'\\''"))'\n"
      text += "duration \(String(format: "%.9f", Double(segment.frames) / max(frameRate, 1e-6)))\n"
    }
    do { try text.write(toFile: list, atomically: true, encoding: .utf8) } catch {
      throw MediaError(.processFailed, "cannot write \(list): \(error.localizedDescription)")
    }
    let ext = (output as NSString).pathExtension.lowercased()
    let partial = (output as NSString).deletingPathExtension + ".part." + ext
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
    if ext == "mp4" || ext == "mov" { arguments += ["-movflags", "+faststart+use_metadata_tags"] }
    arguments.append(partial)
    do throws(MediaError) {
      _ = try runTool("ffmpeg", arguments)
      try publish(partial, to: output)
    } catch {
      try? FileManager.default.removeItem(atPath: partial)
      throw error
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
