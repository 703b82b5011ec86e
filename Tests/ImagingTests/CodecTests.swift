import Foundation
import Imaging
import Testing

@Suite struct CodecTests {
  @Test(arguments: [3, 4]) func pngRoundTripIsExact(channels: Int) throws {
    let image = Support.pattern(width: 37, height: 23, channels: channels)
    let decoded = try ImageIO.decode(ImageIO.encode(image, format: .png))
    #expect(decoded == image)
  }

  @Test(arguments: [3, 4]) func losslessWebPRoundTripIsExact(channels: Int) throws {
    let image = Support.pattern(width: 31, height: 17, channels: channels)
    let decoded = try ImageIO.decode(ImageIO.encode(image, format: .webp, quality: 100))
    #expect(decoded == image)
  }

  @Test func jpegAndLossyWebPStayClose() throws {
    let image = Support.pattern(width: 64, height: 48)
    let jpeg = try ImageIO.decode(ImageIO.encode(image, format: .jpeg, quality: 95))
    #expect(jpeg.channels == 3 && jpeg.width == 64 && jpeg.height == 48)
    #expect(Support.meanAbsoluteError(jpeg, image) < 4)
    let webp = try ImageIO.decode(ImageIO.encode(image, format: .webp, quality: 90))
    #expect(Support.meanAbsoluteError(webp, image) < 6)
  }

  @Test func formatComesFromContentNotExtension() throws {
    let directory = Support.temporaryDirectory()
    let path = directory + "/really_a_png.jpg"
    FileManager.default.createFile(atPath: path, contents: Data(try ImageIO.encode(Support.pattern(width: 8, height: 8), format: .png)))
    #expect(try ImageIO.read(path: path).width == 8)
    #expect(ImageFormat(pathExtension: "JPEG") == .jpeg)
    #expect(ImageFormat(pathExtension: "gif") == nil)
  }

  @Test(arguments: [(UInt16(6), true), (UInt16(3), false), (UInt16(8), true), (UInt16(2), false)])
  func exifOrientationIsApplied(orientation: UInt16, bigEndian: Bool) throws {
    // A 40x20 image, left half black, right half white, stored with an orientation tag.
    var stored = Image(width: 40, height: 20, channels: 3, fill: 0)
    for y in 0..<20 { for x in 20..<40 { for k in 0..<3 { stored.pixels[(y * 40 + x) * 3 + k] = 255 } } }
    let bytes = try Support.jpegWithOrientation(stored, orientation: orientation, bigEndian: bigEndian)
    let upright = try ImageIO.decode(bytes)
    func brightness(_ x: Int, _ y: Int) -> UInt8 { upright.pixels[(y * upright.width + x) * 3] }
    switch orientation {
    case 6:  // stored rotated: display turns it clockwise, so the white half ends at the bottom
      #expect(upright.width == 20 && upright.height == 40)
      #expect(brightness(10, 35) > 200 && brightness(10, 5) < 50)
    case 8:  // counter-clockwise: the white half ends at the top
      #expect(upright.width == 20 && upright.height == 40)
      #expect(brightness(10, 5) > 200 && brightness(10, 35) < 50)
    default:  // 3 (180 degrees) and 2 (mirror) both move the white half to the left
      #expect(upright.width == 40 && upright.height == 20)
      #expect(brightness(5, 10) > 200 && brightness(35, 10) < 50)
    }
  }

  @Test func malformedExifIsIgnored() throws {
    // Not square, so an orientation wrongly applied (6 = a quarter turn) would swap the sides.
    let image = Support.pattern(width: 12, height: 8)
    var bytes = try Support.jpegWithOrientation(image, orientation: 6, bigEndian: false)
    #expect(try ImageIO.decode(bytes).width == 8)  // intact EXIF: turned
    bytes[12] = 0x42  // break the TIFF byte-order mark
    let decoded = try ImageIO.decode(bytes)
    #expect(decoded.width == 12 && decoded.height == 8)
  }
}
