import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

extension ModelSpec {
  /// FaceFusion's asset release folder for zoo models; nil for the offline pack.
  public var defaultBaseURL: URL? {
    guard case .facefusionRelease(let folder) = source else { return nil }
    return URL(string: "https://github.com/facefusion/facefusion-assets/releases/download/\(folder)/")
  }
}

/// Downloads model files over HTTP(S) in ranged pieces, so a broken transfer resumes where it
/// stopped (the `.part` file is kept) and memory stays bounded by the piece size.
public struct ModelFetcher: Sendable {
  public var pieceBytes: Int
  public var timeout: TimeInterval

  public init(pieceBytes: Int = 8 << 20, timeout: TimeInterval = 30) {
    self.pieceBytes = pieceBytes
    self.timeout = timeout
  }

  /// Downloads `baseURL/fileName` into `directory` and verifies it: SHA-256 for models whose
  /// hash the catalog knows, else FaceFusion's `NAME.hash` (CRC32) from the same base URL.
  /// On a mismatch the partial file is deleted and nothing appears at the destination.
  /// - Returns: the path of the verified file.
  public func fetch(_ spec: ModelSpec, baseURL: URL, into directory: String,
                    progress: (@Sendable (Int64, Int64?) -> Void)? = nil) async throws -> String {
    let destination = directory + "/" + spec.fileName
    let partial = destination + ".part"
    let url = baseURL.appendingPathComponent(spec.fileName)
    try await download(url, to: partial, progress: progress)

    if let expected = spec.sha256 {
      let actual = try ModelStore.sha256(ofFile: partial)
      guard actual == expected.lowercased() else {
        try? FileManager.default.removeItem(atPath: partial)
        throw ModelError(.hashMismatch, "\(spec.fileName): sha256 \(actual) does not match the catalog's \(expected)")
      }
    } else if let expected = try await fetchText(baseURL.appendingPathComponent(spec.name + ".hash")) {
      let actual = try ModelStore.crc32Hex(ofFile: partial)
      guard actual == expected else {
        try? FileManager.default.removeItem(atPath: partial)
        throw ModelError(.hashMismatch, "\(spec.fileName): crc32 \(actual) does not match \(spec.name).hash (\(expected))")
      }
      try? Data((expected + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/" + spec.name + ".hash"))
    }
    if FileManager.default.fileExists(atPath: destination) { try FileManager.default.removeItem(atPath: destination) }
    try FileManager.default.moveItem(atPath: partial, toPath: destination)
    return destination
  }

  /// Appends to `partial` until the server says the file is complete.
  func download(_ url: URL, to partial: String, progress: (@Sendable (Int64, Int64?) -> Void)?) async throws {
    if !FileManager.default.fileExists(atPath: partial) {
      guard FileManager.default.createFile(atPath: partial, contents: nil) else {
        throw ModelError(.io, "cannot create \(partial)")
      }
    }
    guard let handle = FileHandle(forWritingAtPath: partial) else { throw ModelError(.io, "cannot write \(partial)") }
    defer { try? handle.close() }
    var offset = Int64(try handle.seekToEnd())
    var total: Int64?
    while total.map({ offset < $0 }) ?? true {
      var request = URLRequest(url: url, timeoutInterval: timeout)
      request.setValue("bytes=\(offset)-\(offset + Int64(pieceBytes) - 1)", forHTTPHeaderField: "Range")
      let (data, response) = try await send(request)
      switch response.statusCode {
      case 206:
        try handle.write(contentsOf: data)
        offset += Int64(data.count)
        total = Self.totalLength(contentRange: response.value(forHTTPHeaderField: "Content-Range")) ?? total
        if data.isEmpty { total = offset }
      case 200:
        // The server ignores ranges: this body is the whole file.
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: data)
        offset = Int64(data.count)
        total = offset
      case 416 where offset > 0:
        total = offset  // asked past the end: the part file is already complete
      default:
        throw ModelError(.httpStatus(response.statusCode), "\(url.absoluteString): HTTP \(response.statusCode)")
      }
      progress?(offset, total)
    }
  }

  func fetchText(_ url: URL) async throws -> String? {
    let (data, response) = try await send(URLRequest(url: url, timeoutInterval: timeout))
    guard response.statusCode == 200 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
  }

  func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
    do {
      let (data, response) = try await URLSession.shared.data(for: request)
      guard let http = response as? HTTPURLResponse else {
        throw ModelError(.network, "\(request.url?.absoluteString ?? "?"): not an HTTP response")
      }
      return (data, http)
    } catch let error as ModelError {
      throw error
    } catch {
      throw ModelError(.network, "cannot reach \(request.url?.host ?? "the server") (no network?): \(error.localizedDescription)")
    }
  }

  /// The total from `Content-Range: bytes 0-99/1234`.
  static func totalLength(contentRange: String?) -> Int64? {
    guard let contentRange, let slash = contentRange.lastIndex(of: "/") else { return nil }
    return Int64(contentRange[contentRange.index(after: slash)...])
  }
}
