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
}
