import FaceAnalysis
import Foundation
import Imaging
import Testing

/// dlib's 68-point model read and evaluated by our own code.
@Suite(.serialized) struct ShapePredictorTests {
  static let predictorResult = Result<ShapePredictor, any Error> {
    try ShapePredictor(contentsOf: Fixtures.root + "/models/shape_predictor_68_face_landmarks.dat")
  }
  static var predictor: ShapePredictor { get throws { try predictorResult.get() } }

  @Test func readsTheDebianModel() throws {
    #expect(try Self.predictor.pointCount == 68)
  }

  @Test func rejectsAFileThatIsNotAPredictor() throws {
    let path = NSTemporaryDirectory() + "not-a-predictor-\(UUID().uuidString).dat"
    FileManager.default.createFile(atPath: path, contents: Data([0x01, 0x01, 0x7F, 0x00, 0x13]))
    #expect(throws: (any Error).self) { _ = try ShapePredictor(contentsOf: path) }
    #expect(throws: (any Error).self) { _ = try ShapePredictor(contentsOf: "/nonexistent.dat") }
  }

  @Test func landmarksOnGraceHopperFollowTheIbugLayout() throws {
    let image = try Fixtures.sample("grace_hopper.jpg")
    let face = try #require(try Fixtures.detector().detect(image).first)
    let points = try Self.predictor.predict(in: image, left: Int(face.box.x1), top: Int(face.box.y1),
                                        right: Int(face.box.x2), bottom: Int(face.box.y2))
    #expect(points.count == 68)
    func mean(_ range: Range<Int>) -> Point2 {
      Point2(range.map { points[$0].x }.reduce(0, +) / Float(range.count), range.map { points[$0].y }.reduce(0, +) / Float(range.count))
    }
    let leftEye = mean(36..<42), rightEye = mean(42..<48), noseTip = points[30], mouth = mean(48..<68)
    #expect(leftEye.x < rightEye.x && max(leftEye.y, rightEye.y) < noseTip.y && noseTip.y < mouth.y)
    // The 68-point eyes agree with the detector's 5-point eyes within a few pixels.
    #expect(abs(leftEye.x - face.landmarks[0].x) < 8 && abs(leftEye.y - face.landmarks[0].y) < 8)
    #expect(abs(rightEye.x - face.landmarks[1].x) < 8 && abs(rightEye.y - face.landmarks[1].y) < 8)
    // Jaw (0-16) runs left to right.
    #expect(points[0].x < points[8].x && points[8].x < points[16].x)
  }
}

/// Our predictor against dlib's own output (Tests/Data/dlib_shape_reference.json, made once with
/// the dlib PyPI package by scripts/make_dlib_reference.py) on the same boxes.
@Suite(.serialized) struct ShapePredictorReferenceTests {
  struct Reference: Decodable {
    struct Face: Decodable {
      let image: String
      let box: [Int]
      let points: [[Float]]
    }
    let faces: [Face]
  }

  @Test func matchesDlibWithinOnePixel() throws {
    let data = try #require(FileManager.default.contents(atPath: try Fixtures.root + "/Tests/Data/dlib_shape_reference.json"))
    let reference = try JSONDecoder().decode(Reference.self, from: data)
    #expect(reference.faces.count >= 8)
    var images: [String: Image] = [:]
    var worst: Float = 0
    for face in reference.faces {
      let image = try images[face.image] ?? Fixtures.sample(face.image)
      images[face.image] = image
      let points = try ShapePredictorTests.predictor.predict(in: image, left: face.box[0], top: face.box[1], right: face.box[2], bottom: face.box[3])
      for (ours, theirs) in zip(points, face.points) {
        // dlib rounds its output to whole pixels; compare our rounded point.
        let dx = abs((ours.x).rounded() - theirs[0]), dy = abs((ours.y).rounded() - theirs[1])
        worst = max(worst, dx, dy)
      }
    }
    #expect(worst <= 1, "largest difference \(worst) px")
  }
}
