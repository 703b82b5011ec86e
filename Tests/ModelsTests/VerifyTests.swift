import Foundation
import Models
import Testing

@Suite struct VerifyTests {
  static func folder() -> String {
    let path = NSTemporaryDirectory() + "swapline-models-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  // sha256("swapline test model\n") and zlib.crc32 of the same bytes, computed with Python's
  // hashlib/zlib when this test was written.
  static let content = Array("swapline test model\n".utf8)
  static let sha256 = "b58cc22d5028988af6e002d06937f693c47fc4509a59d7f58e66c8186386d54c"
  static let crc32 = "fc969c8e"

  static func spec(sha256: String?) -> ModelSpec {
    ModelSpec(name: "test_model", role: .faceDetector, vendor: "test", year: 2026, licence: .mit,
              source: .facefusionRelease(folder: "models-test"), sha256: sha256)
  }

  @Test func sha256MatchesAndAFlippedByteIsCaught() throws {
    let directory = Self.folder()
    let store = ModelStore(directory: directory)
    let path = directory + "/test_model.onnx"
    FileManager.default.createFile(atPath: path, contents: Data(Self.content))
    #expect(try ModelStore.sha256(ofFile: path) == Self.sha256)
    #expect(store.verify(Self.spec(sha256: Self.sha256)) == .ok(method: "sha256"))
    var corrupted = Self.content
    corrupted[3] ^= 0x01
    FileManager.default.createFile(atPath: path, contents: Data(corrupted))
    guard case .mismatch = store.verify(Self.spec(sha256: Self.sha256)) else {
      Issue.record("a corrupted file verified")
      return
    }
  }

  @Test func faceFusionHashSidecarsAreChecked() throws {
    let directory = Self.folder()
    let store = ModelStore(directory: directory)
    FileManager.default.createFile(atPath: directory + "/test_model.onnx", contents: Data(Self.content))
    #expect(try ModelStore.crc32Hex(ofFile: directory + "/test_model.onnx") == Self.crc32)
    if case .unverifiable = store.verify(Self.spec(sha256: nil)) {} else { Issue.record("no sidecar should be unverifiable") }
    FileManager.default.createFile(atPath: directory + "/test_model.hash", contents: Data((Self.crc32 + "\n").utf8))
    #expect(store.verify(Self.spec(sha256: nil)) == .ok(method: "crc32 .hash"))
    FileManager.default.createFile(atPath: directory + "/test_model.hash", contents: Data("00000000".utf8))
    #expect(store.verify(Self.spec(sha256: nil)) == .mismatch(expected: "00000000", actual: Self.crc32))
  }

  @Test func missingFilesAreReportedAsMissing() {
    #expect(ModelStore(directory: Self.folder()).verify(Self.spec(sha256: nil)) == .missing)
    #expect(ModelStore(directory: Self.folder()).locate("inswapper_128") == nil)
  }
}
