import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime
import Processors
import Testing

/// Zoo swapper plumbing on synthetic models with FaceFusion's input/output signatures
/// (scripts/make_test_models.py).
@Suite struct NeuralSwapperTests {
  private static let runtimeResult = Result<OrtRuntime, any Error> {
    do { return try OrtRuntime(locator: OrtLibraryLocator(currentDirectory: ClassicSwapperTests.root), threading: ThreadingOptions(intraOpThreads: 2)) }
    catch let error as FixtureError { throw error }
    catch { throw FixtureError("ONNX Runtime did not load: \(error)") }
  }

  static var runtime: OrtRuntime { get throws { try runtimeResult.get() } }

  /// A file under vendor/test-models (scripts/make_test_models.py); a missing one fails only the test that needs it.
  static func model(_ name: String) throws -> String {
    let path = try ClassicSwapperTests.root + "/vendor/test-models/" + name
    guard FileManager.default.fileExists(atPath: path) else { throw FixtureError("\(path) missing: run `make setup-dev`") }
    return path
  }

  static func swapper(_ spec: String, file: String) throws -> NeuralFaceSwapper {
    let session = try InferenceSession(runtime: runtime, modelPath: model(file))
    return try NeuralFaceSwapper(spec: try #require(ModelCatalog.spec(named: spec)), session: session)
  }

  @Test func readsInswappersEmapFromTheLastInitializer() throws {
    let emap = try OnnxInitializer.last(inModelAt: Self.model("inswapper_128_synthetic.onnx"))
    #expect(emap.name == "emap" && emap.dimensions == [512, 512] && emap.values.count == 512 * 512)
    #expect(throws: OnnxRuntimeError.self) { _ = try OnnxInitializer.last(inModelAt: "/nonexistent.onnx") }
  }

  @Test func inswapperGetsRawTimesEmapOverNorm() throws {
    let swapper = try Self.swapper("inswapper_128", file: "inswapper_128_synthetic.onnx")
    let raw = (0..<512).map { Float(cos(0.1 * Double($0))) }
    // Weight 0.5 mixes in none of the target: what the model sees is exactly the projection.
    let source = try swapper.sourceIdentity(source: FaceEmbedding(raw: raw), target: FaceEmbedding(raw: [Float](repeating: 1, count: 512)))
    let crop = Tensor(shape: [1, 3, 128, 128], floats: [Float](repeating: 0.5, count: 3 * 128 * 128))
    let fed = Array(try swapper.forward(crop: crop, source: source).floats().prefix(512))
    let data = try #require(FileManager.default.contents(atPath: try Self.model("swapper_expectations.json")))
    let expected = try #require((try JSONSerialization.jsonObject(with: data) as? [String: [Double]])?["inswapper_source"])
    #expect(expected.count == 512)
    let worst = zip(fed, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
    #expect(worst < 1e-4, "largest difference \(worst)")
  }

  @Test func identityWeightFollowsFaceFusionsMapping() throws {
    #expect(NeuralFaceSwapper.mixFactor(weight: 0) == 0.35)
    #expect(NeuralFaceSwapper.mixFactor(weight: 0.5) == 0)
    #expect(abs(NeuralFaceSwapper.mixFactor(weight: 1) + 0.35) < 1e-6)
    // hyperswap: normalised source, normalised target, mixed.
    let swapper = try Self.swapper("hyperswap_1a_256", file: "hyperswap_1a_256_identity.onnx")
    let source = FaceEmbedding(raw: [3, 4] + [Float](repeating: 0, count: 510))
    let target = FaceEmbedding(raw: [0, 0, 2] + [Float](repeating: 0, count: 509))
    let mixed = try swapper.sourceIdentity(source: source, target: target, weight: 0).floats()
    #expect(abs(mixed[0] - 0.6 * 0.65) < 1e-6 && abs(mixed[1] - 0.8 * 0.65) < 1e-6 && abs(mixed[2] - 0.35) < 1e-6)
  }

  /// A probe stand-in for one zoo swapper, and FaceFusion's constants for it, written out here from
  /// facefusion/processors/modules/face_swapper/core.py (create_static_model_set), not read from our catalog.
  struct Probe: Sendable, CustomStringConvertible {
    let spec: String
    let file: String
    let mean: [Double]
    let std: [Double]
    /// normalize_crop_frame de-normalises (x * std + mean) only for ghost, hififace, hyperswap and uniface.
    let denormalizes: Bool
    var description: String { spec }
  }

  static let probes = [
    Probe(spec: "inswapper_128", file: "inswapper_128_probe.onnx", mean: [0, 0, 0], std: [1, 1, 1], denormalizes: false),
    Probe(spec: "simswap_256", file: "simswap_256_probe.onnx", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], denormalizes: false),
    Probe(spec: "ghost_1_256", file: "ghost_1_256_probe.onnx", mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], denormalizes: true),
    Probe(spec: "hififace_unofficial_256", file: "hififace_unofficial_256_probe.onnx", mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],
          denormalizes: true),
  ]

  /// The colour FaceFusion's pipeline gives a uniform crop of `rgb` through the probe (output plane 0 =
  /// input plane 0, plane 1 = 0.5 x input plane 0, plane 2 = 0.25): prepare_crop_frame feeds RGB planes
  /// (x / 255 - mean) / std; normalize_crop_frame de-normalises where the family does, clips to [0, 1],
  /// scales by 255, and the planes are R, G, B again.
  static func expectedColour(_ probe: Probe, crop rgb: [Double]) -> [Double] {
    let red = (rgb[0] / 255 - probe.mean[0]) / probe.std[0]
    var planes = [red, 0.5 * red, 0.25]
    if probe.denormalizes { planes = (0..<3).map { planes[$0] * probe.std[$0] + probe.mean[$0] } }
    return planes.map { min(max($0, 0), 1) * 255 }
  }

  static func probeSwapper(_ probe: Probe) throws -> NeuralFaceSwapper {
    let session = try InferenceSession(runtime: runtime, modelPath: model(probe.file))
    let converter = try InferenceSession(runtime: runtime, modelPath: model("crossface_double.onnx"))
    return try NeuralFaceSwapper(spec: try #require(ModelCatalog.spec(named: probe.spec)), session: session,
                                 converter: probe.spec == "inswapper_128" ? nil : converter)
  }

  /// The probes have the zoo files' inputs (source [1, 512], target [1, 3, size, size]; inswapper's
  /// 512 x 512 emap as its last initializer) and output.
  @Test(arguments: probes)
  func probesHaveTheZooSignatures(probe: Probe) throws {
    let session = try InferenceSession(runtime: Self.runtime, modelPath: Self.model(probe.file))
    let size = probe.spec == "inswapper_128" ? 128 : 256
    let inputs = Dictionary(uniqueKeysWithValues: session.inputs.map { ($0.name, $0.shape) })
    #expect(inputs == ["source": [1, 512], "target": [1, 3, size, size]])
    #expect(session.outputs.map(\.shape) == [[1, 3, size, size]])
    #expect((session.inputs + session.outputs).allSatisfy { $0.elementType == .float32 })
    _ = try Self.probeSwapper(probe)  // inswapper: the last initializer is a 512 x 512 emap, or this throws
  }

  @Test func probeExpectationsAreWhatFaceFusionsFormulasGive() {
    // Worked by hand for the crop (160, 40, 220): x = 160 / 255 = 0.62745.
    let crop: [Double] = [160, 40, 220]
    let worked: [String: [Double]] = [
      "inswapper_128": [160, 80, 63.75],                       // x, x / 2, 0.25, each x 255
      "simswap_256": [158.63, 79.31, 63.75],                   // (x - 0.485) / 0.229 = 0.62206, not de-normalised
      "ghost_1_256": [160, 143.75, 159.375],                   // (2x - 1) * 0.5 + 0.5; (x - 0.5) / 2 + 0.5; 0.625
      "hififace_unofficial_256": [160, 143.75, 159.375],
    ]
    for probe in Self.probes {
      let colour = Self.expectedColour(probe, crop: crop), want = worked[probe.spec]!
      #expect(zip(colour, want).allSatisfy { abs($0 - $1) < 0.01 }, "\(probe.spec): \(colour)")
    }
  }

  /// The swapped crop's colour depends on the plane order fed in, the family's mean and std, whether
  /// the output is de-normalised, and the plane order read back: a uniform crop must come out exactly
  /// as FaceFusion's pipeline makes it (within 1 level: FaceFusion truncates where we round).
  @Test(arguments: probes)
  func swappedColourFollowsFaceFusionsNormalisation(probe: Probe) throws {
    let swapper = try Self.probeSwapper(probe)
    for rgb in [[160, 40, 220], [96, 210, 30]] as [[UInt8]] {
      var crop = Image(width: swapper.size, height: swapper.size, channels: 3)
      for index in 0..<(swapper.size * swapper.size) { for k in 0..<3 { crop.pixels[index * 3 + k] = rgb[k] } }
      let swapped = try swapper.swapCrop(crop, source: Tensor(shape: [1, 512], floats: [Float](repeating: 0, count: 512)))
      let want = Self.expectedColour(probe, crop: rgb.map(Double.init))
      let middle = (swapper.size / 2 * swapper.size + swapper.size / 2) * 3
      let got = (0..<3).map { Double(swapped.pixels[middle + $0]) }
      #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1 }, "\(probe.spec) on \(rgb): got \(got), expected \(want)")
    }
  }

  /// The same through the whole swap: crop to the template, swap, paste back. On a uniform frame the face
  /// centre (box mask 1) takes the swapped colour.
  @Test(arguments: probes)
  func pastedColourFollowsFaceFusionsNormalisation(probe: Probe) throws {
    let swapper = try Self.probeSwapper(probe)
    let rgb: [UInt8] = [160, 40, 220]
    var frame = Image(width: 320, height: 320, channels: 3)
    for index in 0..<(320 * 320) { for k in 0..<3 { frame.pixels[index * 3 + k] = rgb[k] } }
    let landmarks = [Point2(130, 140), Point2(190, 140), Point2(160, 175), Point2(135, 210), Point2(185, 210)]
    let source = Tensor(shape: [1, 512], floats: [Float](repeating: 0, count: 512))
    let swapped = try swapper.swap(frame: frame, landmarks: landmarks, source: source)
    let want = Self.expectedColour(probe, crop: rgb.map(Double.init))
    let nose = (175 * 320 + 160) * 3
    let got = (0..<3).map { Double(swapped.pixels[nose + $0]) }
    #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1 }, "\(probe.spec): got \(got), expected \(want)")
    #expect(Array(swapped.pixels[0..<3]) == rgb, "far from the face the frame is unchanged")
  }

  @Test func pixelBoostRoundTripIsLossless() throws {
    var crop = Image(width: 512, height: 512, channels: 3)
    for index in 0..<crop.pixels.count { crop.pixels[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) }
    let parts = PixelBoost.implode(crop, factor: 2)
    #expect(parts.count == 4 && parts.allSatisfy { $0.width == 256 })
    // Tile (0, 1) holds the odd columns of the even rows.
    #expect(Array(parts[1].pixels[0..<3]) == Array(crop.pixels[3..<6]))
    #expect(PixelBoost.explode(parts, factor: 2) == crop)
    let swapper = try Self.swapper("hyperswap_1a_256", file: "hyperswap_1a_256_identity.onnx")
    #expect(try swapper.swapCrop(crop, source: Tensor(shape: [1, 512], floats: [Float](repeating: 0, count: 512))) == crop)
  }

  @Test func familiesThatNeedAConverterRefuseToStartWithoutIt() throws {
    let session = try InferenceSession(runtime: Self.runtime, modelPath: Self.model("hyperswap_1a_256_identity.onnx"))
    #expect(throws: OnnxRuntimeError.self) {
      _ = try NeuralFaceSwapper(spec: try #require(ModelCatalog.spec(named: "simswap_256")), session: session)
    }
  }

  @Test func arcfaceEmbeddingsAreUnitLengthAndTellFacesApart() throws {
    let recognizer = FaceRecognizer(session: try InferenceSession(runtime: Self.runtime, modelPath: Self.model("arcface_w600k_r50_synthetic.onnx")))
    let f = try ClassicSwapperTests.fixture
    let target = try recognizer.embedding(of: f.target, landmarks: f.targetFace.landmarks)
    let sourceFace = try f.detector.detect(f.source)[0]
    let source = try recognizer.embedding(of: f.source, landmarks: sourceFace.landmarks)
    #expect(target.raw.count == 512)
    #expect(abs(target.normalized.map { $0 * $0 }.reduce(0, +) - 1) < 1e-4)
    // Deterministic: the same face embeds the same way twice.
    let again = try recognizer.embedding(of: f.target, landmarks: f.targetFace.landmarks)
    #expect(target.raw == again.raw)
    // FaceFusion's distance, recomputed here from the raw vectors: (1 - cosine) / 2.
    func norm(_ v: [Float]) -> Float { v.map { $0 * $0 }.reduce(0, +).squareRoot() }
    let cosine = zip(source.raw, target.raw).map(*).reduce(0, +) / (norm(source.raw) * norm(target.raw))
    #expect(abs(source.distance(to: target) - (1 - cosine) / 2) < 1e-5)
    // Two different people are clearly apart, even for the synthetic recogniser.
    #expect(source.distance(to: target) > 0.01, "\(source.distance(to: target))")
    let average = try #require(FaceEmbedding.average([source, target]))
    #expect(abs(average.raw[0] - (source.raw[0] + target.raw[0]) / 2) < 1e-5)
  }
}

