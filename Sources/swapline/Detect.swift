import ArgumentParser
import FaceAnalysis
import Foundation
import Swapping
import Imaging
import OnnxRuntime

struct Detect: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Find faces in an image and print box, score and five keypoints for each.",
    discussion: """
      Keypoints are in image pixels, in FaceFusion's order: left eye, right eye, nose, left mouth \
      corner, right mouth corner ("left" = the image's left for a frontal face). Faces are listed \
      best score first. With --output, writes a copy of the image with the faces drawn on it.
      """)

  @Argument(help: "Image to analyse (PNG, JPEG or WebP).")
  var image: String

  @Flag(name: .long, help: "Print JSON instead of text.")
  var json = false

  @Option(name: [.short, .long], help: "Also write an annotated copy of the image here (.png, .jpg or .webp).")
  var output: String?

  @Flag(name: .customLong("landmarks-68"),
        help: "Also fit dlib's 68-point shape predictor (offline pack) inside each face box.")
  var landmarks68 = false

  @OptionGroup(title: "Face detector") var detector: FaceDetectorArguments
  @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
  @OptionGroup(title: "Execution") var execution: ExecutionArguments
  @OptionGroup(title: "Memory") var memory: MemoryArguments

  func run() async throws {
    try await reportingErrors {
      if let output, ImageFormat(pathExtension: (output as NSString).pathExtension) == nil {
        throw CLIError.badInput("cannot write '\(output)': unsupported extension (use .png, .jpg, .jpeg or .webp)")
      }
      let picture = try readInputImage(image)
      let store = models.store
      let paths = try detector.modelPaths(store: store)
      let runtime = try execution.makeRuntime()
      let pool = InferencePool(runtime: runtime, configuration: memory.configuration(execution: execution))
      let faceDetector = try detector.makeDetector(pool: pool, store: store)
      for backend in faceDetector.backends {
        for fallback in backend.session.fallbacks {
          printError("swapline: warning: \(fallback.provider.rawValue) unavailable, using the next provider: \(fallback.failure ?? "")")
        }
      }
      let rgb = picture.converted(toChannels: 3)
      let faces = try faceDetector.detect(rgb)
      var shapes: [[Point2]] = []
      if landmarks68 {
        let predictor = try SwapEngine.loadShapePredictor(from: store)
        shapes = faces.map { predictor.predict(in: rgb, box: $0.box) }
      }
      if json {
        let report = DetectionReport(image: image, width: picture.width, height: picture.height,
                                     models: paths.map { $0.1 },
                                     faces: faces.enumerated().map { DetectionReport.Face($1, shape: shapes.isEmpty ? nil : shapes[$0]) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
      } else {
        print("\(image): \(picture.width)x\(picture.height), \(faces.count) face\(faces.count == 1 ? "" : "s")")
        for (index, face) in faces.enumerated() {
          let box = face.box
          print(String(format: "face %d  score %.3f  box (%.1f, %.1f)-(%.1f, %.1f)", index, face.score, box.x1, box.y1, box.x2, box.y2))
          for (name, point) in zip(DetectedFace.landmarkNames, face.landmarks) {
            print(String(format: "    %-12@ (%.1f, %.1f)", name as NSString, point.x, point.y))
          }
          if !shapes.isEmpty { print("    68 points: " + shapes[index].map { String(format: "(%.0f,%.0f)", $0.x, $0.y) }.joined(separator: " ")) }
        }
      }
      if let output {
        let annotated = DetectionAnnotation.draw(faces, shapes: shapes, on: rgb)
        do {
          try ImageIO.write(annotated, to: output, quality: 90, textMetadata: [("swapline:detections", String(faces.count))])
        } catch { throw CLIError.failure("\(error)") }
      }
    }
  }
}

/// JSON shape of `swapline detect --json`.
struct DetectionReport: Codable {
  struct Face: Codable {
    var score: Float
    var box: [Float]
    var landmarks: [String: [Float]]
    /// dlib's 68 points (iBUG order) when --landmarks-68 was given.
    var landmarks68: [[Float]]?

    init(_ face: DetectedFace, shape: [Point2]?) {
      landmarks68 = shape?.map { [$0.x, $0.y] }
      score = face.score
      box = [face.box.x1, face.box.y1, face.box.x2, face.box.y2]
      landmarks = Dictionary(uniqueKeysWithValues: zip(DetectedFace.landmarkNames, face.landmarks.map { [$0.x, $0.y] }))
    }
  }

  var image: String
  var width: Int
  var height: Int
  var models: [String]
  var faces: [Face]
}
