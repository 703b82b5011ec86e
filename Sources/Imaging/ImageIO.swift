import CImageCodecs
import Foundation
#if canImport(Glibc)
  import Glibc
#endif

/// Reading and writing PNG, JPEG and WebP files.
public enum ImageIO {
  /// Reads an image, whatever its extension says, honouring EXIF orientation so the pixels come
  /// back upright. Output is 8-bit RGB, or RGBA when the file has alpha.
  public static func read(path: String, limits: ImageLimits = .default) throws(ImageError) -> Image {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ImageError(.notFound, "cannot read image '\(path)': no such file")
    }
    guard !isDirectory.boolValue else { throw ImageError(.unreadable, "cannot read image '\(path)': it is a directory") }
    var status = stat()
    guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
      throw ImageError(.unreadable, "cannot read image '\(path)': not a regular file (a FIFO, socket or device)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ImageError(.unreadable, "cannot read image '\(path)': \(String(cString: strerror(errno)))")
    }
    do {
      return try decode([UInt8](data), limits: limits)
    } catch {
      throw ImageError(error.code, "cannot read image '\(path)': \(error.message)")
    }
  }

  public static func decode(_ bytes: [UInt8], limits: ImageLimits = .default) throws(ImageError) -> Image {
    guard !bytes.isEmpty else { throw ImageError(.empty, "file is empty (0 bytes)") }
    guard let format = ImageFormat(sniffing: bytes) else {
      throw ImageError(.unsupportedFormat, "not a PNG, JPEG or WebP image")
    }
    let (width, height) = try headerSize(bytes, format: format)
    guard width > 0, height > 0 else { throw ImageError(.corrupt, "image has no pixels (\(width)x\(height))") }
    guard width <= limits.maxSide, height <= limits.maxSide, width * height <= limits.maxPixels else {
      throw ImageError(.tooLarge, "image is \(width)x\(height), over the limit of \(limits.maxSide) pixels per side / \(limits.maxPixels) pixels")
    }
    var decoded = sl_pixels()
    let status = try withErrorBuffer { error, size in
      bytes.withUnsafeBufferPointer { buffer in
        switch format {
        case .png: sl_png_decode(buffer.baseAddress, buffer.count, &decoded, error, size)
        case .jpeg: sl_jpeg_decode(buffer.baseAddress, buffer.count, &decoded, error, size)
        case .webp: sl_webp_decode(buffer.baseAddress, buffer.count, &decoded, error, size)
        }
      }
    }
    _ = status
    defer { sl_free(decoded.data) }
    let count = Int(decoded.width) * Int(decoded.height) * Int(decoded.channels)
    let image = try Image(width: Int(decoded.width), height: Int(decoded.height), channels: Int(decoded.channels),
                          pixels: Array(UnsafeBufferPointer(start: decoded.data, count: count)))
    let orientation = Metadata.exifOrientation(bytes, format: format)
    return image.applyingExifOrientation(orientation)
  }

  static func headerSize(_ bytes: [UInt8], format: ImageFormat) throws(ImageError) -> (Int, Int) {
    // PNG's size is in IHDR, the first chunk; read it directly because libpng's reader wants
    // more of the file before it reports anything.
    if format == .png, bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8) {
      let field = { (at: Int) in bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
      return (field(16), field(20))
    }
    var width: Int32 = 0, height: Int32 = 0, alpha: Int32 = 0
    try withErrorBuffer { error, size in
      bytes.withUnsafeBufferPointer { buffer in
        switch format {
        case .png: sl_png_info(buffer.baseAddress, buffer.count, &width, &height, &alpha, error, size)
        case .jpeg: sl_jpeg_info(buffer.baseAddress, buffer.count, &width, &height, error, size)
        case .webp: sl_webp_info(buffer.baseAddress, buffer.count, &width, &height, &alpha, error, size)
        }
      }
    }
    return (Int(width), Int(height))
  }

  /// Encodes an image. `quality` (0-100) applies to JPEG and WebP (100 = lossless WebP);
  /// `textMetadata` becomes PNG tEXt/iTXt chunks, a JPEG comment plus XMP, or WebP XMP.
  public static func encode(_ image: Image, format: ImageFormat, quality: Int = 90,
                            textMetadata: [(key: String, value: String)] = []) throws(ImageError) -> [UInt8] {
    var encoded = sl_bytes()
    let quality = Int32(max(0, min(100, quality)))
    try withErrorBuffer { error, size in
      image.pixels.withUnsafeBufferPointer { pixels in
        let w = Int32(image.width), h = Int32(image.height), c = Int32(image.channels)
        switch format {
        case .png: return sl_png_encode(pixels.baseAddress, w, h, c, &encoded, error, size)
        case .jpeg: return sl_jpeg_encode(pixels.baseAddress, w, h, c, quality, &encoded, error, size)
        case .webp: return sl_webp_encode(pixels.baseAddress, w, h, c, quality, &encoded, error, size)
        }
      }
    }
    defer { sl_free(encoded.data) }
    let bytes = Array(UnsafeBufferPointer(start: encoded.data, count: encoded.size))
    return textMetadata.isEmpty ? bytes : Metadata.embed(textMetadata, in: bytes, format: format, hasAlpha: image.channels == 4)
  }

  /// Writes an image in the format its extension names. The file appears complete or not at
  /// all: bytes go to a temporary file in the same folder, are fsynced, then renamed into place.
  public static func write(_ image: Image, to path: String, quality: Int = 90,
                           textMetadata: [(key: String, value: String)] = []) throws(ImageError) {
    guard let format = ImageFormat(pathExtension: (path as NSString).pathExtension) else {
      throw ImageError(.unsupportedExtension, "cannot write '\(path)': unsupported extension (use .png, .jpg, .jpeg or .webp)")
    }
    let bytes = try encode(image, format: format, quality: quality, textMetadata: textMetadata)
    try writeAtomically(bytes, to: path)
  }

  static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
    let directory = (path as NSString).deletingLastPathComponent
    // An unpredictable name opened with O_EXCL|O_NOFOLLOW: a file or link someone planted in a
    // shared folder is never opened, truncated or written through.
    var descriptor: Int32 = -1
    var temporary = ""
    for _ in 0..<8 where descriptor < 0 {
      temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(UInt64.random(in: 0...UInt64.max)).tmp"
      descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
      if descriptor < 0 && errno != EEXIST { break }
    }
    guard descriptor >= 0 else {
      throw ImageError(.writeFailed, "cannot write '\(path)': \(String(cString: strerror(errno)))")
    }
    var written = 0
    while written < bytes.count {
      let result = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
      if result < 0 {
        if errno == EINTR { continue }
        let reason = String(cString: strerror(errno))
        close(descriptor)
        unlink(temporary)
        throw ImageError(.writeFailed, "cannot write '\(path)': \(reason)")
      }
      written += result
    }
    let synced = fsync(descriptor) == 0
    close(descriptor)
    // rename(2) replaces a file atomically and refuses a directory: nothing else is ever removed.
    guard synced, rename(temporary, path) == 0 else {
      let reason = errno == EISDIR ? "it is a directory" : String(cString: strerror(errno))
      unlink(temporary)
      throw ImageError(.writeFailed, "cannot write '\(path)': \(reason)")
    }
  }

  /// Text metadata stored by ``encode(_:format:quality:textMetadata:)``: PNG tEXt/iTXt, JPEG
  /// comments and XMP, WebP XMP.
  public static func readTextMetadata(path: String) throws(ImageError) -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ImageError(.notFound, "cannot read '\(path)'")
    }
    let bytes = [UInt8](data)
    guard let format = ImageFormat(sniffing: bytes) else { throw ImageError(.unsupportedFormat, "'\(path)' is not an image") }
    return Metadata.readText(bytes, format: format)
  }
}

/// Calls a C codec with an error buffer and turns a non-zero status into an ImageError.
@discardableResult
func withErrorBuffer(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImageError) -> Int32 {
  var buffer = [CChar](repeating: 0, count: 512)
  let status = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
  guard status == 0 else {
    let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    throw ImageError(message.contains("too large") ? .tooLarge : .corrupt, message.isEmpty ? "corrupt image data" : message)
  }
  return status
}
