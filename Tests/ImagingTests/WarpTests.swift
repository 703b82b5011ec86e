import Foundation
import Imaging
import Testing

@Suite struct WarpTests {
  @Test func similarityFitRecoversAKnownTransformExactly() throws {
    // Scale 1.7, rotation 23 degrees, translation (12, -5), applied to five scattered points.
    let angle = 23.0 * .pi / 180, scale = 1.7
    let truth = AffineTransform(a: scale * cos(angle), b: -scale * sin(angle), tx: 12,
                                c: scale * sin(angle), d: scale * cos(angle), ty: -5)
    let source: [(x: Double, y: Double)] = [(10, 20), (40, 22), (25, 35), (12, 50), (38, 49)]
    let target = source.map { truth.apply(x: $0.x, y: $0.y) }
    let fitted = try #require(AffineTransform.similarity(from: source, to: target))
    for (got, want) in [(fitted.a, truth.a), (fitted.b, truth.b), (fitted.tx, truth.tx), (fitted.c, truth.c),
                        (fitted.d, truth.d), (fitted.ty, truth.ty)] {
      #expect(abs(got - want) < 1e-9)
    }
    let roundTrip = try #require(fitted.inverted).concatenating(after: fitted)
    #expect(abs(roundTrip.a - 1) < 1e-12 && abs(roundTrip.b) < 1e-12 && abs(roundTrip.tx) < 1e-9)
    #expect(AffineTransform.similarity(from: [(1, 1), (1, 1)], to: [(0, 0), (5, 5)]) == nil)
  }

  @Test func similarityFitIsLeastSquaresForNoisyPoints() throws {
    // Target stretches x by 2.1 and y by 2.0: the best isotropic scale is their mean, 2.05, with
    // translation 10 - 2.05 * 5 = -0.25 (centroids map onto each other).
    let source: [(x: Double, y: Double)] = [(0, 0), (10, 0), (0, 10), (10, 10)]
    let target: [(x: Double, y: Double)] = [(-0.5, 0), (20.5, 0), (-0.5, 20), (20.5, 20)]
    let fitted = try #require(AffineTransform.similarity(from: source, to: target))
    #expect(abs(fitted.a - 2.05) < 1e-9 && abs(fitted.b) < 1e-9 && abs(fitted.tx + 0.25) < 1e-9 && abs(fitted.ty + 0.25) < 1e-9)
  }

  @Test func identityWarpKeepsEveryPixel() {
    let image = Support.pattern(width: 19, height: 11)
    #expect(image.warpedAffine(.identity, width: 19, height: 11) == image)
  }

  @Test func integerTranslationShiftsAndReplicatesTheBorder() {
    let image = Support.pattern(width: 16, height: 8)
    let shifted = image.warpedAffine(AffineTransform(a: 1, b: 0, tx: 3, c: 0, d: 1, ty: 2), width: 16, height: 8)
    func pixel(_ picture: Image, _ x: Int, _ y: Int) -> [UInt8] { Array(picture.pixels[((y * 16 + x) * 3)..<((y * 16 + x) * 3 + 3)]) }
    #expect(pixel(shifted, 10, 5) == pixel(image, 7, 3))
    #expect(pixel(shifted, 0, 0) == pixel(image, 0, 0))  // replicated corner
    let black = image.warpedAffine(AffineTransform(a: 1, b: 0, tx: 3, c: 0, d: 1, ty: 2), width: 16, height: 8, border: .constant(0))
    #expect(pixel(black, 0, 0) == [0, 0, 0])
    #expect(pixel(black, 10, 5) == pixel(image, 7, 3))
  }

  @Test func halfPixelShiftAveragesNeighbours() throws {
    let image = try Image(width: 2, height: 1, channels: 3, pixels: [0, 0, 0, 200, 200, 200])
    let shifted = image.warpedAffine(AffineTransform(a: 1, b: 0, tx: -0.5, c: 0, d: 1, ty: 0), width: 1, height: 1)
    #expect(shifted.pixels == [100, 100, 100])
  }
}
