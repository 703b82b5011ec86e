import Digests
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An S3 error: the HTTP status and S3's code (`NoSuchKey`, `SignatureDoesNotMatch`, ...), or a
/// transport failure (status 0), with the endpoint and bucket named.
public struct S3Error: Error, CustomStringConvertible, Sendable {
  public let status: Int
  public let code: String
  public let message: String

  public var description: String { status == 0 ? message : "\(message) (HTTP \(status) \(code))" }

  /// Credentials refused: the access key is unknown or the signature does not match the secret.
  public var isCredentials: Bool { ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken"].contains(code) }
  public var isMissing: Bool { status == 404 }
  /// The settings are wrong, not the request: refused credentials, no such bucket, no server at
  /// the endpoint (the CLI's exit 2).
  public var isSetupProblem: Bool { isCredentials || code == "NoSuchBucket" || status == 0 }
  /// Worth another try: the server or the network failed, or it asked to slow down.
  /// (Not a local file's failure: that is this machine's, and trying again does not help.)
  public var isTransient: Bool {
    code != "LocalFile" && (status == 0 || status == 429 || status >= 500 || code == "SlowDown" || code == "RequestTimeout")
  }
}

/// An object listed under a prefix.
public struct S3Object: Sendable, Equatable {
  public let key: String
  public let size: Int64
  public let etag: String
}

/// A client for S3-compatible object storage (AWS, MinIO, Ceph RGW, SeaweedFS) over HTTP(S) with
/// path-style addressing (`endpoint/bucket/key`), which self-hosted servers need. Requests are
/// signed with Signature V4; payloads carry their SHA-256 (`x-amz-content-sha256`, checked by the
/// server), transient failures are retried with exponential backoff and jitter.
public final class S3Client: Sendable {
  public let endpoint: URL
  public let region: String
  let signer: SigV4Signer
  let session: URLSession
  public let retries: Int
  /// Seconds a request may wait for a connection, or make no progress.
  let timeout: TimeInterval
  /// Upload parts and download ranges go through libcurl directly (`CurlTransfer`), else URLSession.
  let throughLibcurl: Bool

  /// `endpoint`: scheme, host and port (e.g. http://127.0.0.1:8333); `timeout`: per request, seconds.
  /// `retries`: further tries of a request that failed transiently, waiting 0.2 s, 0.4 s, ... (up
  /// to 5 s each, with jitter): the default rides out about 15 s of an unreachable server.
  /// `libcurl`: file transfers through libcurl where it loads (false: URLSession for everything).
  public init(endpoint: URL, region: String = "us-east-1", credentials: S3Credentials, timeout: TimeInterval = 60, retries: Int = 6,
              libcurl: Bool = true) {
    self.endpoint = endpoint
    self.region = region
    self.retries = retries
    self.timeout = timeout
    throughLibcurl = libcurl && CurlTransfer.isAvailable
    signer = SigV4Signer(credentials: credentials, region: region)
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.httpMaximumConnectionsPerHost = 8
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    session = URLSession(configuration: configuration)
  }

  /// The same client with one try per request and a short timeout: for asking whether the
  /// server answers at all, without waiting out this client's retries.
  public func probing(timeout: TimeInterval = 5) -> S3Client {
    S3Client(endpoint: endpoint, region: region, credentials: signer.credentials, timeout: timeout, retries: 0, libcurl: throughLibcurl)
  }

  var hostHeader: String {
    let host = endpoint.host ?? ""
    guard let port = endpoint.port else { return host }
    let defaultPort = endpoint.scheme == "https" ? 443 : 80
    return port == defaultPort ? host : "\(host):\(port)"
  }

  /// The path of a bucket or object, encoded once as it is sent and signed.
  func path(_ bucket: String, _ key: String? = nil) -> String {
    let base = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
    var path = base + "/" + SigV4Signer.encode(bucket, keepSlash: false)
    if let key { path += "/" + SigV4Signer.encode(key, keepSlash: true) }
    return path
  }

  func url(_ path: String, _ query: [(String, String)]) -> URL {
    var text = "\(endpoint.scheme ?? "http")://\(hostHeader)\(path)"
    if !query.isEmpty { text += "?" + SigV4Signer.canonicalQuery(query) }
    return URL(string: text)!
  }

  /// A signed request; `payloadHash` is the body's SHA-256 (hex) or UNSIGNED-PAYLOAD.
  func request(_ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
               payloadHash: String = SigV4Signer.emptyPayloadHash, date: Date = Date()) -> URLRequest {
    let amzDate = SigV4Signer.stamps(date).time
    var signed = headers + [("host", hostHeader), ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash)]
    if let token = signer.credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
    let signature = signer.sign(method: method, path: path, query: query, headers: signed, payloadHash: payloadHash, date: date)
    var request = URLRequest(url: url(path, query))
    request.httpMethod = method
    for (name, value) in signed where name.lowercased() != "host" { request.setValue(value, forHTTPHeaderField: name) }
    request.setValue(signature.authorization, forHTTPHeaderField: "Authorization")
    return request
  }

