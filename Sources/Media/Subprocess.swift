import Foundation

/// Runs a tool found on PATH to completion and returns its stdout as text; a missing tool or a
/// non-zero exit throws, with the last lines of its stderr in the message.
public func runTool(_ tool: String, _ arguments: [String]) throws(MediaError) -> String {
  String(decoding: try runToCompletion(tool, arguments), as: UTF8.self)
}

/// Runs a tool to completion and returns stdout; stderr's last lines go into the error.
func runToCompletion(_ tool: String, _ arguments: [String]) throws(MediaError) -> Data {
  try runToolCollectingErrors(tool, arguments).output
}

/// The last three lines of a tool's stderr, for messages.
func lastLines(_ text: String) -> String { text.split(separator: "\n").suffix(3).joined(separator: " | ") }

/// Runs a tool to completion; returns stdout and the whole of stderr (tools that exit 0 after
/// an error say so only there).
func runToolCollectingErrors(_ tool: String, _ arguments: [String]) throws(MediaError) -> (output: Data, errors: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = [tool] + arguments
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  do { try process.run() } catch { throw MediaError(.toolMissing, "cannot start \(tool): \(error.localizedDescription)") }
  // Drain stderr concurrently so a chatty tool never blocks on a full pipe.
  let errors = StderrCollector(err.fileHandleForReading)
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  let stderr = errors.finishAll()
  if process.terminationStatus == 127 { throw MediaError(.toolMissing, "\(tool) is not installed (apt-get install ffmpeg)") }
  guard process.terminationStatus == 0 else {
    throw MediaError(.processFailed, "\(tool) exited with \(process.terminationStatus): \(explainingDiskErrors(lastLines(stderr)))")
  }
  return (data, stderr)
}

/// Collects a child's stderr on a background thread; keeps the last few lines for messages.
// @unchecked: `text` is written by the reading thread before `done` is signalled and read after waiting.
final class StderrCollector: @unchecked Sendable {
  private let handle: FileHandle
  private let done = DispatchSemaphore(value: 0)
  private var text = ""

  init(_ handle: FileHandle) {
    self.handle = handle
    Thread.detachNewThread { [self] in
      let data = handle.readDataToEndOfFile()
      text = String(decoding: data, as: UTF8.self)
      done.signal()
    }
  }

  func finish() -> String { lastLines(finishAll()) }

  /// Everything the tool wrote to stderr.
  func finishAll() -> String {
    done.wait()
    done.signal()
    return text
  }
}
