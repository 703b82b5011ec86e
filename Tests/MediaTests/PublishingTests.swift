import Foundation
import Imaging
import Testing

@testable import Media

/// Publishing outputs (issue 16: D1, D2, D5): rename over a file only, private staging folders,
/// joined files checked before they become visible.
@Suite struct PublishingTests {
  @Test func publishingOverADirectoryFailsAndRemovesNothing() throws {
    let folder = MediaTests.folder + "/publish-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder + "/out.mp4/sub", withIntermediateDirectories: true)
    try "precious".write(toFile: folder + "/out.mp4/sub/keep.txt", atomically: true, encoding: .utf8)
    try "new".write(toFile: folder + "/partial", atomically: true, encoding: .utf8)
    #expect(throws: MediaError.self) { try publish(folder + "/partial", to: folder + "/out.mp4") }
    #expect(try String(contentsOfFile: folder + "/out.mp4/sub/keep.txt", encoding: .utf8) == "precious")
    #expect(!FileManager.default.fileExists(atPath: folder + "/partial"))
    // Over a file: replaced.
    try "old".write(toFile: folder + "/file.mp4", atomically: true, encoding: .utf8)
    try "new".write(toFile: folder + "/partial", atomically: true, encoding: .utf8)
    try publish(folder + "/partial", to: folder + "/file.mp4")
    #expect(try String(contentsOfFile: folder + "/file.mp4", encoding: .utf8) == "new")
  }

  @Test func stagingFoldersArePrivateUnpredictableAndStaleOnesAreRemoved() throws {
    let folder = MediaTests.folder + "/staging-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let first = try StagingFolder(beside: folder + "/o.mp4"), second = try StagingFolder(beside: folder + "/o.mp4")
    #expect(first.path != second.path)
    let mode = (try FileManager.default.attributesOfItem(atPath: first.path)[.posixPermissions] as? NSNumber)?.intValue
    #expect(mode == 0o700)
    // A folder left by a process that is gone (pid 999999 does not exist) is cleared by the next one.
    try FileManager.default.createDirectory(atPath: folder + "/.o.mp4.swapline-999999-abcdef", withIntermediateDirectories: true)
    _ = try StagingFolder(beside: folder + "/o.mp4")
    #expect(!FileManager.default.fileExists(atPath: folder + "/.o.mp4.swapline-999999-abcdef"))
    #expect(FileManager.default.fileExists(atPath: first.path))
    first.remove()
    second.remove()
  }

  @Test func aJoinedFileWithoutItsIndexOrFramesIsRefused() throws {
    let folder = MediaTests.folder + "/joined-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    // An MP4 with its moov box at the end, cut before it: what a full disk left behind.
    let whole = folder + "/whole.mp4"
    try MediaTests.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "25", "-c:v", "libx264", whole])
    try VideoAssembly.verifyJoined(whole, name: "whole.mp4", frames: 25, duration: 1, hasAudio: false)
    let data = try Data(contentsOf: URL(fileURLWithPath: whole))
    try data.prefix(data.count - 400).write(to: URL(fileURLWithPath: folder + "/cut.mp4"))
    #expect(throws: MediaError.self) { try VideoAssembly.verifyJoined(folder + "/cut.mp4", name: "cut.mp4", frames: 25, duration: 1, hasAudio: false) }
    #expect(throws: MediaError.self) { try VideoAssembly.verifyJoined(whole, name: "whole.mp4", frames: 26, duration: 1, hasAudio: false) }
    #expect(throws: MediaError.self) { try VideoAssembly.verifyJoined(whole, name: "whole.mp4", frames: 25, duration: 1, hasAudio: true) }
  }

  @Test func oddFramesArePaddedByRepeatingTheEdge() throws {
    var pixels = [UInt8](repeating: 0, count: 3 * 3 * 3)
    for index in pixels.indices { pixels[index] = UInt8(index) }
    let frame = try Image(width: 3, height: 3, channels: 3, pixels: pixels)
    let padded = FrameWriter.paddedToEven(frame, width: 4, height: 4)
    #expect(padded.width == 4 && padded.height == 4)
    // Row 0: the three pixels, then pixel 2 again; row 3 repeats row 2.
    #expect(Array(padded.pixels[0..<12]) == Array(pixels[0..<9]) + Array(pixels[6..<9]))
    #expect(Array(padded.pixels[36..<48]) == Array(pixels[18..<27]) + Array(pixels[24..<27]))
  }
}
