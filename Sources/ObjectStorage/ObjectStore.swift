import Digests
import Foundation
import Synchronization

/// `s3://bucket/prefix` (or `s3://bucket/key`) split into its bucket and key.
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
  public let bucket: String
  public let key: String

  public init(bucket: String, key: String) {
    self.bucket = bucket
    self.key = key
  }

  /// nil when `text` is not an `s3://` URL; an s3:// URL without a bucket is nil too.
  public init?(_ text: String) {
    guard text.hasPrefix("s3://") else { return nil }
    let rest = text.dropFirst(5)
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    bucket = String(rest[..<slash])
    key = slash == rest.endIndex ? "" : String(rest[rest.index(after: slash)...])
    guard !bucket.isEmpty else { return nil }
  }

  public static func isObjectURL(_ text: String) -> Bool { text.hasPrefix("s3://") }

  public var description: String { "s3://\(bucket)/\(key)" }
}

/// A bucket and key prefix on an S3-compatible server, with blocking calls: the job engine's
/// workers and coordinator run on dedicated threads (rendering, joining), never on the
/// concurrency pool, so they wait for each request in turn. Keys passed in are relative to the
/// prefix; `s3://` URLs name objects anywhere on the server.
public final class ObjectStore: Sendable, CustomStringConvertible {
  public let client: S3Client
  public let bucket: String
  /// Ends with "/" unless empty.
  public let prefix: String
  public let partSize: Int
  public let parallel: Int
  /// One try, 5 s: for `answers()`.
  let probe: S3Client

  public init(client: S3Client, location: S3Location, partSize: Int = 8 << 20, parallel: Int = 2) {
    self.client = client
    probe = client.probing()
    bucket = location.bucket
    prefix = location.key.isEmpty || location.key.hasSuffix("/") ? location.key : location.key + "/"
    self.partSize = partSize
    self.parallel = parallel
  }

  public var description: String { "s3://\(bucket)/\(prefix) at \(client.endpoint.absoluteString)" }

  /// The URL of `relative` under the prefix.
  public func url(_ relative: String) -> String { "s3://\(bucket)/\(prefix)\(relative)" }

  func place(_ relativeOrURL: String) -> S3Location {
    S3Location(relativeOrURL) ?? S3Location(bucket: bucket, key: prefix + relativeOrURL)
  }

  /// Fails at once, naming the endpoint and bucket, when the credentials are refused, the bucket
  /// is missing or the server cannot be reached: a node says so at start, not at its first chunk.
  public func checkAccess() throws {
    _ = try wait { try await self.client.list(bucket: self.bucket, prefix: self.prefix, maxKeys: 1) }
  }

  /// Whether the server answers now: a listing of one key under the prefix and, with `reading`
  /// (an `s3://` object), the first byte of that object, each one try of at most 5 s (a worker
  /// asks after a failure, while its lease still runs). Listing alone is not enough: a restarting
  /// SeaweedFS lists before its volume servers serve data again.
  public func answers(reading: String? = nil) -> Bool {
    guard (try? wait({ try await self.probe.list(bucket: self.bucket, prefix: self.prefix, maxKeys: 1) })) != nil else { return false }
    guard let reading, let object = S3Location(reading) else { return true }
    return (try? wait({ try await self.probe.get(bucket: object.bucket, key: object.key, range: 0...0) })) != nil
  }

  /// Uploads a local file; the object appears whole or not at all.
  public func upload(file: String, to relativeOrURL: String) throws {
    let target = place(relativeOrURL)
    try wait { try await self.client.upload(file: file, bucket: target.bucket, key: target.key, partSize: self.partSize, parallel: self.parallel) }
  }

  /// Downloads an object to a local file (written as `file.part`, renamed when complete).
  public func download(_ relativeOrURL: String, to file: String) throws {
    let origin = place(relativeOrURL)
    try wait { try await self.client.download(bucket: origin.bucket, key: origin.key, to: file, partSize: self.partSize, parallel: self.parallel) }
  }

  /// Size and ETag, or nil when there is no such object.
  public func head(_ relativeOrURL: String) throws -> (size: Int64, etag: String)? {
    let object = place(relativeOrURL)
    return try wait { try await self.client.head(bucket: object.bucket, key: object.key) }
  }

  /// Keys (relative to the prefix) of the objects under `relative`.
  public func list(_ relative: String) throws -> [String] {
    try wait { try await self.client.list(bucket: self.bucket, prefix: self.prefix + relative) }.map { String($0.key.dropFirst(self.prefix.count)) }
  }

  public func delete(_ relativeOrURL: String) throws {
    let object = place(relativeOrURL)
    try wait { try await self.client.delete(bucket: object.bucket, key: object.key) }
  }

  /// A local copy of an object in `folder` (named by the URL's hash, downloaded unless already
  /// there): for inputs that must be read as files, such as source images.
  public func localCopy(of relativeOrURL: String, in folder: String) throws -> String {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let name = SHA256.hex(of: Data(relativeOrURL.utf8)).prefix(16) + "." + (relativeOrURL as NSString).pathExtension
    let path = folder + "/source-" + name
    if !FileManager.default.fileExists(atPath: path) { try download(relativeOrURL, to: path) }
    return path
  }

  /// Deletes every object under `relative` (a job's segments).
  public func deleteAll(under relative: String) throws {
    for key in try list(relative) { try delete(key) }
  }

  /// A GET URL valid for `expires` seconds that ffmpeg can read (range requests) without keys.
  public func presignedURL(_ relativeOrURL: String, expires: Int = 6 * 3600) -> String {
    let object = place(relativeOrURL)
    return client.presignedURL(bucket: object.bucket, key: object.key, expires: expires).absoluteString
  }

  /// Runs an async request and blocks this (dedicated) thread until it ends.
  func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
      let outcome: Result<T, any Error>
      do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
      result.withLock { $0 = outcome }
      done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
  }
}
