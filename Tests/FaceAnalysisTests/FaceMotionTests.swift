import FaceAnalysis
import Foundation
import Imaging
import Testing

/// FaceMotion on a real photo moved by a known transform: the measured movement is that
/// transform, whatever the starting guess within its reach.
struct FaceMotionTests {
  /// astronaut.png's face (a 512x512 photo; the face is about x 170-330, y 60-260).
  static let box = BoundingBox(x1: 170, y1: 60, x2: 330, y2: 260)

  /// The photo turned by `degrees` about (250, 160), scaled by `scale` and shifted by `shift`.
  static func moved(_ image: Image, degrees: Double = 0, scale: Double = 1, shift: (Double, Double)) -> (Image, Imaging.AffineTransform) {
    let angle = degrees * Double.pi / 180
    let (cosine, sine) = (scale * cos(angle), scale * sin(angle))
    let (px, py) = (250.0, 160.0)
    let transform = Imaging.AffineTransform(a: cosine, b: -sine, tx: px - cosine * px + sine * py + shift.0,
                                    c: sine, d: cosine, ty: py - sine * px - cosine * py + shift.1)
    return (image.warpedAffine(transform, width: image.width, height: image.height), transform)
  }

  @Test(arguments: [(3.0, -2.0), (-6.5, 4.25), (0.0, 0.0)])
  func aShiftIsMeasuredToAFractionOfAPixel(dx: Double, dy: Double) throws {
    let photo = try Fixtures.sample("astronaut.png")
    let (shifted, _) = Self.moved(photo, shift: (dx, dy))
    for guess in [Point2(0, 0), Point2(Float(dx) + 2, Float(dy) - 2)] {
      let movement = try #require(FaceMotion.movement(from: GreyFrame(photo), to: GreyFrame(shifted), box: Self.box, guess: guess))
      let centre = movement.apply(Point2(250, 160))
      print("shift (\(dx), \(dy)), guess \(guess): centre moved to \(centre), a \(movement.a) b \(movement.b)")
      #expect(abs(centre.x - 250 - Float(dx)) < 0.3 && abs(centre.y - 160 - Float(dy)) < 0.3)
      #expect(abs(movement.a - 1) < 0.01 && abs(movement.b) < 0.01)
    }
  }

  /// A head tilt: 2 degrees and 2% larger, plus a shift (more than a face turns between two
  /// frames); the movement maps face points where the transform took them (within half a pixel
  /// across the face).
  @Test func aTurnAndScaleAreMeasured() throws {
    let photo = try Fixtures.sample("astronaut.png")
    let (moved, transform) = Self.moved(photo, degrees: 2, scale: 1.02, shift: (2, 1))
    let movement = try #require(FaceMotion.movement(from: GreyFrame(photo), to: GreyFrame(moved), box: Self.box, guess: Point2(2, 1)))
    for point in [Point2(200, 100), Point2(300, 100), Point2(250, 230), Point2(190, 200)] {
      let expected = transform.apply(x: Double(point.x), y: Double(point.y))
      let measured = movement.apply(point)
      #expect(abs(Double(measured.x) - expected.x) < 0.5 && abs(Double(measured.y) - expected.y) < 0.5,
              "\(point): measured \(measured), expected \(expected)")
    }
  }

  /// A flat picture has nothing to match: no movement rather than a guess.
  @Test func aFlatBoxHasNoMovement() throws {
    let grey = try Image(width: 400, height: 300, channels: 3, pixels: [UInt8](repeating: 128, count: 400 * 300 * 3))
    #expect(FaceMotion.movement(from: GreyFrame(grey), to: GreyFrame(grey), box: BoundingBox(x1: 100, y1: 50, x2: 300, y2: 250)) == nil)
  }
}
