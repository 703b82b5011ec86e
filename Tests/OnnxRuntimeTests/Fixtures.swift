import Foundation
import OnnxRuntime

/// Paths and the one ORT runtime shared by the tests (ORT keeps a single environment per process).
enum Fixtures {
  /// The project root: the nearest ancestor of this file that holds `vendor/onnxruntime`.
  static let root: String = {
    var directory = (#filePath as NSString).deletingLastPathComponent
    while directory != "/" {
      if FileManager.default.fileExists(atPath: directory + "/vendor/onnxruntime") { return directory }
      directory = (directory as NSString).deletingLastPathComponent
    }
    fatalError("vendor/onnxruntime not found above \(#filePath): run `make setup`")
  }()

  static let runtime: OrtRuntime = {
    do { return try OrtRuntime(locator: OrtLibraryLocator(currentDirectory: root), threading: ThreadingOptions(intraOpThreads: 2)) }
    catch { fatalError("ONNX Runtime did not load: \(error)") }
  }()

  static var scrfdModel: String { root + "/models/scrfd_2.5g_kps.onnx" }
  static func testModel(_ name: String) -> String { root + "/vendor/test-models/" + name }

  static func temporaryFile(_ name: String, contents: [UInt8]) -> String {
    let directory = NSTemporaryDirectory() + "swapline-tests-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = directory + "/" + name
    FileManager.default.createFile(atPath: path, contents: Data(contents))
    return path
  }
}
