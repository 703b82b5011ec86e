import Foundation
import OnnxRuntime

/// Paths and the one ORT runtime shared by the tests (ORT keeps a single environment per process).
enum Fixtures {
  /// The project root: the nearest ancestor of this file that holds `vendor/onnxruntime`.
  /// The project root: the nearest ancestor of this file that holds Package.swift.
  static let root: String = {
    var directory = (#filePath as NSString).deletingLastPathComponent
    while directory != "/" && !FileManager.default.fileExists(atPath: directory + "/Package.swift") {
      directory = (directory as NSString).deletingLastPathComponent
    }
    return directory
  }()

  /// A runtime that cannot load fails the tests that use it with ORT's reason (run `make setup`),
  /// and the rest of the suite still runs and reports.
  static var runtime: OrtRuntime { get throws { try runtimeResult.get() } }
  private static let runtimeResult = Result<OrtRuntime, any Error> {
    try OrtRuntime(locator: OrtLibraryLocator(currentDirectory: root), threading: ThreadingOptions(intraOpThreads: 2))
  }

  static var scrfdModel: String { root + "/models/scrfd_2.5g_kps.onnx" }
  static func testModel(_ name: String) -> String { root + "/vendor/test-models/" + name }

  static func temporaryFile(_ name: String, contents: [UInt8]) -> String {
    let directory = NSTemporaryDirectory() + "swapline-tests-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = directory + "/" + name
    FileManager.default.createFile(atPath: path, contents: Data(contents))
    return path
  }
}
