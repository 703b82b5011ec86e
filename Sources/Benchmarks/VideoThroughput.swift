import Foundation
import Media
import Swapping

/// Video swap throughput on generated clips: each run is a separate `swapline swap` process (so
/// its peak memory is its own) writing a `RunReport` (`--run-report`).
public enum VideoThroughput {
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  /// A clip of `seconds` at 25 fps: `face` drifting and bobbing over a grey frame, with a tone.
  public static func makeClip(width: Int, height: Int, seconds: Int, face: String, to path: String) throws {
    let side = height * 3 / 4
    do {
      _ = try runTool("ffmpeg", [
        "-v", "error", "-y", "-nostdin", "-f", "lavfi", "-i", "color=c=0x404040:s=\(width)x\(height):r=25:d=\(seconds)",
        "-loop", "1", "-i", face, "-f", "lavfi", "-i", "sine=frequency=330:duration=\(seconds)", "-filter_complex",
        "[1]scale=\(side):\(side)[f];[0][f]overlay=x='\(width / 8)+\(width / 2)*mod(t\\,20)/20':y='\(height / 10)+\(height / 20)*sin(t)':shortest=1,format=yuv420p[v]",
        "-map", "[v]", "-map", "2:a", "-t", String(seconds), "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", path])
    } catch { throw Failure(description: "cannot generate the benchmark clip: \(error)") }
  }

  /// Runs `executable swap <arguments> --run-report REPORT` and returns the report and the
  /// process's wall seconds.
  public static func run(executable: URL, swapArguments: [String], report: String) throws -> (report: RunReport, processSeconds: Double) {
    let process = Process()
    process.executableURL = executable
    process.arguments = ["swap"] + swapArguments + ["--run-report", report]
    process.standardOutput = FileHandle.nullDevice
    let started = ContinuousClock.now
    try process.run()
    process.waitUntilExit()
    let elapsed = ContinuousClock.now - started
    guard process.terminationStatus == 0 else { throw Failure(description: "swap exited with \(process.terminationStatus)") }
    let decoded = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: report)))
    return (decoded, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
  }
}
