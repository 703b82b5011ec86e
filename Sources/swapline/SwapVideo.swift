import ArgumentParser
import Foundation
import Jobs
import Media
import Pipeline
import Swapping
import Synchronization

/// How much `swapline swap` says on stderr.
enum LogLevel: String, ExpressibleByArgument, Comparable, CaseIterable {
  case error, warn, info, debug
  static func < (a: LogLevel, b: LogLevel) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

extension Swap {
  /// A video run is a job of frame-range chunks in the embedded store: this process (and
  /// `--workers` - 1 child processes running the same command) claim chunks, render each into a
  /// segment, and this process joins the segments with the target's audio into OUTPUT. Running the
  /// same command again after a crash resumes the job: only chunks not yet done are rendered.
  func swapVideo(_ info: MediaInfo, label: String, processor: SwapFrameProcessor, modelFiles: [String], children: [LocalWorker],
                 plan: ThreadPlan, warmReader: FrameReader?, timer: StageTimer,
                 processingFinished: () -> Void = {}) throws -> (range: Range<Int>, seconds: Double) {
    let start = trimFrameStart ?? 0
    let end = min(trimFrameEnd ?? info.frameCount, info.frameCount)
    guard start >= 0, end > start else {
      throw CLIError.badInput("--trim-frame-start/--trim-frame-end select no frames of the video's \(info.frameCount)")
    }
    var encoder = videoEncoder
    if encoder.isHardware && !VideoEncoding.isUsable(encoder) {
      encoder = encoder.softwareFallback
      log(.warn, "\(videoEncoder.rawValue) is not usable here (no NVIDIA GPU or driver); encoding with \(encoder.rawValue)")
    }
    let configuration = try makeConfiguration()
    let spec = try configuration.videoJobSpec(
      frames: start..<end, encoding: VideoEncoding(encoder: encoder, quality: videoQuality, preset: videoPreset), label: label,
      modelFiles: modelFiles, modelsByContent: database != nil,
      command: .init(arguments: ["swap"] + configuration.commandLineArguments(includingExecution: false),
                     directory: FileManager.default.currentDirectoryPath))
    let outputFolder = (spec.output as NSString).deletingLastPathComponent
    let jobs = try openJobEngine(defaultDirectory: outputFolder + "/.swapline-jobs")
    if database != nil && !workerOnly {
      // Cluster mode: the job is submitted; workers render it and the coordinator writes OUTPUT.
      let prepared = try jobs.prepare(spec)
      print("job \(prepared.job): \(prepared.resumed ? "already submitted" : "submitted"), \(prepared.chunkCount) chunks (\(prepared.doneChunks) done)")
      return (start..<end, 0)
    }
    (jobs.helperPlacement, jobs.renderPlacement, jobs.analysisCPUs) = (plan.helpers, plan.render, plan.analysisCPUs)
    jobs.corruptFrame = ProcessInfo.processInfo.environment["SWAPLINE_INJECT_CORRUPT_FRAME"].flatMap { Int($0) }
    jobs.pauseBeforePublish = ProcessInfo.processInfo.environment["SWAPLINE_INJECT_JOIN_PAUSE"].flatMap { Double($0) }
    let stop = StopSignal.install()

    if workerOnly {
      let job: JobRecord
      if database == nil {
        // A local worker started while its parent loaded its models; the parent names the job
        // once it has created it (or goes away first).
        guard let id = LocalWorker.receiveJob(stop: stop), let record = try jobs.store.job(id) else { return (start..<end, 0) }
        guard record.fingerprint == spec.fingerprint else {
          throw CLIError.failure("job \(id) is not this worker's command (fingerprints differ)")
        }
        job = record
      } else {
        // Cluster workers render in their own process (`swapline worker`).
        throw CLIError.badInput("--worker-only is for the local workers of `swap --workers`, not with --database")
      }
      defer { processingFinished() }
      do {
        _ = try runChunks(jobs: jobs, job: job.id, spec: spec, info: info, processor: processor, stop: stop, progress: nil)
      } catch let stopped as JobStopped {
        // Cancelled, or finished by others while this worker was stalled: its chunk in flight
        // was abandoned (segment removed, nothing committed), and a worker just stops.
        log(.warn, "\(stopped); the chunk in flight was abandoned")
      }
      return (start..<end, 0)
    }
    let started = ContinuousClock.now

    if restart, let old = try jobs.store.findJob(fingerprint: spec.fingerprint, states: [.running, .failed]) {
      try jobs.store.setJobState(old.id, .cancelled, error: "superseded by --restart")
      try? FileManager.default.removeItem(atPath: jobs.segmentFolder(job: old.id))
    }
    let prepared = try jobs.prepare(spec)
    for child in children { child.start(job: prepared.job) }
    if prepared.resumed {
      log(.info, "resuming job \(prepared.job): \(prepared.doneChunks) of \(prepared.chunkCount) chunks already done")
      if jobs.reopened > 0 {
        log(.warn, "\(jobs.reopened) done chunk\(jobs.reopened == 1 ? " has" : "s have") lost \(jobs.reopened == 1 ? "its" : "their") segment; rendering again")
      }
    } else {
      log(.debug, "job \(prepared.job): \(prepared.chunkCount) chunks of up to \(chunkSize) frames in \(jobs.directory)")
    }
    let cancelled = CLIError.failure(
      "job \(prepared.job) was cancelled (`swapline jobs cancel`); nothing was written to \(output). "
        + "`swapline jobs retry \(prepared.job) --jobs-dir \(jobs.directory)` and then `jobs resume \(prepared.job)` start it again")

    let progress = logLevel >= .info ? JobProgress(store: jobs.store, job: prepared.job, total: end - start) : nil
    var rendered = 0
    var verificationRounds = 0
    while true {
      do {
        rendered += try runChunks(jobs: jobs, job: prepared.job, spec: spec, info: info, processor: processor, stop: stop, progress: progress,
                                  warmReader: rendered == 0 ? warmReader : nil)
      } catch let stopped as JobStopped where stopped.state != .done {
        progress?.finish()
        throw stopped.state == .cancelled ? cancelled : CLIError.failure("\(stopped)")
      } catch is JobStopped {
        // Another run of the same job finished it (and wrote OUTPUT) while this one rendered.
      }
      if stop.raised {
        _ = try? jobs.store.releaseLeases(job: prepared.job, owners: [JobEngine.workerName])
        progress?.finish()
        throw CLIError(message: "interrupted; run the same command again to resume job \(prepared.job)", exitCode: 130)
      }
      let state = try jobs.store.job(prepared.job)?.state
      if state == .cancelled {
        progress?.finish()
        throw cancelled
      }
      if state == .done {
        // Another run of the same job joined it while this one waited or rendered.
        log(.info, "\(output) was written by another run of job \(prepared.job)")
        break
      }
      if state == .failed, let record = try jobs.store.job(prepared.job) {
        // Another run of the same job gave it up (a dead chunk, a failed join).
        progress?.finish()
        throw CLIError.failure("job \(prepared.job) failed: \(record.error ?? "unknown error") (`swapline jobs retry \(prepared.job)` revives it)")
      }
      switch try jobs.completion(job: prepared.job) {
      case .complete:
        for child in children { child.process.waitUntilExit() }
        progress?.finish()
        processingFinished()
        do {
          let joined = try timer.measure("join") { try jobs.finalize(job: prepared.job, spec: spec, info: info) }
          if joined == .alreadyDone { log(.info, "\(output) was written by another run of job \(prepared.job)") }
        } catch let reopened as SegmentsReopened {
          verificationRounds += 1
          guard verificationRounds <= 2 else {
            try? jobs.store.setJobState(prepared.job, .failed, error: "\(reopened)")
            throw CLIError.failure("job \(prepared.job) failed: \(reopened) more than twice")
          }
          log(.warn, "\(reopened)")
          continue
        } catch let stopped as JobStopped {
          throw stopped.state == .cancelled ? cancelled : CLIError.failure("\(stopped)")
        } catch {
          if try jobs.store.job(prepared.job)?.state == .running {
            try? jobs.store.setJobState(prepared.job, .failed, error: "joining segments: \(error)")
          }
          throw CLIError.failure("cannot write \(output): \(error)")
        }
      case .failed(let reason):
        if state == .running { try jobs.store.setJobState(prepared.job, .failed, error: reason) }
        progress?.finish()
        throw CLIError.failure("job \(prepared.job) failed: \(reason) (`swapline jobs retry \(prepared.job)` revives it)")
      case .waiting(let seconds):
        // Chunks are leased by workers still running, or wait for their retry time; leases of
        // workers that died are released instead of waiting for them to expire.
        if children.allSatisfy({ !$0.process.isRunning }) { try jobs.releaseLeasesOfGoneWorkers(job: prepared.job) }
        // A worker that hangs (alive, not renewing) loses its chunk when the lease expires.
        _ = try jobs.store.reapExpiredLeases()
        _ = stop.wait(seconds: seconds)
        continue
      }
      break
    }
    progress?.finish()
    print("\(output): \(end - start) frames (job \(prepared.job), \(prepared.chunkCount) chunks, \(rendered) rendered by this process)")
    return (start..<end, (ContinuousClock.now - started).milliseconds / 1000)
  }

