import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime

enum Fixtures {
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

  static func sample(_ name: String) throws -> Image {
    try ImageIO.read(path: root + "/samples/" + name).converted(toChannels: 3)
  }

  static func detector(family: FaceDetectorModel = .scrfd, model: String = "models/scrfd_2.5g_kps.onnx",
                       options: FaceDetectorOptions = FaceDetectorOptions()) throws -> FaceDetector {
    let session = try InferenceSession(runtime: runtime, modelPath: root + "/" + model)
    return FaceDetector(backends: [FaceDetector.Backend(family: family, session: session)], options: options)
  }
}
