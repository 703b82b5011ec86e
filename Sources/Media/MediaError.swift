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
    self.message = redactingSignedQueries(message)
  }

  public var description: String { message }
}

/// `text` with the query of every presigned URL (`?X-Amz-...`) cut: ffmpeg reads object storage
/// through such URLs, and their signatures must not reach logs or the job store.
public func redactingSignedQueries(_ text: String) -> String {
  guard text.contains("X-Amz-") else { return text }
  return text.replacingOccurrences(of: #"\?X-Amz-[^\s'"]*"#, with: "?(signed query removed)", options: .regularExpression)
}

/// Whether ffmpeg is to read `path` over HTTP(S) (a presigned object URL) rather than a file.
public func isRemoteMedia(_ path: String) -> Bool { path.hasPrefix("http://") || path.hasPrefix("https://") }
