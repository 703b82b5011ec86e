import Foundation
import Imaging
import Testing

@Suite struct MaskTests {
  @Test func boxMaskIsOneInsideZeroAtTheEdgesAndSymmetric() {
    let mask = Mask.box(width: 128, height: 128, blur: 0.3)
    #expect(mask[64, 64] > 0.999)
    // A 9-pixel zero band blurred with sigma 4.75 leaves a small tail at the very edge, as in FaceFusion.
    #expect(mask[0, 64] < 0.1 && mask[127, 64] < 0.1 && mask[64, 0] < 0.1 && mask[64, 127] < 0.1)
    for y in stride(from: 0, to: 128, by: 7) {
      for x in stride(from: 0, to: 128, by: 5) {
        #expect(abs(mask[x, y] - mask[127 - x, y]) < 1e-5 && abs(mask[x, y] - mask[x, 127 - y]) < 1e-5)
      }
    }
    // Rising monotonically from the edge to the centre along the middle row.
    for x in 1...64 { #expect(mask[x, 64] >= mask[x - 1, 64] - 1e-6) }
    // No blur: a hard band of one pixel; padding widens it.
    let hard = Mask.box(width: 10, height: 10, blur: 0)
    #expect(hard[0, 5] == 0 && hard[1, 5] == 1 && hard[9, 5] == 0)
    let padded = Mask.box(width: 100, height: 100, blur: 0, padding: (top: 20, right: 0, bottom: 0, left: 0))
    #expect(padded[50, 19] == 0 && padded[50, 20] == 1)
  }

  @Test func gaussianBlurKeepsConstantsAndMass() {
    let flat = Mask(width: 20, height: 15, fill: 0.7).gaussianBlurred(sigma: 2)
    #expect(flat.values.allSatisfy { abs($0 - 0.7) < 1e-5 })
    var dot = Mask(width: 41, height: 41)
    dot.values[20 * 41 + 20] = 1
    let blurred = dot.gaussianBlurred(sigma: 3)
    #expect(abs(blurred.values.reduce(0, +) - 1) < 1e-4)
    #expect(blurred[20, 20] == blurred.values.max())
    #expect(abs(blurred[17, 20] - blurred[23, 20]) < 1e-7)
  }

  @Test func minimumCombinesMasks() {
    let a = Mask(width: 2, height: 1, values: [0.2, 0.9]), b = Mask(width: 2, height: 1, values: [0.5, 0.4])
    #expect(a.minimum(b).values == [0.2, 0.4])
  }

  @Test func pasteBackTouchesOnlyTheCropAreaAndRoundTrips() {
    let frame = Support.pattern(width: 96, height: 80)
    // A crop of 32x32 around (48, 40), slightly rotated and scaled.
    let angle = 0.2
    let transform = AffineTransform(a: 0.8 * cos(angle), b: 0.8 * sin(angle), tx: -20, c: -0.8 * sin(angle), d: 0.8 * cos(angle), ty: -10)
    let crop = frame.warpedAffine(transform, width: 32, height: 32)
    // Paste a flat grey crop: everything outside the crop's footprint stays byte-identical.
    let grey = Image(width: 32, height: 32, channels: 3, fill: 128)
    let pasted = frame.pastingBack(grey, mask: Mask(width: 32, height: 32, fill: 1), transform: transform)
    var changed = 0
    for y in 0..<80 {
      for x in 0..<96 {
        let p = transform.apply(x: Double(x), y: Double(y))
        let inside = p.x > -1 && p.y > -1 && p.x < 32 && p.y < 32
        let offset = (y * 96 + x) * 3
        if !inside { #expect(pasted.pixels[offset..<(offset + 3)] == frame.pixels[offset..<(offset + 3)]) }
        if pasted.pixels[offset] != frame.pixels[offset] { changed += 1 }
      }
    }
    #expect(changed > 500)
    // Pasting the frame's own crop back changes the interior by little (two bilinear resamplings).
    let roundTrip = frame.pastingBack(crop, mask: Mask.box(width: 32, height: 32, blur: 0.3), transform: transform)
    #expect(Support.meanAbsoluteError(roundTrip, frame) < 2)
  }
}
