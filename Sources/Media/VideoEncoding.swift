import Foundation

/// How frames are encoded: FaceFusion's encoder names and 0-100 quality scale.
public struct VideoEncoding: Sendable, Equatable, Codable {
  public enum Encoder: String, Sendable, CaseIterable, Codable {
    case libx264, libx265
    case libvpx_vp9 = "libvpx-vp9"
    case h264_nvenc, hevc_nvenc
    /// FFV1 in RGB: bit-exact, for tests and archival masters (ours, not FaceFusion's).
    case ffv1

    public var isHardware: Bool { self == .h264_nvenc || self == .hevc_nvenc }
    /// The software encoder producing the same codec, used when a hardware encoder is absent.
    public var softwareFallback: Encoder {
      switch self {
      case .h264_nvenc: return .libx264
      case .hevc_nvenc: return .libx265
      default: return self
      }
    }
    /// Containers each encoder can be written to.
    public var containers: Set<String> {
      switch self {
      case .libx264, .libx265, .h264_nvenc, .hevc_nvenc: return ["mp4", "mkv", "mov"]
      case .libvpx_vp9: return ["webm", "mkv", "mp4"]
      case .ffv1: return ["mkv"]
      }
    }
    /// Whether the encoder stores 4:2:0 chroma, which needs an even width and height.
    public var subsamplesChroma: Bool { self != .ffv1 }
    /// The pixel format it is given: YUV 4:2:0, or RGB for FFV1.
    public var pixelFormat: String { self == .ffv1 ? "bgr0" : "yuv420p" }
    /// Segment container: MPEG-TS keeps 90 kHz timestamps for H.264/HEVC (exact joins), Matroska
    /// takes everything else; both join exactly with the concat demuxer's duration lines.
    public var segmentExtension: String { [.libx264, .libx265, .h264_nvenc, .hevc_nvenc].contains(self) ? "ts" : "mkv" }
  }

  public var encoder: Encoder
  /// 0-100; mapped to each encoder's own scale the way FaceFusion does.
  public var quality: Int
  /// x264/x265 preset names (ultrafast ... veryslow); mapped for nvenc and vp9.
  public var preset: String

  public init(encoder: Encoder = .libx264, quality: Int = 65, preset: String = "veryfast") {
    self.encoder = encoder
    self.quality = min(max(quality, 0), 100)
    self.preset = preset
  }

  public static let lossless = VideoEncoding(encoder: .ffv1, quality: 100, preset: "veryfast")
  public static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]

  /// ffmpeg output arguments for the video stream.
  public var arguments: [String] {
    let q = Double(quality)
    switch encoder {
    case .libx264:
      return ["-c:v", "libx264", "-crf", String(Int((51 - q * 0.51).rounded())), "-preset", preset, "-pix_fmt", "yuv420p"]
    case .libx265:
      return ["-c:v", "libx265", "-crf", String(Int((51 - q * 0.51).rounded())), "-preset", preset, "-pix_fmt", "yuv420p",
              "-x265-params", "log-level=error"]
    case .libvpx_vp9:
      // vp9's crf runs 0-63; -b:v 0 selects constant quality; deadline/cpu-used stand in for the preset.
      let fast = VideoEncoding.presets.firstIndex(of: preset).map { $0 < 3 } ?? true
      return ["-c:v", "libvpx-vp9", "-crf", String(Int((63 - q * 0.63).rounded())), "-b:v", "0", "-pix_fmt", "yuv420p",
              "-deadline", fast ? "realtime" : "good", "-cpu-used", fast ? "8" : "2", "-row-mt", "1"]
    case .h264_nvenc, .hevc_nvenc:
      let nvencPreset: String
      switch preset {
      case "ultrafast", "superfast", "veryfast": nvencPreset = "p1"
      case "faster", "fast": nvencPreset = "p3"
      case "medium": nvencPreset = "p4"
      default: nvencPreset = "p6"
      }
      return ["-c:v", encoder.rawValue, "-cq", String(Int((51 - q * 0.51).rounded())), "-preset", nvencPreset, "-pix_fmt", "yuv420p"]
    case .ffv1:
      return ["-c:v", "ffv1", "-pix_fmt", "bgr0"]
    }
  }

  /// Whether this ffmpeg can encode with `encoder` on this machine: nvenc is compiled into
  /// Debian's ffmpeg but needs an NVIDIA GPU and driver, so it is tried on one small frame.
  public static func isUsable(_ encoder: Encoder) -> Bool {
    do {
      _ = try runTool("ffmpeg", ["-v", "error", "-nostdin", "-f", "lavfi", "-i", "color=size=256x256:rate=1", "-frames:v", "1",
                                 "-c:v", encoder.rawValue, "-f", "null", "-"])
      return true
    } catch {
      return false
    }
  }
}
