import Processors
import Testing

/// The kept share of the target's eyes and mouth along a video track: a blink is kept at once,
/// a one-frame misreading of the eye as open is not let through.
struct HeldExpressionTests {
  @Test func keepingRisesAtOnceAndFallsAQuarterAFrame() {
    // A closed target eye, measured kept 0.9 for three frames, then one frame read as open (0),
    // then closed again.
    let measured: [Float] = [0.9, 0.9, 0.9, 0, 0.9, 0, 0, 0, 0, 0]
    var previous: (eyes: [Float], mouth: Float)?
    var held: [Float] = []
    for value in measured {
      let next = ClassicFaceSwapper.held((eyes: [value, 0], mouth: 1 - value), after: previous)
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
}
