import Foundation

/// ffmpeg failed; its message is the description.
public struct FFmpegFailed: Error, CustomStringConvertible {
  public let description: String
}

/// Runs ffmpeg quietly (`-v error -y -nostdin`), throwing with its stderr when it fails or is
/// missing, so a fixture that needs ffmpeg fails the tests using it instead of the test process.
public func runFFmpeg(_ arguments: [String]) throws {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
  process.arguments = ["-v", "error", "-y", "-nostdin"] + arguments
  let errors = Pipe()
  process.standardError = errors
  process.standardOutput = FileHandle.nullDevice
  process.standardInput = FileHandle.nullDevice
  do { try process.run() } catch { throw FFmpegFailed(description: "cannot start ffmpeg: \(error)") }
  let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    throw FFmpegFailed(description: "ffmpeg \(arguments.joined(separator: " ")) failed: \(message)")
  }
}