  /// Sends a request made by `make` (called again for each try, so each is signed anew), with
  /// retries on transient failures; a non-2xx answer becomes an S3Error.
  func send(_ what: String, body: Data? = nil, _ make: () -> URLRequest) async throws -> (Data, HTTPURLResponse) {
    try await send(what, body: body.map { Body.data($0) }, make)
  }

  /// A request body: bytes in memory, or a range of a file streamed from disk as it is sent
  /// (a part of a multipart upload is then never held in memory).
  enum Body {
    case data(Data)
    case file(descriptor: Int32, offset: Int64, count: Int)
  }

  func send(_ what: String, body: Body?, _ make: () -> URLRequest) async throws -> (Data, HTTPURLResponse) {
    var attempt = 0
    while true {
      do {
        let (data, response) = try await transfer(make(), body: body, what: what)
        if (200..<300).contains(response.statusCode) { return (data, response) }
        throw Self.error(response.statusCode, data, what: what)
      } catch let error as S3Error where error.isTransient && attempt < retries {
        attempt += 1
        try await Task.sleep(nanoseconds: UInt64(Double.random(in: 0.75...1.25) * Self.backoff(attempt) * 1e9))
      }
    }
  }

  /// Exponential backoff before try `attempt` + 1: 0.2 s, 0.4 s, 0.8 s, ... capped at 5 s (the
  /// callers add ±25% jitter).
  static func backoff(_ attempt: Int) -> Double { min(5, 0.2 * pow(2, Double(attempt - 1))) }

  private func transfer(_ request: URLRequest, body: Body?, what: String) async throws -> (Data, HTTPURLResponse) {
    do {
      let data: Data, response: URLResponse
      switch body {
      case .data(let bytes)?:
        (data, response) = try await session.upload(for: request, from: bytes)
      case .file(let descriptor, let offset, let count)? where throughLibcurl:
        return try await CurlTransfer.put(request, descriptor: descriptor, offset: offset, count: count, timeout: timeout, what: what)
      case .file(let descriptor, let offset, let count)?:
        // Without libcurl: a fresh stream for each try; the length is declared so it is not sent chunked.
        var streamed = request
        streamed.httpBodyStream = FileRangeInputStream(descriptor: descriptor, offset: offset, count: count)
        streamed.setValue(String(count), forHTTPHeaderField: "Content-Length")
        (data, response) = try await session.data(for: streamed)
      case nil:
        (data, response) = try await session.data(for: request)
      }
      guard let http = response as? HTTPURLResponse else { throw S3Error(status: 0, code: "NoResponse", message: "\(what): no HTTP response") }
      return (data, http)
    } catch let error as S3Error {
      throw error
    } catch {
      throw S3Error(status: 0, code: "Unreachable", message: "\(what): cannot reach \(endpoint.absoluteString) (\(error.localizedDescription))")
    }
  }

