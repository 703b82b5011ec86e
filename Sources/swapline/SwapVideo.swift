import ArgumentParser
import Foundation
import Jobs
import Pipeline
import Swapping
import Synchronization

/// How much `swapline swap` says on stderr.
enum LogLevel: String, ExpressibleByArgument, Comparable, CaseIterable {
  case error, warn, info, debug
  static func < (a: LogLevel, b: LogLevel) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

  func shows(_ level: RunEvent.Level) -> Bool {
    switch level {
    case .warning: self >= .warn
    case .info: self >= .info
    case .debug: self >= .debug
    }
  }
}

extension RunSettings {
  /// Settings every command starts from: this build's version (for the provenance label) and
  /// the test-only faults named in the environment, read here at the entry point.
  static var forThisProcess: RunSettings {
    var settings = RunSettings()
    settings.version = Swapline.configuration.version
    settings.faults = FaultInjection(environment: ProcessInfo.processInfo.environment)
    return settings
  }
}

/// A run's events on stderr: messages by level, and at `info` the progress line of the job.
final class RunEventPrinter: Sendable {
  let level: LogLevel
  private let progress = Mutex<JobProgress?>(nil)

  init(level: LogLevel) { self.level = level }

  func callAsFunction(_ event: RunEvent) {
    switch event {
    case .message(let messageLevel, let text):
      guard level.shows(messageLevel) else { return }
      progress.withLock { $0?.interrupt() }
      printError("swapline: " + (messageLevel == .warning ? "warning: " : "") + text)
    case .jobStarted(let start):
      guard level >= .info else { return }
      progress.withLock { $0 = JobProgress(total: start.frames, committedFrames: start.committedFrames) }
    case .frameRendered:
      progress.withLock { $0?.frameDone() }
    case .chunkRendered:
      progress.withLock { $0?.chunkDone() }
    case .chunkFailed(let reason, _):
      progress.withLock {
        $0?.chunkFailed()
        if level >= .warn { $0?.interrupt() }
      }
      if level >= .warn { printError("swapline: warning: chunk failed: \(reason)") }
    }
  }

  /// The progress line's last state, once the run is over.
  func finish() { progress.withLock { $0?.finish() } }
}

extension StopSignal {
  /// A stop signal raised by SIGINT and SIGTERM (and by the end of standard input, for a helper
  /// whose parent watches it through a pipe).
  static func installed(stdinEnds: Bool = false) -> StopSignal {
    let stop = StopSignal()
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { stop.raise() }
      source.resume()
      signalSources.append(source)
    }
    if stdinEnds {
      // Blocks until the other end of the pipe closes: the parent is gone, even by kill -9.
      Thread.detachNewThread {
        while let piece = try? FileHandle.standardInput.read(upToCount: 64), !piece.isEmpty {}
        stop.raise()
      }
    }
    return stop
  }
}

/// Kept for the life of the process (a released source stops delivering).
// nonisolated(unsafe): appended only by `installed()`, once, at a command's start.
nonisolated(unsafe) private var signalSources: [any DispatchSourceSignal] = []

/// Runs a swap in this process on a dedicated thread, with `settings.workers` - 1 helper
/// processes for a video, printing its events at `logLevel`; a video run's typed end becomes
/// an exit status (130 for an interrupt, 1 otherwise).
func runHere(_ configuration: SwapConfiguration, settings: RunSettings, logLevel: LogLevel) throws -> SwapRun.Outcome {
  let printer = RunEventPrinter(level: logLevel)
  let run = SwapRun(configuration: configuration, settings: settings, events: printer.callAsFunction)
  // Video: SIGINT/SIGTERM stop the run between frames so the job can resume. An image keeps the
  // default (the process ends; the output is written atomically, so nothing is half-written).
  let stop = configuration.isVideo ? StopSignal.installed() : StopSignal()
  let outcome: SwapRun.Outcome
  do {
    defer { printer.finish() }
    outcome = try onDedicatedThread {
      try run.run(stop: stop) { job, jobs in
        try (1..<max(settings.workers, 1)).map { _ in
          try HelperProcess.start(["jobs", "work", String(job), "--jobs-dir", jobs.directory, "--workers", String(settings.workers),
                                   "--log-level", logLevel.rawValue, "--lease-seconds", String(settings.leaseSeconds)]
                                  + (settings.threadPinning ? [] : ["--no-thread-pinning"]))
        }
      }
    }
  } catch let error as VideoRunError {
    if case .interrupted = error { throw CLIError(message: error.description, exitCode: 130) }
    throw CLIError.failure(error.description)
  }
  if case .video(let video) = outcome.kind {
    let output = configuration.paths.output
    if video.writtenElsewhere && logLevel >= .info { printError("swapline: \(output) was written by another run of job \(video.job)") }
    print("\(output): \(video.frames.count) frames (job \(video.job), \(video.chunkCount) chunks, \(video.renderedHere) rendered by this process)")
  }
  return outcome
}

/// A local helper process of `swap --workers`: its standard input is a pipe this process holds
/// open, so the helper stops when this process goes away, even by kill -9.
enum HelperProcess {
  static func start(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = swaplineExecutable
    process.arguments = arguments
    process.standardInput = Pipe()
    process.standardOutput = FileHandle.nullDevice
    do { try process.run() } catch { throw CLIError.failure("cannot start a worker process: \(error)") }
    return process
  }
}

/// The job's frames done (chunks committed by any worker, plus this process's frames in flight),
/// fps and ETA: one refreshing line on a terminal, a line every five seconds otherwise.
struct JobProgress: Sendable {
  private let total: Int
  private let committedFrames: @Sendable () -> Int
  private var inFlight = 0
  /// When this process rendered its first frame, and the job's frames done then: the rate is
  /// measured from there, not from before the models loaded.
  private var started: (time: Date, done: Int)?
  private var lastPrinted = Date.distantPast
  private let isTerminal = isatty(STDERR_FILENO) == 1

  init(total: Int, committedFrames: @escaping @Sendable () -> Int) {
    self.total = total
    self.committedFrames = committedFrames
  }

  mutating func frameDone() {
    inFlight += 1
    show(force: false)
  }

  mutating func chunkDone() {
    inFlight = 0
    show(force: false)
  }

  mutating func chunkFailed() { inFlight = 0 }

  /// Another line is about to be printed: end the refreshing one.
  mutating func interrupt() {
    if isTerminal && lastPrinted != .distantPast { FileHandle.standardError.write(Data("\n".utf8)) }
    lastPrinted = .distantPast
  }

  private mutating func show(force: Bool) {
    let now = Date()
    guard force || now.timeIntervalSince(lastPrinted) > (isTerminal ? 0.25 : 5) else { return }
    lastPrinted = now
    let done = min(total, committedFrames() + inFlight)
    let start = started ?? (now, done)
    started = start
    let elapsed = now.timeIntervalSince(start.time)
    let fps = Double(done - start.done) / max(elapsed, 1e-3)
    let line = elapsed < 1 ? String(format: "frames %d/%d", done, total)
      : String(format: "frames %d/%d  %.1f fps  ETA %.0f s", done, total, fps, fps > 0 ? Double(total - done) / fps : 0)
    FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
  }

  mutating func finish() {
    inFlight = 0
    show(force: true)
    if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
