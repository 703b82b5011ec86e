import Imaging
import Testing

@Suite struct KernelTests {
  func grey(_ width: Int, _ height: Int, _ values: [UInt8]) -> Image {
    try! Image(width: width, height: height, channels: 3, pixels: values.flatMap { [$0, $0, $0] })
  }

  func values(_ image: Image) -> [UInt8] { stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] } }

  @Test func bilinearDownscaleUsesHalfPixelCentres() {
    // 4x1 -> 2x1: destination centres fall at source 0.5 and 2.5 (OpenCV INTER_LINEAR).
    let image = grey(4, 1, [0, 100, 200, 240])
    #expect(values(image.resizedBilinear(width: 2, height: 1)) == [50, 220])
  }

  @Test func bilinearUpscaleClampsAtTheBorders() {
    // 2x1 -> 4x1: source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    let image = grey(2, 1, [0, 200])
    #expect(values(image.resizedBilinear(width: 4, height: 1)) == [0, 50, 150, 200])
  }

  @Test func areaResizeAveragesBlocks() {
    let image = grey(4, 2, [0, 100, 200, 40, 20, 60, 80, 120])
    #expect(values(image.resizedArea(width: 2, height: 1)) == [45, 110])
  }

  @Test func quarterTurnsMoveCornersClockwise() {
    // 2x3 image with values 0...5 in row-major order:
    // 0 1
    // 2 3
    // 4 5
    let image = grey(2, 3, [0, 1, 2, 3, 4, 5])
    let once = image.rotated(quarterTurns: 1)
    #expect(once.width == 3 && once.height == 2)
    #expect(values(once) == [4, 2, 0, 5, 3, 1])
    #expect(values(image.rotated(quarterTurns: 2)) == [5, 4, 3, 2, 1, 0])
    #expect(values(image.rotated(quarterTurns: 3)) == [1, 3, 5, 0, 2, 4])
    #expect(image.rotated(quarterTurns: 4) == image)
    #expect(image.rotated(quarterTurns: -1) == image.rotated(quarterTurns: 3))
  }

  @Test func cropAndChannelConversion() {
    let image = grey(3, 3, [0, 1, 2, 3, 4, 5, 6, 7, 8])
    #expect(values(image.cropped(x: 1, y: 1, width: 2, height: 2)) == [4, 5, 7, 8])
    let rgba = image.converted(toChannels: 4)
    #expect(rgba.channels == 4 && rgba.pixels[3] == 255)
    #expect(rgba.converted(toChannels: 3) == image)
  }
}
