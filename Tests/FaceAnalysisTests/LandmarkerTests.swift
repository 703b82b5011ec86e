import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime
import Testing

/// 2dfan4, peppa_wutz and fan_68_5 on probe stand-ins (scripts/make_test_models.py) whose outputs
/// depend on what they are fed: the expected results come from FaceFusion's contract as the
/// generator states it in numpy (landmarker_expectations.json) or as literals here, never from
/// FaceLandmarker's own transform.
@Suite struct LandmarkerTests {
  struct Scene: Decodable {
    let frame_size: [Int]
    let background_rgb: [UInt8]
    let box: [Float]
    let spot: [Int]
    let spot_radius: Int
    let spot_rgb: [UInt8]
    let wrong_channel_spot_rgb: [UInt8]
  }

  struct Decoded: Decodable {
    let points: [[Float]]
    let score: Float
  }

  struct Expectations: Decodable {
    let scene: Scene
    let twoDFan4: Decoded
    let peppaWutz: Decoded

    enum CodingKeys: String, CodingKey {
      case scene, twoDFan4 = "2dfan4", peppaWutz = "peppa_wutz"
    }

    func decoded(_ kind: FaceLandmarker.Kind) -> Decoded { kind == .twoDFan4 ? twoDFan4 : peppaWutz }
  }

  static let expectations = Result<Expectations, any Error> {
    try Fixtures.testModelJSON("landmarker_expectations.json", as: Expectations.self)
  }

