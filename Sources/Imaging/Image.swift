/// An 8-bit image with interleaved RGB or RGBA pixels, row-major, no row padding.
public struct Image: Sendable, Equatable {
  public let width: Int
  public let height: Int
  /// 3 (RGB) or 4 (RGBA).
  public let channels: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws(ImageError) {
    guard width > 0, height > 0, channels == 3 || channels == 4 else {
      throw ImageError(.corrupt, "invalid image geometry \(width)x\(height)x\(channels)")
    }
    guard pixels.count == width * height * channels else {
      throw ImageError(.corrupt, "pixel buffer has \(pixels.count) bytes, expected \(width * height * channels)")
    }
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// A filled image; for kernels that write every pixel.
  public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
    precondition(width > 0 && height > 0 && (channels == 3 || channels == 4))
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = [UInt8](repeating: fill, count: width * height * channels)
  }

  /// RGBA -> RGB drops alpha; RGB -> RGBA adds opaque alpha.
  public func converted(toChannels target: Int) -> Image {
    guard target != channels else { return self }
    var result = Image(width: width, height: height, channels: target, fill: 255)
    let count = width * height
    let sourceChannels = channels
    pixels.withUnsafeBufferPointer { source in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        for index in 0..<count {
          let s = index * sourceChannels, d = index * target
          destination[d] = source[s]
          destination[d + 1] = source[s + 1]
          destination[d + 2] = source[s + 2]
        }
      }
    }
    return result
  }
}
