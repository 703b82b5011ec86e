import Digests
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
@testable import ObjectStorage

/// The client against a real SeaweedFS S3 gateway that checks signatures (scripts/s3test.sh).
@Suite(.serialized) struct S3ClientTests {
  let server: TestS3
  let client: S3Client
  let bucket: String

  init() async throws {
    server = try TestS3.shared
    client = S3Client(endpoint: server.endpoint, credentials: S3Credentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey))
    bucket = "t" + UUID().uuidString.prefix(8).lowercased()
    try await client.createBucket(bucket)
  }

  /// A plain GET with no credentials (what ffmpeg does with a presigned URL).
  func fetch(_ url: URL) async throws -> (Int, Data) {
    let (data, response) = try await URLSession.shared.data(from: url)
    return ((response as! HTTPURLResponse).statusCode, data)
  }

  @Test func putGetRangeHeadListDelete() async throws {
    let data = Data((0..<1000).map { UInt8($0 % 251) })
    try await client.put(data, bucket: bucket, key: "a/one.bin")
    try await client.put(Data("two".utf8), bucket: bucket, key: "a/sub dir/two+€.txt")
    try await client.put(Data("other".utf8), bucket: bucket, key: "b/three.txt")
    #expect(try await client.get(bucket: bucket, key: "a/one.bin") == data)
    #expect(try await client.get(bucket: bucket, key: "a/one.bin", range: 100...199) == data[100...199])
    #expect(try await client.get(bucket: bucket, key: "a/sub dir/two+€.txt") == Data("two".utf8))
    #expect(try await client.head(bucket: bucket, key: "a/one.bin")?.size == 1000)
    #expect(try await client.head(bucket: bucket, key: "a/none") == nil)
    #expect(try await client.list(bucket: bucket, prefix: "a/").map(\.key).sorted() == ["a/one.bin", "a/sub dir/two+€.txt"])
    try await client.delete(bucket: bucket, key: "a/one.bin")
    #expect(try await client.head(bucket: bucket, key: "a/one.bin") == nil)
    let missing = await #expect(throws: S3Error.self) { try await client.get(bucket: bucket, key: "a/one.bin") }
    #expect(missing?.isMissing == true && missing?.description.contains("s3://\(bucket)/a/one.bin") == true)
  }

  @Test func presignedURLWorksWithoutCredentialsUntilItExpires() async throws {
    try await client.put(Data("presigned".utf8), bucket: bucket, key: "p.txt")
    let fresh = client.presignedURL(bucket: bucket, key: "p.txt", expires: 60)
    let (status, body) = try await fetch(fresh)
    #expect(status == 200 && body == Data("presigned".utf8))
    // Signed two minutes ago for one minute: expired.
    let old = client.presignedURL(bucket: bucket, key: "p.txt", expires: 60, date: Date().addingTimeInterval(-120))
    let (expiredStatus, expiredBody) = try await fetch(old)
    #expect(expiredStatus == 403, "\(String(decoding: expiredBody, as: UTF8.self))")
    // A URL for another key (its signature copied) is refused too.
    var tampered = URLComponents(url: fresh, resolvingAgainstBaseURL: false)!
    tampered.path = tampered.path.replacingOccurrences(of: "p.txt", with: "q.txt")
    #expect(try await fetch(tampered.url!).0 == 403)
  }

  @Test func wrongCredentialsNameTheEndpointAndBucket() async throws {
    let wrong = S3Client(endpoint: server.endpoint, credentials: S3Credentials(accessKeyID: server.accessKey, secretAccessKey: "not-the-secret"))
    let error = await #expect(throws: S3Error.self) { try await wrong.put(Data("x".utf8), bucket: bucket, key: "x") }
    #expect(error?.isCredentials == true, "\(String(describing: error))")
    #expect(error?.description.contains("s3://\(bucket)/x at \(server.endpoint.absoluteString)") == true, "\(String(describing: error))")
    #expect(try await client.head(bucket: bucket, key: "x") == nil)
    let unknown = S3Client(endpoint: server.endpoint, credentials: S3Credentials(accessKeyID: "nobody", secretAccessKey: server.secretKey))
    #expect(await #expect(throws: S3Error.self) { try await unknown.list(bucket: bucket, prefix: "") }?.isCredentials == true)
    let nowhere = S3Client(endpoint: URL(string: "http://127.0.0.1:9")!, credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"), retries: 1)
    let unreachable = await #expect(throws: S3Error.self) { try await nowhere.list(bucket: bucket, prefix: "") }
    #expect(unreachable?.status == 0 && unreachable?.description.contains("cannot reach http://127.0.0.1:9") == true)
  }

  /// Both transports for file ranges: libcurl (the default) and URLSession (where libcurl is missing).
  @Test(arguments: [true, false]) func multipartUploadAndRangedDownloadOfALargeFile(libcurl: Bool) async throws {
    #expect(!libcurl || CurlTransfer.isAvailable, "libcurl.so.4 did not load: the fast path is not tested")
    let client = S3Client(endpoint: server.endpoint, credentials: S3Credentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey),
                          libcurl: libcurl)
    #expect(client.throughLibcurl == libcurl)
    let folder = NSTemporaryDirectory() + "s3-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    // 23 MiB + 123 bytes: five 5 MiB parts and a short last one.
    var bytes = [UInt8](repeating: 0, count: 23 << 20 + 123)
    for index in stride(from: 0, to: bytes.count, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index / 4096 &* 31) }
    let source = folder + "/big.bin"
    FileManager.default.createFile(atPath: source, contents: Data(bytes))
    try await client.upload(file: source, bucket: bucket, key: "big/big.bin", partSize: 5 << 20, parallel: 3)
    #expect(try await client.head(bucket: bucket, key: "big/big.bin")?.size == Int64(bytes.count))
    #expect(try await client.incompleteUploads(bucket: bucket).isEmpty)
    let copy = folder + "/copy.bin"
    try await client.download(bucket: bucket, key: "big/big.bin", to: copy, partSize: 4 << 20)
    #expect(FileManager.default.contents(atPath: copy) == Data(bytes))
    #expect(!FileManager.default.fileExists(atPath: copy + ".part"))
    // An error answer to a range read is the server's error, and nothing is written.
    let descriptor = open(folder + "/range.bin", O_RDWR | O_CREAT | O_TRUNC, 0o600)
    defer { close(descriptor) }
    let error = await #expect(throws: S3Error.self) {
      try await client.get(bucket: bucket, key: "big/no-such.bin", range: 0...99, into: descriptor, at: 0)
    }
    #expect(error?.code == "NoSuchKey" && error?.status == 404, "\(String(describing: error))")
    #expect(lseek(descriptor, 0, SEEK_END) == 0)
    // A range past the object's end is refused (416), not written short.
    let past = await #expect(throws: S3Error.self) {
      try await client.get(bucket: bucket, key: "big/big.bin", range: Int64(bytes.count)...Int64(bytes.count + 99), into: descriptor, at: 0)
    }
    #expect(past?.status == 416, "\(String(describing: past))")
    #expect(lseek(descriptor, 0, SEEK_END) == 0)
  }

  @Test func aFailedMultipartUploadLeavesNothing() async throws {
    let folder = NSTemporaryDirectory() + "s3-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let source = folder + "/parts.bin"
    FileManager.default.createFile(atPath: source, contents: Data(repeating: 7, count: 3 << 20))
    // 1 MiB parts are under S3's 5 MiB minimum for all but the last: completing is refused.
    let error = await #expect(throws: S3Error.self) {
      try await client.upload(file: source, bucket: bucket, key: "small-parts.bin", partSize: 1 << 20, parallel: 2)
    }
    #expect(error?.code == "EntityTooSmall", "\(String(describing: error))")
    #expect(try await client.incompleteUploads(bucket: bucket).isEmpty)
    #expect(try await client.head(bucket: bucket, key: "small-parts.bin") == nil)
  }

  @Test func requestsRideOutAServerRestart() async throws {
    let own = try TestS3()
    let client = S3Client(endpoint: own.endpoint, credentials: S3Credentials(accessKeyID: own.accessKey, secretAccessKey: own.secretKey))
    try await client.createBucket("restart")
    try await client.put(Data("before".utf8), bucket: "restart", key: "before.txt")
    // A multipart upload first, so libcurl's pooled handles hold connections the restart kills.
    let folder = NSTemporaryDirectory() + "s3-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let parts = Data((0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 >> 9) })
    FileManager.default.createFile(atPath: folder + "/parts.bin", contents: parts)
    try await client.upload(file: folder + "/parts.bin", bucket: "restart", key: "parts.bin", partSize: 5 << 20)
    try own.stop()
    let put = Task { try await client.put(Data("during".utf8), bucket: "restart", key: "during.txt") }
    try await Task.sleep(nanoseconds: 1_000_000_000)   // the put is failing and retrying now
    try own.restart()
    try await put.value
    #expect(try await client.get(bucket: "restart", key: "during.txt") == Data("during".utf8))
    #expect(try await client.get(bucket: "restart", key: "before.txt") == Data("before".utf8))
    try await client.download(bucket: "restart", key: "parts.bin", to: folder + "/copy.bin", partSize: 4 << 20)
    #expect(FileManager.default.contents(atPath: folder + "/copy.bin") == parts)
  }
}
