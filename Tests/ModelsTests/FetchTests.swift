import Foundation
import Models
import Testing

/// Downloads against a real HTTP server on 127.0.0.1 (scripts/range_http_server.py).
@Suite(.serialized) struct FetchTests {
  final class Server {
    let process = Process()
    let served: String
    let log: String
    let port: Int

    init() throws {
      served = VerifyTests.folder()
      log = served + "/requests.log"
      var directory = (#filePath as NSString).deletingLastPathComponent
      while !FileManager.default.fileExists(atPath: directory + "/scripts/range_http_server.py") {
        directory = (directory as NSString).deletingLastPathComponent
      }
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["python3", directory + "/scripts/range_http_server.py", served, log]
      let pipe = Pipe()
      process.standardOutput = pipe
      try process.run()
      let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
      guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        process.terminate()
        throw ModelError(.io, "test server did not start: \(line)")
      }
      self.port = port
    }

    deinit {
      // Process.waitUntilExit spins a run loop that can busy-wait forever off the main thread
      // in corelibs Foundation; signal and reap directly instead.
      let pid = process.processIdentifier
      kill(pid, SIGKILL)
      var status: Int32 = 0
      _ = waitpid(pid, &status, 0)
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/models/")! }

    func serve(_ name: String, _ bytes: [UInt8]) {
      FileManager.default.createFile(atPath: served + "/" + name, contents: Data(bytes))
    }

    var requests: [String] {
      ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
  }

  /// 300 KB of deterministic bytes and their SHA-256.
  static let payload: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 7)) }

  static func spec(sha256: String?) -> ModelSpec {
    ModelSpec(name: "download_test", role: .faceDetector, vendor: "test", year: 2026, licence: .mit,
              source: .facefusionRelease(folder: "models-test"), sha256: sha256)
  }

  /// The payload's SHA-256 and zlib CRC-32, computed once with Python's hashlib and zlib (not with
  /// the code under test): `bytes(((i*31)^(i>>7))&0xff for i in range(300000))`.
  static let payloadSHA256 = "227dbfe3e1c3f76b3d748cee560cc14df7d008db26ee8446c6a4ee6ed63dcd3f"
  static let payloadCRC32 = "f769acaa"

  static func payloadSHA() throws -> String { payloadSHA256 }

  @Test func downloadsInPiecesAndVerifiesTheHash() async throws {
    let server = try Server()
    server.serve("download_test.onnx", Self.payload)
    let destination = VerifyTests.folder()
    let fetcher = ModelFetcher(pieceBytes: 64 << 10)
    let path = try await fetcher.fetch(Self.spec(sha256: try Self.payloadSHA()), baseURL: server.baseURL, into: destination)
    #expect(path == destination + "/download_test.onnx")
    #expect(FileManager.default.contents(atPath: path) == Data(Self.payload))
    #expect(!FileManager.default.fileExists(atPath: path + ".part"))
    #expect(server.requests.filter { $0.contains("bytes=") }.count == 5)  // 300 KB in 64 KiB pieces
  }

  @Test func resumesFromAPartialFile() async throws {
    let server = try Server()
    server.serve("download_test.onnx", Self.payload)
    let destination = VerifyTests.folder()
    FileManager.default.createFile(atPath: destination + "/download_test.onnx.part", contents: Data(Self.payload.prefix(200_000)))
    _ = try await ModelFetcher().fetch(Self.spec(sha256: try Self.payloadSHA()), baseURL: server.baseURL, into: destination)
    #expect(FileManager.default.contents(atPath: destination + "/download_test.onnx") == Data(Self.payload))
    #expect(server.requests.first?.hasSuffix("bytes=200000-8588607") == true)
  }

  @Test func aHashMismatchLeavesNothingBehind() async throws {
    let server = try Server()
    server.serve("download_test.onnx", Self.payload)
    let destination = VerifyTests.folder()
    await #expect {
      _ = try await ModelFetcher().fetch(Self.spec(sha256: String(repeating: "0", count: 64)), baseURL: server.baseURL, into: destination)
    } throws: { ($0 as? ModelError)?.code == .hashMismatch }
    #expect((try FileManager.default.contentsOfDirectory(atPath: destination)).isEmpty)
  }

  @Test func zooModelsAreCheckedAgainstTheirHashSidecar() async throws {
    let server = try Server()
    server.serve("download_test.onnx", Self.payload)
    server.serve("download_test.hash", Array(Self.payloadCRC32.utf8))
    let destination = VerifyTests.folder()
    _ = try await ModelFetcher().fetch(Self.spec(sha256: nil), baseURL: server.baseURL, into: destination)
    #expect(ModelStore(directory: destination).verify(Self.spec(sha256: nil)) == .ok(method: "crc32 .hash"))
  }

  @Test func aCRCMismatchDuringTheFetchLeavesNothingBehind() async throws {
    let server = try Server()
    server.serve("download_test.onnx", Self.payload)
    server.serve("download_test.hash", Array("0badc0de".utf8))
    let destination = VerifyTests.folder()
    await #expect {
      _ = try await ModelFetcher().fetch(Self.spec(sha256: nil), baseURL: server.baseURL, into: destination)
    } throws: { error in
      (error as? ModelError)?.code == .hashMismatch && "\(error)".contains("f769acaa") && "\(error)".contains("0badc0de")
    }
    #expect((try FileManager.default.contentsOfDirectory(atPath: destination)).isEmpty)
  }

  @Test func aMissingFileIsAnHTTPError() async throws {
    let server = try Server()
    await #expect {
      _ = try await ModelFetcher().fetch(Self.spec(sha256: nil), baseURL: server.baseURL, into: VerifyTests.folder())
    } throws: { ($0 as? ModelError)?.code == .httpStatus(404) }
  }

  @Test func noNetworkFailsFastAndClearly() async throws {
    let started = ContinuousClock.now
    await #expect {
      _ = try await ModelFetcher(timeout: 10).fetch(Self.spec(sha256: nil), baseURL: URL(string: "http://nonexistent.invalid/models/")!,
                                                    into: VerifyTests.folder())
    } throws: { error in
      (error as? ModelError)?.code == .network && "\(error)".contains("nonexistent.invalid")
    }
    // Bounded by the fetcher's timeout, not hanging or retrying for ever. The margin is wide: DNS
    // resolution of .invalid took 18.7 s in a fresh-clone run with every suite in parallel.
    #expect(ContinuousClock.now - started < .seconds(40))
  }
}
