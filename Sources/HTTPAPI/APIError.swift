import Foundation
import HTTPTypes
import Hummingbird

/// The API's one error shape: `{"error": {"code", "message", "field"}}` with its status (and a
/// Retry-After for quota refusals).
public struct APIError: HTTPResponseError, CustomStringConvertible {
  public let status: HTTPResponse.Status
  public let code: String
  public let message: String
  public let field: String?
  public var retryAfter: Int? = nil

  public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil, retryAfter: Int? = nil) {
    self.status = status
    self.code = code
    self.message = message
    self.field = field
    self.retryAfter = retryAfter
  }

  public var description: String { "\(status.code) \(code): \(message)" + (field.map { " (\($0))" } ?? "") }

  public func response(from request: Request, context: some RequestContext) throws -> Response { response() }

  func response() -> Response {
    var object: [String: Any] = ["code": code, "message": message]
    object["field"] = field ?? NSNull()
    var headers: HTTPFields = [.contentType: "application/json"]
    if let retryAfter { headers[.retryAfter] = String(retryAfter) }
    let body = JSONText.data(["error": object])
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
  }

  static func notFound(_ what: String, field: String? = nil) -> APIError { APIError(.notFound, "not_found", "\(what) not found", field: field) }
  static func invalid(_ message: String, field: String?) -> APIError { APIError(.unprocessableContent, "invalid_request", message, field: field) }
}
