import Foundation
import Imaging
import Testing

@Suite struct BadInputTests {
  func code(reading bytes: [UInt8]?, name: String = "input.png") -> ImageError.Code? {
    let directory = Support.temporaryDirectory()
    let path = directory + "/" + name
    if let bytes { FileManager.default.createFile(atPath: path, contents: Data(bytes)) }
    do {
      _ = try ImageIO.read(path: path)
      return nil
    } catch {
      #expect(error.message.contains(path))
      return error.code
    }
  }

  @Test func missingEmptyAndNonImageFilesFailClearly() {
    #expect(code(reading: nil) == .notFound)
    #expect(code(reading: []) == .empty)
    #expect(code(reading: Array("hello, this is text\n".utf8), name: "notes.jpg") == .unsupportedFormat)
    #expect(code(reading: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761) }) == .unsupportedFormat)
  }

  @Test func truncatedFilesAreCorruptNotACrash() throws {
    let image = Support.pattern(width: 64, height: 64)
    let png = try ImageIO.encode(image, format: .png)
    #expect(code(reading: Array(png.prefix(png.count / 2))) == .corrupt)
    let jpeg = try ImageIO.encode(image, format: .jpeg, quality: 90)
    #expect(code(reading: Array(jpeg.prefix(jpeg.count / 2)), name: "cut.jpg") == .corrupt)
    let webp = try ImageIO.encode(image, format: .webp, quality: 90)
    #expect(code(reading: Array(webp.prefix(webp.count / 2)), name: "cut.webp") == .corrupt)
  }

  @Test func absurdDimensionsAreRejectedFromTheHeader() throws {
    // A PNG whose IHDR claims 100000 x 100000 (valid CRC, no pixel data at all).
    var ihdr: [UInt8] = Array("IHDR".utf8)
    ihdr += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0]
    let crc = crc32(ihdr)
    let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + ihdr
      + [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
    let started = ContinuousClock.now
    #expect(code(reading: bytes) == .tooLarge)
    #expect(ContinuousClock.now - started < .seconds(1))
  }

  @Test func writingWithAnUnknownExtensionLeavesNoFile() {
    let directory = Support.temporaryDirectory()
    let path = directory + "/out.gif"
    #expect(throws: ImageError.self) { try ImageIO.write(Support.pattern(width: 4, height: 4), to: path) }
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect((try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty == true)
  }

  @Test func writingIntoAMissingFolderFailsWithoutLeftovers() {
    let path = Support.temporaryDirectory() + "/no/such/folder/out.png"
    #expect { try ImageIO.write(Support.pattern(width: 4, height: 4), to: path) } throws: { error in
      (error as? ImageError)?.code == .writeFailed
    }
  }

  func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }
}