  static func error(_ status: Int, _ data: Data, what: String) -> S3Error {
    let fields = XMLFields(data: data, names: ["Code", "Message"])
    let code = fields.first("Code") ?? (status == 404 ? "NotFound" : status == 403 ? "AccessDenied" : "HTTP\(status)")
    var message = fields.first("Message") ?? HTTPURLResponse.localizedString(forStatusCode: status)
    if ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"].contains(code) {
      message += ": check the access key and secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
    }
    return S3Error(status: status, code: code, message: "\(what): \(message)")
  }

  // MARK: Buckets and objects

  public func createBucket(_ bucket: String) async throws {
    _ = try await send("create bucket \(bucket) at \(endpoint.absoluteString)") { request("PUT", path(bucket)) }
  }

  /// Stores `data` at `key` in one request, with its SHA-256 checked by the server.
  @discardableResult
  public func put(_ data: Data, bucket: String, key: String, contentType: String = "application/octet-stream") async throws -> String {
    let hash = SHA256.hex(of: data)
    let (_, response) = try await send("put s3://\(bucket)/\(key) at \(endpoint.absoluteString)", body: data) {
      request("PUT", path(bucket, key), headers: [("content-type", contentType)], payloadHash: hash)
    }
    return response.value(forHTTPHeaderField: "ETag") ?? ""
  }

  /// Bytes `range` of the object written into an open file from `offset` as they arrive
  /// (libcurl; retried like any request). Without libcurl they are fetched, then written.
  func get(bucket: String, key: String, range: ClosedRange<Int64>, into descriptor: Int32, at offset: Int64) async throws {
    let what = "get s3://\(bucket)/\(key) from \(endpoint.absoluteString)"
    let headers = [("range", "bytes=\(range.lowerBound)-\(range.upperBound)")]
    guard throughLibcurl else {
      let data = try await get(bucket: bucket, key: key, range: range)
      guard Int64(data.count) == range.count else {
        throw S3Error(status: 0, code: "ShortRead", message: "\(what): got \(data.count) bytes for \(range)")
      }
      let written = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
      guard written == data.count else { throw S3Error(status: 0, code: "LocalFile", message: "\(what): cannot write the file") }
      return
    }
    var attempt = 0
    while true {
      do {
        let (data, response) = try await CurlTransfer.get(request("GET", path(bucket, key), headers: headers), descriptor: descriptor,
                                                          offset: offset, count: Int(range.count), timeout: timeout, what: what)
        if (200..<300).contains(response.statusCode) { return }
        throw Self.error(response.statusCode, data, what: what)
      } catch let error as S3Error where error.isTransient && attempt < retries {
        attempt += 1
        try await Task.sleep(nanoseconds: UInt64(Double.random(in: 0.75...1.25) * Self.backoff(attempt) * 1e9))
      }
    }
  }

  /// The object's bytes, or those of `range` (inclusive byte offsets).
  public func get(bucket: String, key: String, range: ClosedRange<Int64>? = nil) async throws -> Data {
    let headers = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
    return try await send("get s3://\(bucket)/\(key) from \(endpoint.absoluteString)") { request("GET", path(bucket, key), headers: headers) }.0
  }

  /// Size and ETag, or nil when there is no such object.
  public func head(bucket: String, key: String) async throws -> (size: Int64, etag: String)? {
    do {
      let (_, response) = try await send("head s3://\(bucket)/\(key) at \(endpoint.absoluteString)") { request("HEAD", path(bucket, key)) }
      return (Int64(response.value(forHTTPHeaderField: "Content-Length") ?? "") ?? 0, response.value(forHTTPHeaderField: "ETag") ?? "")
    } catch let error as S3Error where error.isMissing {
      return nil
    }
  }

  public func delete(bucket: String, key: String) async throws {
    _ = try await send("delete s3://\(bucket)/\(key) at \(endpoint.absoluteString)") { request("DELETE", path(bucket, key)) }
  }

  /// Every object under `prefix` (ListObjectsV2, following continuation tokens), or the first
  /// `maxKeys` of them.
  public func list(bucket: String, prefix: String, maxKeys: Int? = nil) async throws -> [S3Object] {
    var objects: [S3Object] = []
    var token: String?
    repeat {
      var query = [("list-type", "2"), ("prefix", prefix)]
      if let maxKeys { query.append(("max-keys", String(maxKeys))) }
      if let token { query.append(("continuation-token", token)) }
      let (data, _) = try await send("list s3://\(bucket)/\(prefix) at \(endpoint.absoluteString)") { request("GET", path(bucket), query: query) }
      let fields = XMLFields(data: data, names: ["Key", "Size", "ETag", "IsTruncated", "NextContinuationToken"])
      let keys = fields.all("Key"), sizes = fields.all("Size"), etags = fields.all("ETag")
      for (index, key) in keys.enumerated() {
        objects.append(S3Object(key: key, size: Int64(sizes[safe: index] ?? "") ?? 0, etag: etags[safe: index] ?? ""))
      }
      token = fields.first("IsTruncated") == "true" && maxKeys == nil ? fields.first("NextContinuationToken") : nil
    } while token != nil
    return objects
  }

  /// A URL that allows `method` on the object for `expires` seconds without credentials (what
  /// ffmpeg or another process is given instead of the keys).
  public func presignedURL(method: String = "GET", bucket: String, key: String, expires: Int, date: Date = Date()) -> URL {
    let objectPath = path(bucket, key)
    return url(objectPath, signer.presignedQuery(method: method, host: hostHeader, path: objectPath, expires: expires, date: date))
  }
}

extension Array {
  subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// The text of the named elements of a small XML answer (S3's errors and listings), in order.
struct XMLFields {
  private(set) var values: [String: [String]] = [:]

  init(data: Data, names: Set<String>) {
    let collector = Collector(names: names)
    let parser = XMLParser(data: data)
    parser.delegate = collector
    _ = parser.parse()
    values = collector.values
  }

  func first(_ name: String) -> String? { values[name]?.first }
  func all(_ name: String) -> [String] { values[name] ?? [] }

  private final class Collector: NSObject, XMLParserDelegate {
    let names: Set<String>
    var values: [String: [String]] = [:]
    var current: String?
    var text = ""
    init(names: Set<String>) { self.names = names }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
      if names.contains(name) { current = name; text = "" }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if current != nil { text += string } }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
      if name == current { values[name, default: []].append(text); current = nil }
    }
  }
}
