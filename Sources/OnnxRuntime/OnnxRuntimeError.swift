import COnnxRuntime

/// An error from loading or calling ONNX Runtime, carrying ORT's own message when it has one.
public struct OnnxRuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Code: Sendable, Equatable {
    /// No usable `libonnxruntime` was found or it failed to load.
    case libraryUnavailable
    /// The library is older than the API version we need.
    case unsupportedVersion
    /// An execution provider could not attach (no GPU build, missing CUDA libraries, ...).
    case providerUnavailable
    /// A tensor or input did not match what the model declares.
    case invalidInput
    /// ONNX Runtime returned an error status (its OrtErrorCode).
    case runtime(Int32)
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}

extension OrtApiHandle {
  /// Converts an OrtStatus into a Swift error, releasing the status. `context` says what we were doing.
  func check(_ status: OrtStatusPtr?, _ context: @autoclosure () -> String) throws(OnnxRuntimeError) {
    guard let status else { return }
    let code = api.GetErrorCode(status)
    let text = api.GetErrorMessage(status).map { String(cString: $0) } ?? "unknown error"
    api.ReleaseStatus(status)
    throw OnnxRuntimeError(.runtime(Int32(code.rawValue)), "\(context()): \(text)")
  }
}