/// Families with a crossface converter, and the source-image families.
@Suite struct SwapperFamilyTests {
  func fed(_ spec: String, raw: [Float], target: FaceEmbedding, weight: Float = 0.5) throws -> [Float] {
    let session = try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: NeuralSwapperTests.model("carrier_256.onnx"))
    let converter = try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: NeuralSwapperTests.model("crossface_double.onnx"))
    let swapper = try NeuralFaceSwapper(spec: try #require(ModelCatalog.spec(named: spec)), session: session, converter: converter)
    let source = try swapper.sourceIdentity(source: FaceEmbedding(raw: raw), target: target, weight: weight)
    let crop = Tensor(shape: [1, 3, 256, 256], floats: [Float](repeating: 0, count: 3 * 256 * 256))
    return Array(try swapper.forward(crop: crop, source: source).floats().prefix(512))
  }

  let raw: [Float] = (0..<512).map { Float(sin(Double($0) * 0.37)) }
  let target = FaceEmbedding(raw: (0..<512).map { Float(cos(Double($0) * 0.11)) })

  @Test func ghostFeedsTheConvertedRawEmbedding() throws {
    // ghost: crossface output as is (here 2 x raw), mixed with the raw target at weight 0.2 (w' = 0.21).
    let fed = try fed("ghost_1_256", raw: raw, target: target, weight: 0.2)
    let mix: Float = 0.35 - 0.7 * 0.2
    for index in [0, 100, 511] { #expect(abs(fed[index] - (2 * raw[index] * (1 - mix) + target.raw[index] * mix)) < 1e-4) }
  }

  @Test func simswapAndHififaceFeedTheNormalisedConvertedEmbedding() throws {
    let unit = FaceEmbedding(raw: raw).normalized
    for spec in ["simswap_256", "hififace_unofficial_256"] {
      let fed = try fed(spec, raw: raw, target: target, weight: 0)
      // w' = 0.35 with the L2-normalised target.
      for index in [3, 256, 500] { #expect(abs(fed[index] - (unit[index] * 0.65 + target.normalized[index] * 0.35)) < 1e-4, "\(spec)") }
    }
  }

  @Test func blendswapAndUnifaceTakeASourceFaceImage() throws {
    let f = try ClassicSwapperTests.fixture
    let session = try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: NeuralSwapperTests.model("carrier_256.onnx"))
    for (spec, side) in [("blendswap_256", 112), ("uniface_256", 256)] {
      let swapper = try NeuralFaceSwapper(spec: try #require(ModelCatalog.spec(named: spec)), session: session)
      #expect(swapper.type.takesSourceImage)
      let tensor = try swapper.sourceImage(f.target, landmarks: f.targetFace.landmarks)
      #expect(tensor.shape == [1, 3, side, side])
      let values = tensor.floats()
      #expect(values.min()! >= 0 && values.max()! <= 1 && values.max()! > 0.5)
      #expect(throws: OnnxRuntimeError.self) { _ = try swapper.sourceIdentity(source: f.dummy, target: f.dummy) }
    }
  }
}

extension ClassicSwapperTests.Fixture {
  var dummy: FaceEmbedding { FaceEmbedding(raw: [Float](repeating: 1, count: 512)) }
}
