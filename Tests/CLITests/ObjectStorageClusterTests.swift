import Foundation
import Jobs
import ObjectStorage
import TestSupport
import Testing

/// Cluster mode with S3 storage and no shared folder: a real PostgreSQL server and a real
/// SeaweedFS S3 server, `jobs submit` uploading the inputs, workers in network namespaces of
/// their own (only the database and the S3 server reachable) and in folders of their own,
/// the coordinator uploading the output.
@Suite(.serialized) struct ObjectStorageClusterTests {
  /// Two namespaces with a veth pair each (scripts/netnstest.sh: 10.231.N.0/24, host side .1),
  /// made before the servers start (PostgreSQL listens on the host sides) and removed when this
  /// test process ends; nil where namespaces cannot be made (not root): then the workers run in
  /// folders of their own only, as the issue allows.
  final class Namespaces: Sendable {
    let names: [String]
    let hostAddresses: [String]

    init?() {
      let tag = Int(getpid() % 200) + 20
      let names = ["swl\(tag)a", "swl\(tag)b"]
      for (index, name) in names.enumerated() {
        do {
          try TestPostgres.run(projectRoot + "/scripts/netnstest.sh", ["up", name, "10.231.\(tag + index * 30)", String(getpid())])
        } catch {
          names.forEach { try? TestPostgres.run(projectRoot + "/scripts/netnstest.sh", ["down", $0]) }
          return nil
        }
      }
      self.names = names
      hostAddresses = names.indices.map { "10.231.\(tag + $0 * 30).1" }
    }
  }

  static let namespaces = Namespaces()
  /// Servers of this suite's own: PostgreSQL also on the namespaces' host sides, S3 on every
  /// address; the outage test kills and restarts this S3 server.
  static let servers = Result<(TestPostgres, TestS3), any Error> {
    let made = Self.namespaces
    return (try TestPostgres(listen: made?.hostAddresses ?? []), try TestS3(bind: made == nil ? "127.0.0.1" : "0.0.0.0"))
  }

  let database: String
  let s3: TestS3
  let bucket = "t" + UUID().uuidString.prefix(8).lowercased()
  let folder = CLITests.temporaryDirectory()

  init() async throws {
    let (postgres, s3) = try Self.servers.get()
    database = try TestPostgres.database(on: postgres)
    self.s3 = s3
    try await client().createBucket(bucket)
  }

  func client(secret: String? = nil) -> S3Client {
    S3Client(endpoint: s3.endpoint, credentials: S3Credentials(accessKeyID: s3.accessKey, secretAccessKey: secret ?? s3.secretKey))
  }

  var credentials: [String: String] { ["AWS_ACCESS_KEY_ID": s3.accessKey, "AWS_SECRET_ACCESS_KEY": s3.secretKey] }

  /// The cluster options as a node at `host` (the database's and S3 server's address) gives them.
  func cluster(host: String = "127.0.0.1") -> [String] {
    let databaseURL = database.replacingOccurrences(of: "@127.0.0.1:", with: "@\(host):")
    return ["--database", databaseURL, "--storage", "s3://\(bucket)/cluster", "--s3-endpoint", "http://\(host):\(s3.port)"]
  }

  func store() throws -> PostgresChunkStore { try PostgresChunkStore(url: database) }

