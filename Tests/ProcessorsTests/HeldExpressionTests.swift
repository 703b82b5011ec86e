import Foundation
import FaceAnalysis
import Processors
import Testing

/// The kept share of the target's eyes and mouth along a video track: a blink is kept at once,
/// a one-frame misreading of the eye as open is not let through.
struct HeldExpressionTests {
  @Test func keepingRisesAtOnceAndFallsAQuarterAFrame() {
    // A closed target eye, measured kept 0.9 for three frames, then one frame read as open (0),
    // then closed again.
    let measured: [Float] = [0.9, 0.9, 0.9, 0, 0.9, 0, 0, 0, 0, 0]
    var previous: KeptFeatures?
    var held: [Float] = []
    for value in measured {
      let next = ClassicFaceSwapper.held(KeptFeatures(eyes: [value, 0], mouth: 1 - value), after: previous)
      held.append(next.eyes[0])
      previous = next
    }
    print("measured \(measured) -> held \(held)")
    #expect(held[0] == 0.9)                     // the first frame as measured
    #expect(abs(held[3] - 0.65) < 1e-6)         // the misreading moves it by a quarter only
    #expect(held[4] == 0.9)                     // back at once
    #expect(abs(held[6] - 0.4) < 1e-6 && held[8] == 0)   // a real opening fades out in four frames
    #expect(previous!.mouth == 1)               // the mouth, rising each time, follows at once
  }

  /// A face's eyes (around x 80 and 120, y 100) and lips (around 100, 150); other points far off.
  static let face: [Point2] = (0..<68).map { index in
    switch index {
    case 36..<42: Point2(80 + Float(index - 36) * 3 - 7, 100)
    case 42..<48: Point2(120 + Float(index - 42) * 3 - 7, 100)
    case 48..<60: Point2(100 + 20 * cosf(Float(index - 48) / 12 * 2 * .pi), 150 + 8 * sinf(Float(index - 48) / 12 * 2 * .pi))
    default: Point2(-500, -500)
    }
  }

  /// 21 points of a hand: a square of `side` around `centre`.
  static func hand(at centre: Point2, side: Float) -> [Point2] {
    (0..<21).map { index in
      let corner = index % 4
      return Point2(centre.x + (corner == 0 || corner == 3 ? -side : side) / 2, centre.y + (corner < 2 ? -side : side) / 2)
    }
  }

  /// A hand over the mouth covers the lips only; one over the right eye that eye only; one a
  /// hand's width beside the face nothing.
  @Test func aHandCoversTheFeaturesUnderIt() {
    let mouth = ClassicFaceSwapper.covered(by: [Self.hand(at: Point2(100, 165), side: 40)], shape: Self.face)
    #expect(mouth == KeptFeatures(eyes: [0, 0], mouth: 0, lips: 1))
    let eye = ClassicFaceSwapper.covered(by: [Self.hand(at: Point2(130, 90), side: 20)], shape: Self.face)
    #expect(eye == KeptFeatures(eyes: [0, 1], mouth: 0, lips: 0))
    let beside = ClassicFaceSwapper.covered(by: [Self.hand(at: Point2(200, 150), side: 40)], shape: Self.face)
    #expect(beside == .none)
    #expect(ClassicFaceSwapper.covered(by: [], shape: Self.face) == .none)
  }
}

