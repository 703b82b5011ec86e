import Digests
import Foundation

/// Credentials for S3-compatible storage (AWS's access key id, secret and optional session token).
public struct S3Credentials: Sendable, Equatable {
  public var accessKeyID: String
  public var secretAccessKey: String
  public var sessionToken: String?

  public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
  }
}

/// AWS Signature Version 4 (HMAC-SHA256): the `Authorization` header of a request, or the query
/// of a presigned URL. Paths are given percent-encoded once, as sent (`encode(_:keepSlash: true)`),
/// which is how S3 signs them.
public struct SigV4Signer: Sendable {
  public let credentials: S3Credentials
  public let region: String
  public let service: String

  public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  public static let unsignedPayload = "UNSIGNED-PAYLOAD"

  public init(credentials: S3Credentials, region: String, service: String = "s3") {
    self.credentials = credentials
    self.region = region
    self.service = service
  }

  /// What a signature covers, for checks and debugging.
  public struct Signature: Sendable {
    public let canonicalRequest: String
    public let stringToSign: String
    public let signedHeaders: String
    public let signature: String
    public let authorization: String
  }

  /// Signs a request. `headers` must hold every header to sign (host and x-amz-date included:
  /// see `amzDate(_:)`); `query` is the decoded name/value pairs.
  public func sign(method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String,
                   date: Date) -> Signature {
    let (day, _) = Self.stamps(date)
    let canonicalHeaders = Self.canonicalHeaders(headers)
    let signedHeaders = canonicalHeaders.map(\.name).joined(separator: ";")
    let canonicalRequest = [
      method.uppercased(),
      path.isEmpty ? "/" : path,
      Self.canonicalQuery(query),
      canonicalHeaders.map { "\($0.name):\($0.value)\n" }.joined(),
      signedHeaders,
      payloadHash,
    ].joined(separator: "\n")
    let scope = "\(day)/\(region)/\(service)/aws4_request"
    let stringToSign = ["AWS4-HMAC-SHA256", Self.stamps(date).time, scope, Secrets.hex(Secrets.sha256(canonicalRequest))]
      .joined(separator: "\n")
    let signature = Secrets.hex(Secrets.hmacSHA256(key: signingKey(day: day), message: Array(stringToSign.utf8)))
    let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signedHeaders: signedHeaders,
                     signature: signature, authorization: authorization)
  }

  /// The query of a presigned URL (`X-Amz-*` plus `query`), valid for `expires` seconds from `date`.
  /// Only `host` is signed and the payload is unsigned, so anyone holding the URL can make that one
  /// request (with any body) until it expires.
  public func presignedQuery(method: String, host: String, path: String, query: [(String, String)] = [], expires: Int,
                             date: Date) -> [(String, String)] {
    let (day, time) = Self.stamps(date)
    var parameters = query + [
      ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
      ("X-Amz-Credential", "\(credentials.accessKeyID)/\(day)/\(region)/\(service)/aws4_request"),
      ("X-Amz-Date", time),
      ("X-Amz-Expires", String(expires)),
      ("X-Amz-SignedHeaders", "host"),
    ]
    if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
    let signature = sign(method: method, path: path, query: parameters, headers: [("host", host)], payloadHash: Self.unsignedPayload, date: date)
    return parameters + [("X-Amz-Signature", signature.signature)]
  }

  /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
  public func signingKey(day: String) -> [UInt8] {
    var key = Array(("AWS4" + credentials.secretAccessKey).utf8)
    for part in [day, region, service, "aws4_request"] { key = Secrets.hmacSHA256(key: key, message: Array(part.utf8)) }
    return key
  }

  /// `x-amz-date`'s value and the day of the credential scope, in UTC.
  public static func stamps(_ date: Date) -> (day: String, time: String) {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
    return (day, day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!))
  }

  /// Lower-cased names, values trimmed with inner runs of spaces made one, sorted by name;
  /// repeated names joined with commas.
  static func canonicalHeaders(_ headers: [(String, String)]) -> [(name: String, value: String)] {
    var merged: [String: [String]] = [:]
    for (name, value) in headers {
      let cleaned = value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
      merged[name.lowercased(), default: []].append(cleaned)
    }
    return merged.keys.sorted().map { ($0, merged[$0]!.joined(separator: ",")) }
  }

  /// Pairs encoded (RFC 3986 unreserved characters kept) and sorted by name, then value.
  public static func canonicalQuery(_ query: [(String, String)]) -> String {
    let encoded: [(name: String, value: String)] = query.map { pair in (encode(pair.0, keepSlash: false), encode(pair.1, keepSlash: false)) }
    let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
    return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
  }

  /// Percent-encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ (and / in paths).
  public static func encode(_ text: String, keepSlash: Bool) -> String {
    var out = ""
    for byte in text.utf8 {
      if unreserved[Int(byte)] || (keepSlash && byte == 0x2F) {
        out.unicodeScalars.append(UnicodeScalar(byte))
      } else {
        out += String(format: "%%%02X", byte)
      }
    }
    return out
  }

  private static let unreserved: [Bool] = (0..<256).map { value in
    let byte = UInt8(value)
    return (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || [0x2D, 0x5F, 0x2E, 0x7E].contains(byte)
  }
}
