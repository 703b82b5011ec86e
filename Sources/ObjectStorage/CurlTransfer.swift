import CCurl
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Transfers of a file range through libcurl directly (see swapline_curl.h): uploads read the
/// file into libcurl's 1 MiB buffer, downloads are written at their offset as they arrive, so
/// neither holds a part in memory nor pays URLSession's per-64 KiB dispatch, which on 2 vCPUs
/// cost more CPU than the copy (docs/BENCHMARKS.md, "Object storage"). Each transfer blocks a
/// thread of its own, so the cooperative pool never waits on the network. Without libcurl the
/// client uses URLSession for these too.
enum CurlTransfer {
  static let isAvailable = swapline_curl_available() == 1

  /// PUTs the range with `request`'s URL and headers.
  static func put(_ request: URLRequest, descriptor: Int32, offset: Int64, count: Int, timeout: TimeInterval,
                  what: String) async throws -> (Data, HTTPURLResponse) {
    try await perform(request, upload: true, descriptor: descriptor, offset: offset, count: count, timeout: timeout, what: what)
  }

  /// GETs with `request` (a Range header among its headers); a 2xx body of exactly `count` bytes
  /// is written to the file from `offset` (the returned Data is then empty).
  static func get(_ request: URLRequest, descriptor: Int32, offset: Int64, count: Int, timeout: TimeInterval,
                  what: String) async throws -> (Data, HTTPURLResponse) {
    try await perform(request, upload: false, descriptor: descriptor, offset: offset, count: count, timeout: timeout, what: what)
  }

  /// An HTTP answer comes back whatever its status (non-2xx with its body); a transport failure,
  /// or a short 2xx body, throws an `S3Error` with status 0 (transient: retried).
  private static func perform(_ request: URLRequest, upload: Bool, descriptor: Int32, offset: Int64, count: Int, timeout: TimeInterval,
                              what: String) async throws -> (Data, HTTPURLResponse) {
    let url = request.url!
    let headers = (request.allHTTPHeaderFields ?? [:]).map { "\($0.key): \($0.value)" }
    let answer: (status: Int, body: Data, etag: String?) = try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        var response = swapline_curl_response()
        defer { swapline_curl_response_free(&response) }
        let cStrings = headers.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafePointer<CChar>($0) }
        pointers.withUnsafeMutableBufferPointer { buffer in
          let seconds = max(1, Int(timeout.rounded(.up)))
          if upload {
            swapline_curl_put_range(url.absoluteString, buffer.baseAddress, Int32(buffer.count), descriptor, offset, Int64(count), seconds, &response)
          } else {
            swapline_curl_get_range(url.absoluteString, buffer.baseAddress, Int32(buffer.count), descriptor, offset, Int64(count), seconds, &response)
          }
        }
        guard response.curl_code == 0 else {
          let reason = withUnsafeBytes(of: response.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
          // CURLE_WRITE_ERROR / CURLE_READ_ERROR: the local file failed (disk full, file shrank),
          // not the server: no retry.
          let local = response.curl_code == 23 || response.curl_code == 26
          continuation.resume(throwing: S3Error(status: 0, code: local ? "LocalFile" : "Unreachable", message: "\(what): \(reason)"))
          return
        }
        let body = response.body.map { Data(bytes: $0, count: response.body_length) } ?? Data()
        continuation.resume(returning: (Int(response.status), body, response.etag.map { String(cString: $0) }))
      }
    }
    var fields: [String: String] = [:]
    if let etag = answer.etag { fields["ETag"] = etag }
    guard let response = HTTPURLResponse(url: url, statusCode: answer.status, httpVersion: "HTTP/1.1", headerFields: fields) else {
      throw S3Error(status: 0, code: "NoResponse", message: "\(what): no HTTP response")
    }
    return (answer.body, response)
  }
}