  func session(_ name: String) throws -> InferenceSession {
    try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.testModel(name))
  }

  /// The scene's frame (RGB): uniform background, a (2r+1)-pixel square spot of `colour` centred on the scene's spot.
  func frame(_ scene: Scene, spot colour: [UInt8]) -> Image {
    var image = Image(width: scene.frame_size[0], height: scene.frame_size[1], channels: 3)
    for index in 0..<(image.width * image.height) {
      for k in 0..<3 { image.pixels[index * 3 + k] = scene.background_rgb[k] }
    }
    let r = scene.spot_radius
    for y in (scene.spot[1] - r)...(scene.spot[1] + r) {
      for x in (scene.spot[0] - r)...(scene.spot[0] + r) {
        for k in 0..<3 { image.pixels[(y * image.width + x) * 3 + k] = colour[k] }
      }
    }
    return image
  }

  func box(_ scene: Scene) -> BoundingBox { BoundingBox(x1: scene.box[0], y1: scene.box[1], x2: scene.box[2], y2: scene.box[3]) }

  static let probes: [(FaceLandmarker.Kind, String)] = [(.twoDFan4, "2dfan4_spot.onnx"), (.peppaWutz, "peppa_wutz_spot.onnx")]

  /// The probe finds the centroid of input plane 0 (blue, as FaceFusion feeds OpenCV's BGR crop) and
  /// reports it on the 64 grid plus a fixed offset per point; its score is the plane's maximum over the
  /// 2 x 2 crop pixels where FaceFusion's crop (195 / longer box side, centred in 256) puts the middle of the
  /// 3 x 3 spot. So the decoded points land where expected only if the crop is fed as BGR and mapped back
  /// through the inverse crop with FaceFusion's scale and the 256 / 64 factor, and the score is right only if
  /// the crop's placement (a shift of about 2 px loses the spot) and the / 255 scale are: spot blue 204 is 0.8,
  /// 2dfan4 score 0.72 x 0.8 / 0.9 = 0.64, peppa_wutz 0.855 x 0.8 / 0.95 = 0.72.
  @Test(arguments: probes)
  func decodedPointsLandOnABlueSpotAndTheScoreSeesIt(kind: FaceLandmarker.Kind, file: String) throws {
    let expectations = try Self.expectations.get(), scene = expectations.scene, want = expectations.decoded(kind)
    let landmarker = FaceLandmarker(kind: kind, session: try session(file))
    let result = try landmarker.landmarks(in: frame(scene, spot: scene.spot_rgb), box: box(scene))
    #expect(abs(want.score - (kind == .twoDFan4 ? 0.64 : 0.72)) < 1e-6)
    #expect(abs(result.score - want.score) < 1e-3, "score \(result.score), expected \(want.score)")
    #expect(result.points.count == 68 && want.points.count == 68)
    // Point 0 has no offset: it is the spot itself.
    #expect(want.points[0] == [Float(scene.spot[0]), Float(scene.spot[1])])
    for (index, (point, expected)) in zip(result.points, want.points).enumerated() {
      #expect(abs(point.x - expected[0]) < 0.25 && abs(point.y - expected[1]) < 0.25,
              "point \(index) at (\(point.x), \(point.y)), expected (\(expected[0]), \(expected[1]))")
    }
  }

  /// The same spot in red (blue 0): plane 0 of a BGR feed is empty, so the probe finds nothing, scores 0
  /// and reports the crop origin, far from the spot.
  @Test(arguments: probes)
  func aRedSpotIsNotInTheBluePlane(kind: FaceLandmarker.Kind, file: String) throws {
    let scene = try Self.expectations.get().scene
    let landmarker = FaceLandmarker(kind: kind, session: try session(file))
    let result = try landmarker.landmarks(in: frame(scene, spot: scene.wrong_channel_spot_rgb), box: box(scene))
    #expect(result.score < 1e-4, "score \(result.score)")
    let distance = hypot(result.points[0].x - Float(scene.spot[0]), result.points[0].y - Float(scene.spot[1]))
    #expect(distance > 20, "point 0 is \(distance) px from the red spot")
  }

  /// The probes keep the signatures FaceFusion's landmarker code relies on (one float input named input).
  @Test func probesHaveTheZooSignatures() throws {
    func signature(_ infos: [TensorInfo]) -> [String] { infos.map { "\($0.name) \($0.shape)" } }
    let fan = try session("2dfan4_spot.onnx"), peppa = try session("peppa_wutz_spot.onnx"), five = try session("fan_68_5_ffhq.onnx")
    #expect(signature(fan.inputs) == ["input [1, 3, 256, 256]"] && signature(peppa.inputs) == ["input [1, 3, 256, 256]"])
    #expect(signature(fan.outputs) == ["landmarks [1, 68, 3]", "heatmaps [1, 68, 64, 64]"])
    #expect(signature(peppa.outputs) == ["output [1, 204]"])
    #expect(signature(five.inputs) == ["input [1, 5, 2]"] && signature(five.outputs) == ["output [1, 68, 2]"])
    #expect((fan.inputs + fan.outputs + peppa.inputs + peppa.outputs + five.inputs + five.outputs).allSatisfy { $0.elementType == .float32 })
  }

  @Test func fiveFromSixtyEightOnlyWhenTheScoreIsGood() {
    let detector = (0..<5).map { Point2(Float($0), 0) }
    let points = (0..<68).map { Point2(Float($0), Float($0)) }
    #expect(FaceLandmarker.alignmentPoints(detector: detector, landmarks: FaceLandmarks68(points: points, score: 0.4)) == detector)
    let fromSixtyEight = FaceLandmarker.alignmentPoints(detector: detector, landmarks: FaceLandmarks68(points: points, score: 0.6))
    #expect(fromSixtyEight == [Point2(38.5, 38.5), Point2(44.5, 44.5), Point2(30, 30), Point2(48, 48), Point2(54, 54)])
  }

  /// FaceFusion's estimate_face_landmark_68_5 maps the five points through the similarity onto ffhq_512
  /// at size (1, 1), runs fan_68_5 there and maps the 68 back. The stand-in returns 2 x ffhq_512[i % 5] -
  /// input[i % 5]: for five points that are an exact similarity image of ffhq_512, a correct pipeline
  /// feeds it the template itself, gets the template back, and maps it onto the five points. A wrong
  /// template, or the template at another size than 1, moves the result.
  @Test func fan68From5WorksInTheUnitFfhq512Frame() throws {
    // ffhq_512 as FaceFusion's face_helper.py (WARP_TEMPLATE_SET) states it.
    let ffhq512: [(Double, Double)] = [(0.37691676, 0.46864664), (0.62285697, 0.46912813), (0.50123859, 0.61331904),
                                       (0.39308822, 0.72541100), (0.61150205, 0.72490465)]
    let angle = 12 * Double.pi / 180, scale = 180.0
    let five = ffhq512.map { x, y in
      Point2(Float(scale * (cos(angle) * x - sin(angle) * y) + 140), Float(scale * (sin(angle) * x + cos(angle) * y) + 95))
    }
    let estimator = Landmark68From5(session: try session("fan_68_5_ffhq.onnx"))
    let sixtyEight = try estimator.estimate(from: five)
    #expect(sixtyEight.count == 68)
    for (index, point) in sixtyEight.enumerated() {
      let expected = five[index % 5]
      #expect(abs(point.x - expected.x) < 0.01 && abs(point.y - expected.y) < 0.01,
              "point \(index) at (\(point.x), \(point.y)), expected (\(expected.x), \(expected.y))")
    }
  }
}
