/// An image that could not be read or written, with a one-line message for the user.
public struct ImageError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Code: Sendable, Equatable {
    case notFound, unreadable, empty, unsupportedFormat, corrupt, tooLarge, unsupportedExtension, writeFailed
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}

/// Bounds checked from the file header before any pixel memory is allocated, so a crafted
/// file claiming 100000x100000 fails at once instead of exhausting memory.
public struct ImageLimits: Sendable, Equatable {
  public var maxSide: Int
  public var maxPixels: Int

  public init(maxSide: Int = 32_768, maxPixels: Int = 268_435_456) {
    self.maxSide = maxSide
    self.maxPixels = maxPixels
  }

  public static let `default` = ImageLimits()
}
