import Foundation
import Imaging

enum Support {
  static func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "swapline-imaging-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// An asymmetric pattern: every pixel distinct enough to tell rotations and flips apart.
  static func pattern(width: Int, height: Int, channels: Int = 3) -> Image {
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
      for x in 0..<width {
        let offset = (y * width + x) * channels
        pixels[offset] = UInt8((x * 255) / max(1, width - 1))
        pixels[offset + 1] = UInt8((y * 255) / max(1, height - 1))
        pixels[offset + 2] = UInt8((x * 7 + y * 13) % 256)
        if channels == 4 { pixels[offset + 3] = UInt8(255 - (x + y) % 200) }
      }
    }
    return try! Image(width: width, height: height, channels: channels, pixels: pixels)
  }

  static func meanAbsoluteError(_ a: Image, _ b: Image) -> Double {
    // Different sizes are as different as can be (the caller's bound fails), not a crash.
    guard a.pixels.count == b.pixels.count else { return .infinity }
    return Double(zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.pixels.count)
  }

  /// Runs ffmpeg on a file and returns its exit status (0 = it decoded the file).
  static func ffmpegDecodes(_ path: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    process.arguments = ["-v", "error", "-i", path, "-f", "null", "-"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }

  /// A JPEG of `image` with an EXIF APP1 segment carrying `orientation`, inserted after SOI.
  static func jpegWithOrientation(_ image: Image, orientation: UInt16, bigEndian: Bool) throws -> [UInt8] {
    let jpeg = try ImageIO.encode(image, format: .jpeg, quality: 95)
    func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] {
      bigEndian ? [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        : [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }
    // TIFF header, IFD0 at offset 8 with one entry: Orientation (0x0112), SHORT, count 1.
    var tiff: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
    tiff += u16(42) + u32(8) + u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + [0, 0] + u32(0)
    let payload = Array("Exif".utf8) + [0, 0] + tiff
    let length = payload.count + 2
    return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + Array(jpeg[2...])
  }
}
