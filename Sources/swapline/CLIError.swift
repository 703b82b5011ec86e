import ArgumentParser
import Foundation
import Imaging
import Swapping

/// An error the CLI reports as one line on stderr with FaceFusion's exit codes
/// (1 failure, 2 bad input or arguments).
struct CLIError: Error, CustomStringConvertible {
  let message: String
  let exitCode: Int32

  static func badInput(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
  static func failure(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }

  var description: String { message }
}

/// Runs a command body and turns any error into one clear line plus the right exit code,
/// instead of a stack trace or ArgumentParser's generic message.
func reportingErrors(_ body: () async throws -> Void) async throws {
  do {
    try await body()
  } catch let error as CLIError {
    FileHandle.standardError.write(Data("swapline: error: \(error.message)\n".utf8))
    throw ExitCode(error.exitCode)
  } catch let error as ExitCode {
    throw error
  } catch let error as SwapError {
    FileHandle.standardError.write(Data("swapline: error: \(error.message)\n".utf8))
    throw ExitCode(error.kind == .badInput ? 2 : 1)
  } catch {
    FileHandle.standardError.write(Data("swapline: error: \(error)\n".utf8))
    throw ExitCode(1)
  }
}

/// Reads an input image; any problem with it is bad input (exit 2) with the reader's message.
func readInputImage(_ path: String) throws -> Image {
  do { return try ImageIO.read(path: path) } catch { throw CLIError.badInput("\(error)") }
}

func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// This executable, for starting more swapline processes (workers, submitted or resumed jobs).
let swaplineExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()

