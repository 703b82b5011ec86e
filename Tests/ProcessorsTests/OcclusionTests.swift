import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime
import Processors
import Testing

/// A blue "scarf" over the jaw must stay visible through a swap when occlusion or region masks
/// are on. Stand-ins: an xseg and a bisenet that call saturated blue an occluder, and a
/// hyperswap that inverts the face, so every swapped pixel visibly changes.
@Suite(.serialized) struct OcclusionTests {
  struct Scene {
    let frame: Image
    let landmarks: [Point2]
    let scarf: (x: Int, y: Int, width: Int, height: Int)
  }

  private static let sceneResult = Result<Scene, any Error> {
    let f = try ClassicSwapperTests.fixture
    var frame = f.target
    // A 60x26 blue band over the chin (the astronaut's jaw is around y 150-180).
    let jaw = f.targetShape[8]
    let scarf = (x: Int(jaw.x) - 30, y: Int(jaw.y) - 30, width: 60, height: 26)
    for y in scarf.y..<(scarf.y + scarf.height) {
      for x in scarf.x..<(scarf.x + scarf.width) {
        let offset = (y * frame.width + x) * 3
        frame.pixels[offset] = 10
        frame.pixels[offset + 1] = 20
        frame.pixels[offset + 2] = 240
      }
    }
    return Scene(frame: frame, landmarks: f.targetFace.landmarks, scarf: scarf)
  }

  static var scene: Scene { get throws { try sceneResult.get() } }

  static func session(_ file: String) throws -> InferenceSession {
    try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: NeuralSwapperTests.model(file))
  }

  func swapped(_ masks: FaceMaskOptions) throws -> Image {
    let swapper = try NeuralFaceSwapper(spec: try #require(ModelCatalog.spec(named: "hyperswap_1a_256")),
                                        session: try Self.session("hyperswap_1a_256_negative.onnx"))
    let source = Tensor(shape: [1, 512], floats: [Float](repeating: 0, count: 512))
    let scene = try Self.scene
    return try swapper.swap(frame: scene.frame, landmarks: scene.landmarks, source: source, masks: masks,
                            landmarks68: try ClassicSwapperTests.fixture.targetShape)
  }

  /// Mean absolute change over the scarf's interior (8 px in from its edges), and over the cheeks.
  func changes(_ output: Image) throws -> (scarf: Double, face: Double) {
    let scene = try Self.scene
    let s = scene.scarf, frame = scene.frame
    func mean(_ xs: Range<Int>, _ ys: Range<Int>) -> Double {
      var total = 0, count = 0
      for y in ys { for x in xs { for k in 0..<3 {
        let offset = (y * frame.width + x) * 3 + k
        total += abs(Int(output.pixels[offset]) - Int(frame.pixels[offset]))
        count += 1
      } } }
      return Double(total) / Double(count)
    }
    let eyes = scene.landmarks
    let cheekY = Int((eyes[0].y + eyes[3].y) / 2)
    return (mean((s.x + 8)..<(s.x + s.width - 8), (s.y + 8)..<(s.y + s.height - 8)),
            mean(Int(eyes[0].x)..<Int(eyes[1].x), (cheekY - 3)..<(cheekY + 3)))
  }

  @Test func withoutOcclusionTheScarfIsSwappedAway() throws {
    let result = try changes(swapped(FaceMaskOptions(types: [.box])))
    #expect(result.face > 40 && result.scarf > 40, "\(result)")
  }

  @Test func occlusionMaskKeepsTheScarf() throws {
    let result = try changes(swapped(FaceMaskOptions(types: [.box, .occlusion], occluders: [try Self.session("xseg_1_bluescarf.onnx")])))
    #expect(result.scarf < 1, "\(result)")
    #expect(result.face > 40, "\(result)")
  }

  @Test func regionMaskKeepsTheScarf() throws {
    let result = try changes(swapped(FaceMaskOptions(types: [.box, .region], parser: try Self.session("bisenet_resnet_34_bluescarf.onnx"))))
    #expect(result.scarf < 1, "\(result)")
    #expect(result.face > 40, "\(result)")
  }

  @Test func areaMaskCoversTheJawEvenUnderTheScarf() throws {
    // Landmark areas follow the (hallucinated) jaw: as in FaceFusion, they do not protect the scarf.
    let result = try changes(swapped(FaceMaskOptions(types: [.box, .area])))
    #expect(result.scarf > 20 && result.face > 40, "\(result)")
    let mouthOnly = try changes(swapped(FaceMaskOptions(types: [.area], areas: [.mouth])))
    #expect(mouthOnly.face < 1, "cheeks are outside the mouth area: \(mouthOnly)")
  }
}