  /// The job engine over the cluster store (`--database`) or the embedded one (`--jobs-dir`, by
  /// default `.swapline-jobs` next to OUTPUT). A damaged embedded store is named with its path and
  /// what to do; `--restart` sets it aside and starts a new one.
  func openJobEngine(defaultDirectory: String) throws -> JobEngine {
    if let database, let storage {
      do {
        // Interactive submission fails fast; a worker's child retries as its worker does.
        let store = try PostgresChunkStore(url: database, connectAttempts: workerOnly ? 30 : 1)
        return JobEngine(store: store, directory: storage, leaseSeconds: leaseSeconds)
      } catch {
        throw CLIError.failure("cannot open the cluster store: \(error)")
      }
    }
    let directory = URL(fileURLWithPath: jobsDirectory ?? defaultDirectory).standardizedFileURL.path
    try createFolder(directory)
    do {
      return try JobEngine(directory: directory, leaseSeconds: leaseSeconds)
    } catch let failure as SQLiteChunkStore.Failure where failure.isDamaged {
      let path = directory + "/jobs.sqlite"
      // Local worker processes (--workers) never recover the store: their parent does.
      guard restart && !workerOnly else {
        throw CLIError.failure("the job store \(path) is damaged (\(failure)); run the same command with --restart to set it aside "
                               + "and start afresh, or remove \(directory) (outputs already written are not affected)")
      }
      let aside = path + ".damaged-\(Int(Date().timeIntervalSince1970))"
      for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
        guard rename(path + suffix, aside + suffix) == 0 else {
          throw CLIError.failure("the job store \(path) is damaged and cannot be moved aside: \(describeErrno(errno))")
        }
      }
      log(.warn, "the job store \(path) was damaged (\(failure)); moved it to \(aside) and started a new one")
      do { return try JobEngine(directory: directory, leaseSeconds: leaseSeconds) } catch {
        throw CLIError.failure("cannot open the job store \(path): \(error)")
      }
    } catch {
      throw CLIError.failure("cannot open the job store \(directory)/jobs.sqlite: \(error)")
    }
  }

