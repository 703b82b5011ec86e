import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime
import Processors
import Testing

/// A fixture that could not be set up: thrown into each test that uses it, so a missing file or
/// runtime fails those tests with this message and the rest of the suite still runs.
struct FixtureError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// The classic swapper on real photos: grace_hopper's face into astronaut.png.
@Suite(.serialized) struct ClassicSwapperTests {
  private static let rootResult = Result<String, any Error> {
    var directory = (#filePath as NSString).deletingLastPathComponent
    while directory != "/" {
      if FileManager.default.fileExists(atPath: directory + "/vendor/onnxruntime") { return directory }
      directory = (directory as NSString).deletingLastPathComponent
    }
    throw FixtureError("vendor/onnxruntime not found above \(#filePath): run `make setup`")
  }

  static var root: String { get throws { try rootResult.get() } }

  struct Fixture {
    let detector: FaceDetector
    let predictor: ShapePredictor
    let source: Image
    let target: Image
    let targetFace: DetectedFace
    let targetShape: [Point2]
    let result: SwapResult
  }

  /// Loaded once; a failure (missing model, sample or runtime) is thrown into every test that uses it.
  private static let fixtureResult = Result<Fixture, any Error> {
    do {
      let runtime = try OrtRuntime(locator: OrtLibraryLocator(currentDirectory: root), threading: ThreadingOptions(intraOpThreads: 2))
      let session = try InferenceSession(runtime: runtime, modelPath: root + "/models/scrfd_2.5g_kps.onnx")
      let detector = FaceDetector(backends: [.init(family: .scrfd, session: session)], options: FaceDetectorOptions())
      let predictor = try ShapePredictor(contentsOf: root + "/models/shape_predictor_68_face_landmarks.dat")
      let source = try ImageIO.read(path: root + "/samples/grace_hopper.jpg").converted(toChannels: 3)
      let target = try ImageIO.read(path: root + "/samples/astronaut.png").converted(toChannels: 3)
      func shape(_ face: DetectedFace, _ image: Image) -> [Point2] { predictor.predict(in: image, box: face.box) }
      guard let sourceFace = try detector.detect(source).first, let targetFace = try detector.detect(target).first else {
        throw FixtureError("no face detected in grace_hopper.jpg or astronaut.png")
      }
      let targetShape = shape(targetFace, target)
      let swapper = ClassicFaceSwapper(referenceShape: predictor.meanShape)
      let result = swapper.swap(source: source, sourceShape: shape(sourceFace, source), target: target, targetShape: targetShape)
      return Fixture(detector: detector, predictor: predictor, source: source, target: target, targetFace: targetFace,
                     targetShape: targetShape, result: result)
    } catch {
      throw FixtureError("classic swapper fixture: \(error)")
    }
  }

  static var fixture: Fixture { get throws { try fixtureResult.get() } }

  func pixel(_ image: Image, _ x: Int, _ y: Int) -> [Int] {
    let offset = (y * image.width + x) * 3
    return (0..<3).map { Int(image.pixels[offset + $0]) }
  }

  @Test func pixelsOutsideThePastedRegionAreUnchanged() throws {
    let f = try Self.fixture
    let region = f.result.region
    #expect(region.width > 50 && region.height > 50)
    for y in stride(from: 0, to: f.target.height, by: 1) {
      for x in stride(from: 0, to: f.target.width, by: 1) {
        let inside = x >= region.x && x < region.x + region.width && y >= region.y && y < region.y + region.height
        if !inside && pixel(f.result.image, x, y) != pixel(f.target, x, y) {
          Issue.record("pixel (\(x), \(y)) outside the region changed")
          return
        }
      }
    }
  }

  @Test func theFaceRegionChanged() throws {
    let f = try Self.fixture
    let mask = try #require(f.result.mask)
    var difference = 0.0, count = 0
    for y in 0..<mask.height {
      for x in 0..<mask.width where mask[x, y] > 0.9 {
        let a = pixel(f.result.image, f.result.region.x + x, f.result.region.y + y), b = pixel(f.target, f.result.region.x + x, f.result.region.y + y)
        difference += Double(zip(a, b).map { abs($0 - $1) }.reduce(0, +)) / 3
        count += 1
      }
    }
    #expect(count > 3000)  // the face interior is thousands of pixels
    // Two different people: the interior differs by far more than JPEG-level noise (~2-3).
    #expect(difference / Double(count) > 15)
  }

  @Test func theTargetGeometryIsKept() throws {
    let f = try Self.fixture
    let faces = try f.detector.detect(f.result.image)
    #expect(faces.count == 1)
    let face = try #require(faces.first)
    // Detector keypoints on the output stay near the target's: the swapped face has the
    // target's pose and proportions. 6 px is about 13% of the 46 px between the eyes.
    for (found, original) in zip(face.landmarks, f.targetFace.landmarks) {
      #expect(hypot(found.x - original.x, found.y - original.y) < 6)
    }
  }

  /// No visible seam. D = output - target is the change we made, low-passed (Gaussian, sigma
  /// 2 px) so skin texture and wrinkles of the new face do not count, only colour and shading.
  /// A seam is where that smoothed change jumps from one pixel to the next at the mask's edge:
  /// for every point on the mask's 50% contour (left edges along rows) we take the largest
  /// one-pixel jump within 4 px either side, averaged over channels, then the mean over the
  /// contour. A hard paste of the same face (no feather, no colour transfer, no multi-band blend)
  /// is measured too and must score clearly worse, which shows the metric sees seams.
  /// Measured on grace_hopper -> astronaut: blended 4.8, hard paste 9.2 levels per pixel. The
  /// blend is a ramp of ~40 levels spread over ~9 px of feather; a step of the same size is what
  /// reads as a cut-out edge. Bound: under 6 levels per pixel, and at most 2/3 of a hard paste.
  @Test func thereIsNoVisibleSeam() throws {
    let f = try Self.fixture
    func seam(_ result: SwapResult) throws -> Double {
      let mask = try #require(result.mask)
      let (w, h) = (mask.width, mask.height)
      let change = (0..<3).map { channel -> Mask in
        var values = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
          for x in 0..<w {
            values[y * w + x] = Float(pixel(result.image, result.region.x + x, result.region.y + y)[channel]
              - pixel(f.target, result.region.x + x, result.region.y + y)[channel])
          }
        }
        return Mask(width: w, height: h, values: values).gaussianBlurred(sigma: 2)
      }
      var total = 0.0, count = 0
      for y in 0..<h {
        for x in 5..<(w - 5) where mask[x, y] >= 0.5 && mask[x - 1, y] < 0.5 {
          var largest = 0.0
          for k in -4..<4 {
            largest = max(largest, change.map { Double(abs($0[x + k + 1, y] - $0[x + k, y])) }.reduce(0, +) / 3)
          }
          total += largest
          count += 1
        }
      }
      #expect(count > 20)
      return total / Double(max(count, 1))
    }
    let blended = try seam(f.result)
    let sticker = ClassicFaceSwapper(referenceShape: f.predictor.meanShape,
                                     options: ClassicSwapOptions(feather: 0.001, blendLevels: 1, colourTransfer: false))
    let sourceFace = try f.detector.detect(f.source)[0]
    let sourceShape = f.predictor.predict(in: f.source, box: sourceFace.box)
    let hardPaste = try seam(sticker.swap(source: f.source, sourceShape: sourceShape, target: f.target, targetShape: f.targetShape))
    #expect(blended < 6, "seam step \(blended)")
    #expect(hardPaste > 1.5 * blended, "hard paste \(hardPaste) vs blended \(blended)")
  }

