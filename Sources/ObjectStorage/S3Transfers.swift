import Digests
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Files to and from object storage with bounded memory: uploads in parts of `partSize` bytes,
/// at most `parallel` in flight; downloads in ranges of `partSize` written to a `.part` file that
/// is renamed when complete. An upload part is hashed and then sent straight from the file, and
/// a downloaded range written at its offset as it arrives (libcurl, `CurlTransfer`), so neither
/// is held in memory (without libcurl: `FileRangeInputStream`, and a range held once); see
/// docs/BENCHMARKS.md, "Object storage".
extension S3Client {
  /// Uploads `file` to `key`: one PUT when it fits in one part, else a multipart upload. The object
  /// appears only when complete; on any failure the multipart upload is aborted, so neither an
  /// incomplete upload nor a partial object is left.
  public func upload(file: String, bucket: String, key: String, partSize: Int = 8 << 20, parallel: Int = 2) async throws {
    let size = try Self.fileSize(file)
    if size <= Int64(partSize) {
      guard let data = FileManager.default.contents(atPath: file) else { throw S3Error(status: 0, code: "LocalFile", message: "cannot read \(file)") }
      try await put(data, bucket: bucket, key: key)
      return
    }
    let what = "upload \(file) to s3://\(bucket)/\(key)"
    let (created, _) = try await send(what) { request("POST", path(bucket, key), query: [("uploads", "")]) }
    guard let uploadID = XMLFields(data: created, names: ["UploadId"]).first("UploadId") else {
      throw S3Error(status: 0, code: "NoUploadId", message: "\(what): the server gave no UploadId")
    }
    do {
      let count = Int((size + Int64(partSize) - 1) / Int64(partSize))
      var etags = [String](repeating: "", count: count)
      try await withThrowingTaskGroup(of: (Int, String).self) { group in
        var next = 0
        func start() {
          let number = next + 1
          next += 1
          group.addTask {
            let offset = Int64(number - 1) * Int64(partSize)
            let count = Int(min(Int64(partSize), size - offset))
            let descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw S3Error(status: 0, code: "LocalFile", message: "cannot read \(file)") }
            defer { close(descriptor) }
            let hash = try Self.sha256(descriptor, offset: offset, count: count, file: file)
            let body = Body.file(descriptor: descriptor, offset: offset, count: count)
            let (_, response) = try await self.send("\(what), part \(number)", body: body) {
              self.request("PUT", self.path(bucket, key), query: [("partNumber", String(number)), ("uploadId", uploadID)], payloadHash: hash)
            }
            return (number, response.value(forHTTPHeaderField: "ETag") ?? "")
          }
        }
        while next < min(parallel, count) { start() }
        for try await (number, etag) in group {
          etags[number - 1] = etag
          if next < count { start() }
        }
      }
      var body = "<CompleteMultipartUpload>"
      for (index, etag) in etags.enumerated() { body += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(Self.escape(etag))</ETag></Part>" }
      body += "</CompleteMultipartUpload>"
      let data = Data(body.utf8)
      let (answer, _) = try await send("\(what), completing", body: data) {
        request("POST", path(bucket, key), query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")], payloadHash: SHA256.hex(of: data))
      }
      // CompleteMultipartUpload can answer 200 with an error in its body.
      let fields = XMLFields(data: answer, names: ["Code", "Message"])
      if let code = fields.first("Code") { throw S3Error(status: 200, code: code, message: "\(what): \(fields.first("Message") ?? code)") }
    } catch {
      try? await abortUpload(bucket: bucket, key: key, uploadID: uploadID)
      throw error
    }
  }

  public func abortUpload(bucket: String, key: String, uploadID: String) async throws {
    _ = try await send("abort the upload to s3://\(bucket)/\(key)") { request("DELETE", path(bucket, key), query: [("uploadId", uploadID)]) }
  }

  /// Multipart uploads not completed nor aborted under `prefix` (keys and upload ids).
  public func incompleteUploads(bucket: String, prefix: String = "") async throws -> [(key: String, uploadID: String)] {
    let (data, _) = try await send("list uploads in s3://\(bucket)/\(prefix)") {
      request("GET", path(bucket), query: [("uploads", ""), ("prefix", prefix)])
    }
    let fields = XMLFields(data: data, names: ["Key", "UploadId"])
    return zip(fields.all("Key"), fields.all("UploadId")).map { ($0, $1) }
  }

  /// Downloads `key` to `file` in ranges of `partSize` bytes, `parallel` at once, each written at
  /// its offset of `file.part`, renamed to `file` once every byte is there.
  public func download(bucket: String, key: String, to file: String, partSize: Int = 8 << 20, parallel: Int = 2) async throws {
    guard let (size, _) = try await head(bucket: bucket, key: key) else {
      throw S3Error(status: 404, code: "NoSuchKey", message: "download s3://\(bucket)/\(key): no such object")
    }
    let partial = file + ".part"
    let descriptor = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw S3Error(status: 0, code: "LocalFile", message: "cannot write \(partial)") }
    do {
      defer { close(descriptor) }
      let ranges = stride(from: Int64(0), to: size, by: partSize).map { $0...(min($0 + Int64(partSize), size) - 1) }
      try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        func start() {
          let range = ranges[next]
          next += 1
          group.addTask { try await self.get(bucket: bucket, key: key, range: range, into: descriptor, at: range.lowerBound) }
        }
        while next < min(parallel, ranges.count) { start() }
        for try await _ in group where next < ranges.count { start() }
      }
      guard fsync(descriptor) == 0 else { throw S3Error(status: 0, code: "LocalFile", message: "cannot write \(partial)") }
    } catch {
      try? FileManager.default.removeItem(atPath: partial)
      throw error
    }
    guard rename(partial, file) == 0 else { throw S3Error(status: 0, code: "LocalFile", message: "cannot rename \(partial) to \(file)") }
  }

  static func fileSize(_ file: String) throws -> Int64 {
    var info = stat()
    guard stat(file, &info) == 0 else { throw S3Error(status: 0, code: "LocalFile", message: "cannot read \(file)") }
    return Int64(info.st_size)
  }

  /// SHA-256 (hex) of a range of an open file, read in 1 MiB pieces into one buffer.
  static func sha256(_ descriptor: Int32, offset: Int64, count: Int, file: String) throws -> String {
    let hasher = SHA256()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    var done = 0
    while done < count {
      let read = pread(descriptor, buffer.baseAddress, min(buffer.count, count - done), off_t(offset + Int64(done)))
      guard read > 0 else { throw S3Error(status: 0, code: "LocalFile", message: "\(file) changed while it was uploaded") }
      hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<read]))
      done += read
    }
    return hasher.hexDigest()
  }

  static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
      .replacingOccurrences(of: "\"", with: "&quot;")
  }
}

