import Foundation
import Testing

@testable import Imaging

/// Image outputs are written through a temporary file that nobody else can have prepared (D5).
@Suite struct AtomicWriteTests {
  @Test func aLinkPlantedAtTheOldTemporaryNameIsNeverWrittenThrough() throws {
    let folder = NSTemporaryDirectory() + "swapline-atomic-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try "victim".write(toFile: folder + "/victim.txt", atomically: true, encoding: .utf8)
    // The name the earlier code used (.NAME.PID.tmp, opened with O_TRUNC and following links).
    try FileManager.default.createSymbolicLink(atPath: folder + "/.x.png.\(getpid()).tmp", withDestinationPath: folder + "/victim.txt")
    let image = Image(width: 4, height: 4, channels: 3, fill: 200)
    try ImageIO.write(image, to: folder + "/x.png")
    #expect(try String(contentsOfFile: folder + "/victim.txt", encoding: .utf8) == "victim")
    #expect(try ImageIO.read(path: folder + "/x.png").pixels == image.pixels)
    // Only the output and the planted link remain: no temporary file is left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [".x.png.\(getpid()).tmp", "victim.txt", "x.png"])
  }

  @Test func writingOverADirectoryFailsAndRemovesNothing() throws {
    let folder = NSTemporaryDirectory() + "swapline-atomic-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder + "/x.png/sub", withIntermediateDirectories: true)
    #expect(throws: ImageError.self) { try ImageIO.write(Image(width: 2, height: 2, channels: 3), to: folder + "/x.png") }
    #expect(FileManager.default.fileExists(atPath: folder + "/x.png/sub"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["x.png"])
  }
}
