/// A model could not be found, verified or downloaded.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Code: Sendable, Equatable {
    case notInCatalog
    /// The host could not be reached (no network, DNS failure, refused connection).
    case network
    case httpStatus(Int)
    case hashMismatch
    case io
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
