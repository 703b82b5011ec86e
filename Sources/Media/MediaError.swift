/// A video could not be probed, decoded or encoded.
public struct MediaError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Code: Sendable, Equatable {
    /// ffmpeg or ffprobe is missing.
    case toolMissing
    /// The input is unreadable, has no video stream or is corrupt (exit code 2 territory).
    case badInput
    /// ffmpeg failed while decoding or encoding.
    case processFailed
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