  func wait(_ what: String, seconds: Double = 240, logs: [CLITests.Background], _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return }
      Thread.sleep(forTimeInterval: 0.1)
    }
    let chunks = (try? store().chunks(job: 1).map { "chunk \($0.index): \($0.state) attempt \($0.attempt) \($0.lastError ?? "")" }) ?? []
    Issue.record("timed out waiting for \(what)\n\((chunks + logs.map { "--- \($0.log)\n\($0.text.suffix(3000))" }).joined(separator: "\n"))")
  }

  /// Copies the inputs into a folder of their own, submits from there, then deletes them:
  /// every node must read them from object storage.
  func submit(clip: String, extra: [String]) throws -> CLITests.Result {
    let inputs = folder + "/inputs"
    try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: DataSafetyTests.grace, toPath: inputs + "/grace.jpg")
    try FileManager.default.copyItem(atPath: clip, toPath: inputs + "/clip.mp4")
    defer { try? FileManager.default.removeItem(atPath: inputs) }
    return try CLITests.swapline(["jobs", "submit", "-s", "grace.jpg", "-t", "clip.mp4", "-o", "s3://\(bucket)/out/result.mkv",
                                  "--models-dir", CLITests.root + "/models"] + extra + cluster(), environment: credentials, in: inputs)
  }

  /// Downloads the output with `swapline storage cp` and returns its frames' hashes.
  func outputFrames() throws -> [String] {
    let local = folder + "/result.mkv"
    let copy = try CLITests.swapline(["storage", "cp", "s3://\(bucket)/out/result.mkv", local, "--s3-endpoint", s3.endpoint.absoluteString],
                                     environment: credentials)
    #expect(copy.status == 0, "\(copy.stderr)")
    return try VideoJobTests.frameHashes(local)
  }

  func keys(_ prefix: String) async throws -> [String] { try await client().list(bucket: bucket, prefix: prefix).map(\.key) }

  @Test func twoWorkersInNamespacesOfTheirOwnMatchTheSingleMachineRun() async throws {
    // The 10 s clip, lossless, 25-frame chunks; the single-machine path first.
    let clip = try DataSafetyTests.makeClip(width: 320, height: 240, seconds: 10, name: "clip10.mp4")
    let options = ["--output-video-encoder", "ffv1", "--chunk-size", "25", "--face-detector-interval", "10"]
    let single = folder + "/single.mkv"
    let local = try CLITests.swapline(["swap", "-s", DataSafetyTests.grace, "-t", clip, "-o", single] + options)
    #expect(local.status == 0, "\(local.stderr)")
    let reference = try VideoJobTests.frameHashes(single)
    #expect(reference.count == 250)

    let submitted = try submit(clip: clip, extra: options)
    #expect(submitted.status == 0 && submitted.stdout.contains("job 1: submitted, 10 chunks"), "\(submitted.stdout) \(submitted.stderr)")
    #expect(try await keys("cluster/inputs/").count == 2)

    let namespaces = Self.namespaces
    var nodes: [CLITests.Background] = []
    defer { nodes.forEach { $0.stop() } }
    for index in 0..<2 {
      let home = folder + "/node\(index)"
      try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
      let launcher = namespaces.map { ["/usr/sbin/ip", "netns", "exec", $0.names[index]] } ?? []
      let host = namespaces?.hostAddresses[index] ?? "127.0.0.1"
      if let namespaces {
        // Inside, the host's loopback services are out of reach: only the veth's far side answers.
        let probe = try CLITests.run("/usr/sbin/ip", ["netns", "exec", namespaces.names[index], "/bin/bash", "-c",
                                                      "exec 3<>/dev/tcp/127.0.0.1/\(s3.port)"])
        #expect(probe.status != 0, "the S3 server's loopback port answered inside the namespace")
      }
      nodes.append(try CLITests.Background(["worker", "--poll-interval", "0.2"] + cluster(host: host), log: folder + "/worker\(index).log",
                                           environment: credentials, launcher: launcher, directory: home))
    }
    let home = folder + "/coordinator"
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    nodes.append(try CLITests.Background(["coordinator", "--poll-interval", "0.2"] + cluster(), log: folder + "/coordinator.log",
                                         environment: credentials, directory: home))
    try wait("the job to be done", logs: nodes) { try store().job(1)?.state == .done }

    #expect(try outputFrames() == reference)
    let owners = Set(try store().chunks(job: 1).compactMap(\.owner))
    #expect(owners.count == 2, "chunks rendered by \(owners)")
    // The job's segments are deleted after the join, and no upload is left incomplete.
    #expect(try await keys("cluster/job-1/").isEmpty)
    #expect(try await client().incompleteUploads(bucket: bucket).isEmpty)
    // Presigned URLs went to ffmpeg: their signatures, and the secret, never reach a log.
    for node in nodes {
      #expect(!node.text.contains("X-Amz-Signature") && !node.text.contains(s3.secretKey), "\(node.text)")
    }
    print("object storage cluster: workers \(namespaces == nil ? "in folders of their own (no network namespaces here)" : "in network namespaces \(namespaces!.names)")")
  }

  @Test func anS3OutageGivesChunksBackWithoutUsingTheirAttempts() async throws {
    #expect(try submit(clip: try DataSafetyTests.clip, extra: DataSafetyTests.lossless).status == 0)
    // The worker stops before its first upload, says so, and the server is killed then.
    let worker = try CLITests.Background(["worker", "--poll-interval", "0.2", "--s3-retries", "2"] + cluster(), log: folder + "/worker.log",
                                         environment: credentials.merging(["SWAPLINE_INJECT_UPLOAD_PAUSE": "2"]) { $1 }, directory: folder)
    defer { worker.stop() }
    try wait("the worker to pause before an upload", logs: [worker]) { worker.text.contains("pausing 2.0 s before uploading") }
    try s3.stop()
    // The failed upload, and every read of the input while the server is down, is the storage's
    // failure, not the chunk's: the worker gives its chunks back and waits for the server.
    try wait("the worker to wait for object storage", logs: [worker]) { worker.text.contains("waiting for object storage") }
    try s3.restart()
    let coordinator = try CLITests.Background(["coordinator", "--poll-interval", "0.2"] + cluster(), log: folder + "/coordinator.log",
                                              environment: credentials, directory: folder)
    defer { coordinator.stop() }
    try wait("the job to be done", logs: [worker, coordinator]) { try store().job(1)?.state == .done }
    // The chunk whose upload was cut (token 1) was rendered and uploaded again under a later token,
    // and the outage used up no chunk's attempts: each one counts only the claim that finished it.
    let chunks = try store().chunks(job: 1)
    let first = try #require(chunks.first { $0.index == 0 })
    #expect(first.infrastructureFailures >= 1 && first.output != "chunk-00000.t1.mkv",
            "chunk 0: \(first.infrastructureFailures) infrastructure failures, segment \(first.output ?? "none")")
    #expect(chunks.allSatisfy { $0.attempt == 1 }, "attempts: \(chunks.map(\.attempt))")
    #expect(!worker.text.contains("chunk failed"), "\(worker.text)")
    #expect(try outputFrames() == DataSafetyTests.reference)
    #expect(try await keys("cluster/job-1/").isEmpty)
    #expect(try await client().incompleteUploads(bucket: bucket).isEmpty)
  }

  @Test func wrongCredentialsExitTwoNamingEndpointAndBucketWithNothingLeft() async throws {
    let wrong = ["AWS_ACCESS_KEY_ID": s3.accessKey, "AWS_SECRET_ACCESS_KEY": "not-the-secret"]
    let inputs = folder + "/inputs"
    try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
    let submitted = try CLITests.swapline(["jobs", "submit", "-s", DataSafetyTests.grace, "-t", try DataSafetyTests.clip, "-o",
                                           "s3://\(bucket)/out/result.mkv"] + DataSafetyTests.lossless + cluster(), environment: wrong)
    #expect(submitted.status == 2, "\(submitted.stdout) \(submitted.stderr)")
    #expect(submitted.stderr.contains(s3.endpoint.absoluteString) && submitted.stderr.contains("s3://\(bucket)/cluster")
            && submitted.stderr.contains("SignatureDoesNotMatch"), "\(submitted.stderr)")
    #expect(!submitted.stderr.contains("not-the-secret"))
    #expect(try store().jobs().isEmpty)
    #expect(try await keys("").isEmpty)
    #expect(try await client().incompleteUploads(bucket: bucket).isEmpty)
    // A node with them stops at start the same way; so does one given a bucket that is not there.
    let worker = try CLITests.swapline(["worker", "--once"] + cluster(), environment: wrong)
    #expect(worker.status == 2 && worker.stderr.contains(s3.endpoint.absoluteString), "\(worker.stderr)")
    let missing = try CLITests.swapline(["coordinator", "--once", "--database", database, "--storage", "s3://no-such-bucket-\(bucket)/x",
                                         "--s3-endpoint", s3.endpoint.absoluteString], environment: credentials)
    #expect(missing.status == 2 && missing.stderr.contains("NoSuchBucket") && missing.stderr.contains("no-such-bucket-\(bucket)"), "\(missing.stderr)")
    // A local OUTPUT cannot be written by a coordinator elsewhere: refused before anything is uploaded.
    let local = try CLITests.swapline(["jobs", "submit", "-s", DataSafetyTests.grace, "-t", try DataSafetyTests.clip, "-o", folder + "/out.mkv"]
                                      + DataSafetyTests.lossless + cluster(), environment: credentials)
    #expect(local.status == 2 && local.stderr.contains("must be an s3:// URL"), "\(local.stderr)")
    #expect(try await keys("").isEmpty)
  }

  /// `swapline storage cp` of a 1 GB object each way: peak RSS (GNU time's %M) at most 100 MB
  /// above the same command's for a one-byte object.
  @Test func aGigabyteUpAndDownStaysWithin100MBOfTheBaseline() throws {
    let big = folder + "/big.bin", small = folder + "/small.bin"
    #expect(try CLITests.run("/bin/sh", ["-c", "head -c 1000000000 /dev/urandom > '\(big)' && printf x > '\(small)'"]).status == 0)
    defer { try? FileManager.default.removeItem(atPath: big); try? FileManager.default.removeItem(atPath: folder + "/big.copy") }
    func peakKB(_ source: String, _ destination: String) throws -> Int {
      let result = try CLITests.run("/usr/bin/time", ["-f", "peak %M", CLITests.binary, "storage", "cp", source, destination,
                                                      "--s3-endpoint", s3.endpoint.absoluteString], environment: credentials)
      #expect(result.status == 0, "\(result.stderr)")
      let line = result.stderr.split(separator: "\n").last { $0.hasPrefix("peak ") } ?? ""
      return Int(line.dropFirst(5)) ?? Int.max
    }
    let baseline = try peakKB(small, "s3://\(bucket)/small.bin")
    let upload = try peakKB(big, "s3://\(bucket)/big.bin")
    let download = try peakKB("s3://\(bucket)/big.bin", folder + "/big.copy")
    let limit = 100_000_000 / 1024
    #expect(upload - baseline < limit && download - baseline < limit, "baseline \(baseline) KiB, upload \(upload) KiB, download \(download) KiB")
    #expect(try CLITests.run("/usr/bin/cmp", [big, folder + "/big.copy"]).status == 0)
    print("1 GB through swapline storage cp: baseline \(baseline / 1024) MiB, upload +\((upload - baseline) / 1024) MiB, download +\((download - baseline) / 1024) MiB")
  }
}
