/// The still-image formats Swapline reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
  case png, jpeg, webp

  /// From a file extension (png, jpg, jpeg, webp; any case); nil for anything else.
  public init?(pathExtension: String) {
    switch pathExtension.lowercased() {
    case "png": self = .png
    case "jpg", "jpeg": self = .jpeg
    case "webp": self = .webp
    default: return nil
    }
  }

  /// From the file's first bytes, whatever its name says.
  public init?(sniffing bytes: [UInt8]) {
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
      self = .png
    } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
      self = .jpeg
    } else if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
      self = .webp
    } else {
      return nil
    }
  }
}
