import Digests
import Foundation
import Imaging
import Media

/// What an upload turned out to be, from its content (never its name).
struct ProbedAsset: Sendable {
  let kind: Asset.Kind
  let format: String
  let width: Int
  let height: Int
  let duration: Double?
  let frames: Int?
}

/// Probing uploaded files before anything decodes them whole: the header's size is checked
/// against the limits first, so a file claiming 60000x60000 is refused without a pixel decoded.
struct AssetProbe {
  let maxPixels: Int
  let maxImageSide: Int
  let maxImageBytes: Int64
  /// The tenant's frames-per-job limit: a longer video is refused before its frames are decoded.
  let maxFrames: Int

  /// Containers a video upload may be. Anything else is refused before ffmpeg opens it for real:
  /// playlists and concat lists (hls, concat, ...) name other files, which would let an upload
  /// read the server's files (another tenant's segments among them); image sequences likewise.
  static let videoContainers: Set<String> = ["mov", "mp4", "matroska", "webm", "avi"]

  func probe(path: String, size: Int64) throws(APIError) -> ProbedAsset {
    guard size > 0 else { throw APIError.invalid("the upload is empty", field: "body") }
    var head = [UInt8](repeating: 0, count: 64)
    guard let handle = FileHandle(forReadingAtPath: path) else { throw APIError(.internalServerError, "internal", "cannot read the upload") }
    let read = (try? handle.read(upToCount: 64)).map { [UInt8]($0) } ?? []
    try? handle.close()
    head = read
    if let format = ImageFormat(sniffing: head) {
      guard size <= maxImageBytes else {
        throw APIError(.contentTooLarge, "image_too_large", "an image upload is limited to \(maxImageBytes) bytes", field: "body")
      }
      let limits = ImageLimits(maxSide: maxImageSide, maxPixels: maxPixels)
      do {
        // The header's size is checked before decoding; decoding then proves the file is whole.
        let image = try ImageIO.read(path: path, limits: limits)
        return ProbedAsset(kind: .image, format: format.pathExtension, width: image.width, height: image.height, duration: nil, frames: nil)
      } catch {
        throw APIError.invalid("not a usable \(format.pathExtension.uppercased()) image: \(error.message.replacingOccurrences(of: path, with: "upload"))",
                               field: "body")
      }
    }
    let header: MediaHeader
    do { header = try MediaProbe.header(path) } catch {
      let reason = error.message.replacingOccurrences(of: "'\(path)'", with: "the upload").replacingOccurrences(of: path, with: "upload")
      throw APIError.invalid("not a PNG, JPEG or WebP image, nor a video this server can read (\(reason))", field: "body")
    }
    guard header.formatNames.contains(where: Self.videoContainers.contains) else {
      throw APIError.invalid("not a PNG, JPEG or WebP image, nor a video in a container this server takes (MP4/MOV, Matroska/WebM, AVI; "
                             + "this is '\(header.formatNames.joined(separator: ","))')", field: "body")
    }
    if let declared = header.declaredFrames, declared > maxFrames {
      throw APIError(.contentTooLarge, "too_many_frames", "the video has \(declared) frames; this tenant's limit is \(maxFrames) per job",
                     field: "body")
    }
    let info: MediaInfo
    do { info = try MediaProbe.probe(path, maxPixels: maxPixels) } catch {
      let reason = error.message.replacingOccurrences(of: "'\(path)'", with: "the upload").replacingOccurrences(of: path, with: "upload")
      throw APIError.invalid("not a PNG, JPEG or WebP image, nor a video this server can read (\(reason))", field: "body")
    }
    if let declared = info.declaredFrameCount, declared > info.frameCount {
      throw APIError.invalid("the video is truncated: its header promises \(declared) frames, \(info.frameCount) can be decoded", field: "body")
    }
    return ProbedAsset(kind: .video, format: info.codec, width: info.width, height: info.height, duration: info.duration, frames: info.frameCount)
  }
}

extension ImageFormat {
  var pathExtension: String {
    switch self {
    case .png: "png"
    case .jpeg: "jpg"
    case .webp: "webp"
    }
  }
}
