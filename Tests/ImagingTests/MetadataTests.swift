import Foundation
import Imaging
import Testing

@Suite struct MetadataTests {
  @Test(arguments: ["png", "jpg", "webp"]) func textMetadataIsWrittenAndReadBack(extension ext: String) throws {
    let path = Support.temporaryDirectory() + "/labelled." + ext
    let image = Support.pattern(width: 24, height: 16, channels: ext == "jpg" ? 3 : 4)
    try ImageIO.write(image, to: path, quality: 90, textMetadata: [("swapline.provenance", "face swap by swapline 0.1 <test> & co")])
    let text = try ImageIO.readTextMetadata(path: path)
    #expect(text["swapline.provenance"] == "face swap by swapline 0.1 <test> & co")
    // The file still decodes, for us and for ffmpeg.
    #expect(try ImageIO.read(path: path).width == 24)
    #expect(Support.ffmpegDecodes(path))
  }

  @Test func pngTextSurvivesNonLatinValuesAsITXt() throws {
    let path = Support.temporaryDirectory() + "/unicode.png"
    try ImageIO.write(Support.pattern(width: 8, height: 8), to: path, textMetadata: [("note", "顔の入れ替え")])
    #expect(try ImageIO.readTextMetadata(path: path)["note"] == "顔の入れ替え")
    #expect(Support.ffmpegDecodes(path))
  }
}
