import Digests
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Files to and from object storage with bounded memory: uploads in parts of `partSize` bytes,
/// at most `parallel` in flight; downloads in ranges of `partSize` written to a `.part` file that
/// is renamed when complete.
extension S3Client {
  /// Uploads `file` to `key`: one PUT when it fits in one part, else a multipart upload. The object
  /// appears only when complete; on any failure the multipart upload is aborted, so neither an
  /// incomplete upload nor a partial object is left.
  public func upload(file: String, bucket: String, key: String, partSize: Int = 16 << 20, parallel: Int = 4) async throws {
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
            let data = try Self.read(file, offset: offset, count: Int(min(Int64(partSize), size - offset)))
            let hash = SHA256.hex(of: data)
            let (_, response) = try await self.send("\(what), part \(number)", body: data) {
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

  /// Downloads `key` to `file` in ranges of `partSize` bytes (memory: one range), through
  /// `file.part`, renamed to `file` once every byte is there.
  public func download(bucket: String, key: String, to file: String, partSize: Int = 16 << 20) async throws {
    guard let (size, _) = try await head(bucket: bucket, key: key) else {
      throw S3Error(status: 404, code: "NoSuchKey", message: "download s3://\(bucket)/\(key): no such object")
    }
    let partial = file + ".part"
    guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
      throw S3Error(status: 0, code: "LocalFile", message: "cannot write \(partial)")
    }
    do {
      defer { try? handle.close() }
      var offset: Int64 = 0
      while offset < size {
        let end = min(offset + Int64(partSize), size) - 1
        let data = try await get(bucket: bucket, key: key, range: offset...end)
        guard Int64(data.count) == end - offset + 1 else {
          throw S3Error(status: 0, code: "ShortRead", message: "download s3://\(bucket)/\(key): got \(data.count) bytes for \(offset)-\(end)")
        }
        try handle.write(contentsOf: data)
        offset = end + 1
      }
      try handle.synchronize()
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

  static func read(_ file: String, offset: Int64, count: Int) throws -> Data {
    guard let handle = FileHandle(forReadingAtPath: file) else { throw S3Error(status: 0, code: "LocalFile", message: "cannot read \(file)") }
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let data = try handle.read(upToCount: count) ?? Data()
    guard data.count == count else { throw S3Error(status: 0, code: "LocalFile", message: "\(file) changed while it was uploaded") }
    return data
  }

  static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
      .replacingOccurrences(of: "\"", with: "&quot;")
  }
}