  /// Claims and renders chunks until none is claimable; a chunk's error is reported and the loop
  /// goes on with other chunks (the failed one is retried after its backoff, or ends dead).
  private func runChunks(jobs: JobEngine, job: Int64, spec: VideoJobSpec, info: MediaInfo, processor: SwapFrameProcessor,
                         stop: StopSignal, progress: JobProgress?, warmReader: FrameReader? = nil) throws -> Int {
    let timer = processor.timer
    var total = 0
    while true {
      do {
        total += try jobs.work(job: job, spec: spec, info: info, processor: processor, warmReader: total == 0 ? warmReader : nil,
                               shouldStop: { stop.raised },
                               frameDone: { progress?.frameDone() }) { event in
          progress?.chunkDone(frames: event.frames)
          timer.add("wait decode", seconds: event.waitedForFrames)
          timer.add("wait render", seconds: event.waitedForRender)
          log(.debug, String(format: "chunk %d: %d frames in %.2f s (%.1f fps), analysis waited %.2f s for frames, %.2f s for rendering%@",
                             event.index, event.frames, event.seconds, Double(event.frames) / max(event.seconds, 1e-6),
                             event.waitedForFrames, event.waitedForRender, event.committed ? "" : ", fenced out (another worker owns it)"))
        }
        return total
      } catch let error as MediaError where error.code == .toolMissing {
        throw CLIError.failure("\(error)")
      } catch let stopped as JobStopped {
        throw stopped
      } catch {
        // A chunk that failed because the job was cancelled under it is no chunk failure.
        if let state = try? jobs.store.job(job)?.state, state != .running { throw JobStopped(job: job, state: state) }
        progress?.chunkFailed()
        log(.warn, "chunk failed: \(error)")
        if stop.raised { return total }
        // A dead chunk fails the job: no point rendering the rest.
        if case .failed = try jobs.completion(job: job) { return total }
      }
    }
  }

