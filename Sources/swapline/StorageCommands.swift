import ArgumentParser
import CLinuxThreads
import Foundation
import ObjectStorage

/// `swapline storage`: copy, list, delete and presign objects in S3-compatible storage with the
/// same client and settings the cluster will use; for checking a storage configuration by hand.
struct Storage: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Copy, list, delete and presign objects in S3-compatible storage (checks a storage setup).",
    discussion: """
      Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else \
      from the shared credentials file (~/.aws/credentials, or AWS_SHARED_CREDENTIALS_FILE) for \
      AWS_PROFILE (default "default"). The endpoint is --s3-endpoint (path-style, for self-hosted \
      servers such as MinIO, Ceph RGW or SeaweedFS) or AWS's for --s3-region. Refused credentials, a \
      missing bucket or an unreachable endpoint exit 2 naming the endpoint and bucket.
      """,
    subcommands: [Copy.self, List.self, Remove.self, Presign.self])

  struct Connection: ParsableArguments {
    @Option(name: .customLong("s3-endpoint"), help: "Endpoint URL, e.g. http://127.0.0.1:8333 (default: AWS's, https://s3.REGION.amazonaws.com).")
    var endpoint: String?

    @Option(name: .customLong("s3-region"), help: "Region signed into requests. (default: $AWS_REGION, else us-east-1)")
    var region: String?

    @Option(name: .customLong("s3-retries"), help: "Further tries of a request that fails transiently (5xx, 429, SlowDown, timeouts, refused connections), with backoff from 0.2 s to 5 s.")
    var retries: Int = 6

    func validate() throws {
      guard (0...20).contains(retries) else { throw ValidationError("--s3-retries takes 0 to 20") }
    }

    func client() throws -> S3Client {
      let environment = ProcessInfo.processInfo.environment
      let region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
      let text = endpoint ?? "https://s3.\(region).amazonaws.com"
      guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
        throw CLIError.badInput("--s3-endpoint must be an http(s) URL (got '\(text)')")
      }
      return S3Client(endpoint: url, region: region, credentials: try S3CredentialSource.resolve(environment: environment), retries: retries)
    }
  }

  /// `s3://bucket/key` split (the key may be empty only where a prefix is meant), or nil for a local path.
  static func location(_ text: String, prefix: Bool = false) throws -> (bucket: String, key: String)? {
    guard S3Location.isObjectURL(text) else { return nil }
    guard let place = S3Location(text), prefix || !place.key.isEmpty else {
      throw CLIError.badInput("'\(text)' needs a bucket and a key: s3://BUCKET/KEY")
    }
    return (place.bucket, place.key)
  }

  /// An argument that must name an object.
  static func object(_ text: String, for command: String) throws -> (bucket: String, key: String) {
    guard let place = try location(text) else { throw CLIError.badInput("\(command) takes s3://BUCKET/KEY, not '\(text)'") }
    return place
  }

  /// Storage failures as the CLI reports them: setup problems are bad input (2), the rest failures (1).
  static func reporting(_ body: () async throws -> Void) async throws {
    // Parts and ranges are megabytes each: with glibc's default, the mmap threshold rises to
    // 32 MiB after the first free, and freed parts then stay in per-thread arenas (measured
    // +103 MB peak for a 1 GB download). A fixed 1 MiB threshold maps each buffer and returns it
    // on free (+26 MB). Only here: the video pipeline reuses its frame buffers.
    _ = swapline_set_mmap_threshold(1 << 20)
    try await reportingErrors {
      do { try await body() } catch let error as S3Error {
        throw error.isSetupProblem ? CLIError.badInput(error.description) : CLIError.failure(error.description)
      }
    }
  }

  struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cp", abstract: "Copy a local file to s3://BUCKET/KEY or back.")
    @Argument(help: "Source: a file or s3://BUCKET/KEY.") var source: String
    @Argument(help: "Destination: s3://BUCKET/KEY or a file.") var destination: String
    @OptionGroup var connection: Connection
    @Option(name: .customLong("part-size"), help: "Bytes per part of a multipart upload or ranged download (at least 5 MiB).")
    var partSize: Int = 8 << 20
    @Option(name: .customLong("parallel"), help: "Parts uploaded at once (streamed from the file); downloads fetch as many ranges at once, each held in memory while it arrives.")
    var parallel: Int = 2

    func validate() throws {
      guard partSize >= 5 << 20 else { throw ValidationError("--part-size must be at least 5 MiB (5242880), S3's smallest part") }
      guard (1...64).contains(parallel) else { throw ValidationError("--parallel takes 1 to 64") }
    }

    func run() async throws {
      try await Storage.reporting {
        let client = try connection.client()
        switch (try Storage.location(source), try Storage.location(destination)) {
        case (nil, let target?):
          guard FileManager.default.isReadableFile(atPath: source) else { throw CLIError.badInput("cannot read \(source)") }
          try await client.upload(file: source, bucket: target.bucket, key: target.key, partSize: partSize, parallel: parallel)
        case (let origin?, nil):
          try await client.download(bucket: origin.bucket, key: origin.key, to: destination, partSize: partSize, parallel: parallel)
        default:
          throw CLIError.badInput("one side must be s3://BUCKET/KEY and the other a local file")
        }
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List objects under s3://BUCKET/PREFIX (size and key).")
    @Argument(help: "s3://BUCKET/PREFIX") var prefix: String
    @OptionGroup var connection: Connection

    func run() async throws {
      try await Storage.reporting {
        guard let place = try Storage.location(prefix, prefix: true) else { throw CLIError.badInput("ls takes s3://BUCKET/PREFIX, not '\(prefix)'") }
        for object in try await connection.client().list(bucket: place.bucket, prefix: place.key) { print("\(object.size)\t\(object.key)") }
      }
    }
  }

  struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete s3://BUCKET/KEY.")
    @Argument(help: "s3://BUCKET/KEY") var object: String
    @OptionGroup var connection: Connection

    func run() async throws {
      try await Storage.reporting {
        let place = try Storage.object(object, for: "rm")
        try await connection.client().delete(bucket: place.bucket, key: place.key)
      }
    }
  }

  struct Presign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a URL that allows GET (or --method PUT) of s3://BUCKET/KEY without credentials.")
    @Argument(help: "s3://BUCKET/KEY") var object: String
    @Option(help: "Seconds the URL stays valid (1 to 604800).") var expires: Int = 3600
    @Option(help: "GET or PUT.") var method: String = "GET"
    @OptionGroup var connection: Connection

    func validate() throws {
      guard (1...604_800).contains(expires) else { throw ValidationError("--expires takes 1 to 604800 seconds (7 days, SigV4's limit)") }
      guard ["GET", "PUT"].contains(method.uppercased()) else { throw ValidationError("--method takes GET or PUT") }
    }

    func run() async throws {
      try await Storage.reporting {
        let place = try Storage.object(object, for: "presign")
        print(try connection.client().presignedURL(method: method.uppercased(), bucket: place.bucket, key: place.key, expires: expires).absoluteString)
      }
    }
  }
}

/// Where credentials come from, in the order of AWS's tools: the environment, then the shared
/// credentials file's profile.
enum S3CredentialSource {
  static func resolve(environment: [String: String]) throws -> S3Credentials {
    if let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty, !secret.isEmpty {
      return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
    }
    let path = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? (NSHomeDirectory() + "/.aws/credentials")
    let profile = environment["AWS_PROFILE"] ?? "default"
    if let text = try? String(contentsOfFile: path, encoding: .utf8), let found = parse(text, profile: profile) { return found }
    throw CLIError.badInput("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile [\(profile)] in \(path)")
  }

  /// The `[profile]` section of an INI credentials file.
  static func parse(_ text: String, profile: String) -> S3Credentials? {
    var section = "", values: [String: String] = [:]
    for raw in text.split(whereSeparator: \.isNewline) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
      if line.hasPrefix("[") && line.hasSuffix("]") { section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces); continue }
      guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
      values[line[..<equals].trimmingCharacters(in: .whitespaces)] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
    }
    guard let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else { return nil }
    return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"])
  }
}
