import ArgumentParser
import Foundation

@main
struct Swapline: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "swapline",
    abstract: "Face swapping for images and video, compatible with FaceFusion's model zoo.",
    discussion: """
      Models are looked up in --models-dir, else $SWAPLINE_MODELS_DIR, else ./models, else \
      ~/.local/share/swapline/models. `make setup` installs the offline pack (SCRFD detector, \
      dlib 68-point landmarks) into ./models; point --models-dir at FaceFusion's .assets/models \
      to use its zoo files unchanged.

      Exit codes: 0 success, 1 failure, 2 bad input or arguments.
      """,
    version: "0.1.0",
    subcommands: [Swap.self, HeadlessRun.self, BatchRun.self, Storage.self, Detect.self, Models.self, JobsCommand.self, Serve.self, Tenants.self, Worker.self, Coordinator.self, Doctor.self, Benchmark.self]
  )

  /// ArgumentParser exits 64 on bad arguments; FaceFusion's convention (and ours) is 2.
  static func main() async {
    // A closed ffmpeg pipe must surface as a write error, not kill the process.
    signal(SIGPIPE, SIG_IGN)
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      if exitCode(for: error) == .validationFailure {
        printError(fullMessage(for: error))
        exit(withError: ExitCode(2))
      }
      exit(withError: error)
    }
  }
}