  /// ONNX Runtime's global pool and whether analysis models keep to their own thread: all cores
  /// for images; for video, ThreadPlan's choice.
  var runtimeThreads: (pool: Int, analysisOnCallerThread: Bool) {
    let isVideo = Self.videoExtensions.contains((output as NSString).pathExtension.lowercased())
    guard isVideo else { return (execution.threadCountOption ?? ProcessInfo.processInfo.activeProcessorCount, false) }
    return ThreadPlan.threads(cores: ProcessInfo.processInfo.activeProcessorCount, workers: workers,
                              threadOverride: execution.threadCountOption, cpuOnly: cpuOnly)
  }

  var cpuOnly: Bool { execution.providers.allSatisfy { $0 == .cpu } }

  /// The video thread plan for the measured stage costs (nil: none measured).
  func threadPlan(costs: StageCosts?) -> ThreadPlan {
    ThreadPlan.forVideo(cores: ProcessInfo.processInfo.activeProcessorCount, workers: workers, threadOverride: execution.threadCountOption,
                        cpuOnly: cpuOnly, pinning: !noThreadPinning, costs: costs)
  }

  /// Another process running this command as a worker only; it waits for the job's id on its
  /// standard input (see LocalWorker).
  func spawnWorker() throws -> LocalWorker {
    let process = Process()
    process.executableURL = swaplineExecutable
    // The same configuration, so the same job fingerprint, and this run's own settings (the
    // thread default divides the cores by --workers).
    var run = ["--workers", String(workers), "--log-level", logLevel.rawValue, "--lease-seconds", String(leaseSeconds)]
    if let jobsDirectory { run += ["--jobs-dir", jobsDirectory] }
    if noThreadPinning { run.append("--no-thread-pinning") }
    process.arguments = ["swap"] + (try makeConfiguration()).commandLineArguments + run + ["--worker-only"]
    let channel = Pipe()
    process.standardInput = channel
    process.standardOutput = FileHandle.nullDevice
    do { try process.run() } catch { throw CLIError.failure("cannot start a worker process: \(error)") }
    return LocalWorker(process: process, jobChannel: channel.fileHandleForWriting)
  }

  func log(_ level: LogLevel, _ message: String) {
    guard level <= logLevel else { return }
    printError("swapline: \(level == .warn ? "warning: " : level == .error ? "error: " : "")\(message)")
  }
}

/// SIGINT/SIGTERM set a flag that stops the run at the next frame: the chunk in flight is
/// abandoned (its lease released) and the job can be resumed.
final class StopSignal: Sendable {
  private let flag = Atomic<Bool>(false)
  /// Signalled on a stop; waiters pass it on, so every waiter wakes.
  private let wake = DispatchSemaphore(value: 0)
  /// Kept alive for the life of the process (a released source stops delivering).
  // nonisolated(unsafe): appended only in install(), before the signal object is shared.
  nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