  @Test func delaunayCoversTheShapeWithoutDegenerateTriangles() throws {
    let shape = try Self.fixture.predictor.meanShape
    let triangles = Delaunay.triangulate(shape)
    // A planar triangulation of n points with h on the hull has 2n - 2 - h triangles.
    #expect(triangles.count > 100 && triangles.count < 2 * 68)
    for (a, b, c) in triangles {
      let area = (shape[b].x - shape[a].x) * (shape[c].y - shape[a].y) - (shape[b].y - shape[a].y) * (shape[c].x - shape[a].x)
      #expect(area > 0)
    }
  }
}

extension ClassicSwapperTests {
  /// In-plane rotation and a different head size: the astronaut turned 20 degrees and shrunk to 70%.
  @Test func handlesRotatedAndSmallerFaces() throws {
    let f = try Self.fixture
    let angle = 20.0 * Double.pi / 180, scale = 0.7
    let tilt = AffineTransform(a: scale * cos(angle), b: -scale * sin(angle), tx: 150,
                               c: scale * sin(angle), d: scale * cos(angle), ty: 0)
    let target = f.target.warpedAffine(tilt, width: 512, height: 512, border: .replicate)
    let face = try #require(try f.detector.detect(target).first)
    let shape = f.predictor.predict(in: target, box: face.box)
    let sourceFace = try f.detector.detect(f.source)[0]
    let swapper = ClassicFaceSwapper(referenceShape: f.predictor.meanShape)
    let result = swapper.swap(source: f.source, sourceShape: f.predictor.predict(in: f.source, box: sourceFace.box), target: target, targetShape: shape)
    let again = try #require(try f.detector.detect(result.image).first)
    for (found, original) in zip(again.landmarks, face.landmarks) {
      #expect(hypot(found.x - original.x, found.y - original.y) < 5)
    }
    // The eye line keeps the target's tilt.
    let tiltFound = atan2(Double(again.landmarks[1].y - again.landmarks[0].y), Double(again.landmarks[1].x - again.landmarks[0].x))
    let tiltTarget = atan2(Double(face.landmarks[1].y - face.landmarks[0].y), Double(face.landmarks[1].x - face.landmarks[0].x))
    #expect(abs(tiltFound - tiltTarget) < 0.08)
    #expect(result.image != target)
  }
}