/// Bytes [offset, offset + count) of an open file as an InputStream for URLSession: each read is
/// a pread into libcurl's own buffer. The descriptor stays the caller's.
// @unchecked: URLSession reads it from one thread at a time.
final class FileRangeInputStream: InputStream, @unchecked Sendable {
  private let descriptor: Int32
  private var position: Int64
  private let end: Int64
  private var status = Stream.Status.notOpen

  init(descriptor: Int32, offset: Int64, count: Int) {
    self.descriptor = descriptor
    position = offset
    end = offset + Int64(count)
    super.init(data: Data())
  }

  override func open() { status = .open }
  override func close() { status = .closed }
  override var streamStatus: Stream.Status { status }
  override var streamError: (any Error)? { nil }
  override var hasBytesAvailable: Bool { position < end }
  override func getBuffer(_ buffer: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, length: UnsafeMutablePointer<Int>) -> Bool { false }

  override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength: Int) -> Int {
    let wanted = Int(min(Int64(maxLength), end - position))
    guard wanted > 0 else {
      status = .atEnd
      return 0
    }
    let read = pread(descriptor, buffer, wanted, off_t(position))
    guard read > 0 else {
      status = .error
      return -1
    }
    position += Int64(read)
    if position >= end { status = .atEnd }
    return read
  }
}