  var raised: Bool { flag.load(ordering: .relaxed) }

  static func install() -> StopSignal {
    let stop = StopSignal()
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { stop.raise() }
      source.resume()
      stop.sources.append(source)
    }
    return stop
  }

  func raise() {
    guard !flag.exchange(true, ordering: .relaxed) else { return }
    wake.signal()
  }

  /// Waits up to `seconds` (a retry time, a poll interval); true if the stop came first.
  func wait(seconds: Double) -> Bool {
    guard !raised else { return true }
    guard wake.wait(timeout: .now() + seconds) == .success else { return raised }
    wake.signal()
    return true
  }
}

/// A local worker process (`--workers`): it learns the job's id from its parent on its standard
/// input once the parent has created the job, and stops when that input ends (the parent is gone,
/// even by kill -9).
struct LocalWorker {
  let process: Process
  let jobChannel: FileHandle

  /// Tells the worker which job to work on.
  func start(job: Int64) {
    try? jobChannel.write(contentsOf: Data("\(job)\n".utf8))
  }

  /// In a local worker: the job id its parent sends (nil when the parent went away first), then
  /// a stop when its parent goes away.
  static func receiveJob(stop: StopSignal) -> Int64? {
    var line = Data()
    while let byte = try? FileHandle.standardInput.read(upToCount: 1), let first = byte.first, first != 10 { line.append(first) }
    guard let job = Int64(String(decoding: line, as: UTF8.self)) else { return nil }
    Thread.detachNewThread {
      // Blocks until the parent's end of the pipe closes.
      while let piece = try? FileHandle.standardInput.read(upToCount: 64), !piece.isEmpty {}
      stop.raise()
    }
    return job
  }
}

/// The job's frames done (chunks committed by any worker, plus this process's frames in flight),
/// fps and ETA: one refreshing line on a terminal, a line every five seconds otherwise.
// @unchecked: mutable counters are touched only under `lock`.
final class JobProgress: @unchecked Sendable {
  private let lock = NSLock()
  private let total: Int
  private var committedFrames: Int
  private var inFlight = 0
  private let started = Date()
  private let initiallyDone: Int
  private var lastPrinted = Date.distantPast
  private let store: any ChunkStore
  private let job: Int64
  private let isTerminal = isatty(STDERR_FILENO) == 1

  init(store: any ChunkStore, job: Int64, total: Int) {
    self.store = store
    self.job = job
    self.total = total
    committedFrames = Self.doneFrames(store: store, job: job)
    initiallyDone = committedFrames
  }

  static func doneFrames(store: any ChunkStore, job: Int64) -> Int {
    ((try? store.chunks(job: job)) ?? []).filter { $0.state == .done }.reduce(0) { $0 + $1.frameCount }
  }

  func frameDone() {
    lock.lock()
    inFlight += 1
    lock.unlock()
    print(force: false)
  }

  func chunkDone(frames: Int) {
    lock.lock()
    inFlight = 0
    lock.unlock()
    print(force: false, refresh: true)
  }

  func chunkFailed() {
    lock.lock()
    inFlight = 0
    lock.unlock()
  }

  private func print(force: Bool, refresh: Bool = false) {
    let now = Date()
    lock.lock()
    defer { lock.unlock() }
    guard force || now.timeIntervalSince(lastPrinted) > (isTerminal ? 0.25 : 5) else { return }
    lastPrinted = now
    committedFrames = Self.doneFrames(store: store, job: job)
    let done = min(total, committedFrames + inFlight)
    let elapsed = max(now.timeIntervalSince(started), 1e-3)
    let fps = Double(done - initiallyDone) / elapsed
    let eta = fps > 0 ? Double(total - done) / fps : 0
    let line = String(format: "frames %d/%d  %.1f fps  ETA %.0f s", done, total, fps, eta)
    FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
  }

  func finish() {
    print(force: true, refresh: true)
    if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
