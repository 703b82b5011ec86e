import FaceAnalysis
import Foundation
import Imaging
import Jobs
import Media
import OnnxRuntime
import Pipeline

/// A video run in this process: the job is found or created first (before any model loads, so
/// local helpers load theirs meanwhile), then this process claims and renders chunks, waits for
/// the helpers' chunks, and joins the segments with the target's audio into the output.
struct VideoSwap {
  let run: SwapRun
  let engine: SwapEngine
  let sourceImages: [Image]
  let stop: StopSignal

  var configuration: SwapConfiguration { run.configuration }
  var settings: RunSettings { run.settings }
  var events: RunEvents { run.events }

  func run(launchHelpers: (Int64, JobEngine) throws -> [Process]) throws -> SwapRun.Outcome {
    let timer = engine.timer
    let info = try run.probeTarget()
    if let declared = info.declaredFrameCount, declared > info.frameCount {
      run.warn("\(configuration.paths.target) declares \(declared) frames but only \(info.frameCount) can be decoded (a truncated file?); only those are processed")
    }
    let spec = try run.videoJobSpec(engine: engine, info: info, modelsByContent: false)
    let frames = spec.startFrame..<spec.endFrame
    let jobs = try run.openJobs()
    if settings.restart, let old = try jobs.store.findJob(fingerprint: spec.fingerprint, states: [.running, .failed]) {
      try jobs.store.setJobState(old.id, .cancelled, error: "superseded by --restart")
      try? FileManager.default.removeItem(atPath: jobs.segmentFolder(job: old.id))
    }
    let prepared = try jobs.prepare(spec)
    let store = jobs.store, job = prepared.job
    events(.jobStarted(JobStart(job: job, resumed: prepared.resumed, chunkCount: prepared.chunkCount, doneChunks: prepared.doneChunks,
                                frames: frames.count, jobsDirectory: jobs.directory, committedFrames: {
                                  ((try? store.chunks(job: job)) ?? []).filter { $0.state == .done }.reduce(0) { $0 + $1.frameCount }
                                })))
    if prepared.resumed {
      events(.message(.info, "resuming job \(job): \(prepared.doneChunks) of \(prepared.chunkCount) chunks already done"))
      if jobs.reopened > 0 {
        run.warn("\(jobs.reopened) done chunk\(jobs.reopened == 1 ? " has" : "s have") lost \(jobs.reopened == 1 ? "its" : "their") segment; rendering again")
      }
    } else {
      events(.message(.debug, "job \(job): \(prepared.chunkCount) chunks of up to \(configuration.video.chunkSize) frames in \(jobs.directory)"))
    }
    let helpers = try launchHelpers(job, jobs)
    defer { for helper in helpers where helper.isRunning { helper.terminate() } }
    // The first chunk's decoder starts now, so ffmpeg's start-up overlaps model loading.
    let warmReader = try? FrameReader(path: spec.target, info: info, start: frames.lowerBound, count: min(spec.chunkFrames, frames.count),
                                      placement: settings.videoPlan(configuration.execution, costs: nil).helpers)
    let processor = try engine.makeProcessor(sourceImages: sourceImages, tracking: true, runLog: settings.recordReport ? ModelRunLog() : nil)
    run.reportProviderFallbacks(engine.pool)
    let costs = try timer.measure("load models") { try processor.measureCosts(width: info.width, height: info.height) }
    // Loading can take minutes (a TensorRT engine build): a stop meanwhile ends the run here.
    if stop.raised { throw VideoRunError.interrupted(job: job) }
    let plan = settings.videoPlan(configuration.execution, costs: costs)
    (jobs.helperPlacement, jobs.renderPlacement, jobs.analysisCPUs) = (plan.helpers, plan.render, plan.analysisCPUs)
    settings.faults.apply(to: jobs)
    let started = ContinuousClock.now
    let (rendered, writtenElsewhere) = try renderAndJoin(jobs: jobs, job: job, spec: spec, info: info, processor: processor,
                                                         helpers: helpers, warmReader: warmReader)
    let seconds = (ContinuousClock.now - started).milliseconds / 1000
    if processor.needsFaces && seconds > 0 && processor.framesWithFaces.load(ordering: .relaxed) == 0 && rendered > 0 {
      run.warn("no face in the frames this run rendered of \(configuration.paths.target); they are unchanged")
    }
    let report = settings.recordReport
      ? try RunReport.measure(processor: processor, pool: engine.pool, target: spec.target, info: info, frames: frames, videoSeconds: seconds, plan: plan, costs: costs)
      : nil
    return SwapRun.Outcome(
      kind: .video(.init(job: job, frames: frames, chunkCount: prepared.chunkCount, renderedHere: rendered, seconds: seconds,
                         writtenElsewhere: writtenElsewhere)),
      swapped: engine.swapping, timer: timer, pool: engine.pool, placement: plan.description(costs: costs), report: report)
  }

  /// Renders until every chunk is done (by this process or others), then joins; returns the
  /// chunks rendered here and whether another run of the job published the output.
  private func renderAndJoin(jobs: JobEngine, job: Int64, spec: VideoJobSpec, info: MediaInfo, processor: SwapFrameProcessor,
                             helpers: [Process], warmReader: FrameReader?) throws -> (Int, Bool) {
    let cancelled = VideoRunError.cancelled(job: job, output: configuration.paths.output, jobsDirectory: jobs.directory)
    var rendered = 0
    var verificationRounds = 0
    while true {
      do {
        rendered += try renderChunks(jobs: jobs, job: job, spec: spec, info: info, processor: processor, stop: stop,
                                     warmReader: rendered == 0 ? warmReader : nil, events: events)
      } catch let stopped as JobStopped where stopped.state != .done {
        throw stopped.state == .cancelled ? cancelled : VideoRunError.failed(job: job, reason: "\(stopped)")
      } catch is JobStopped {
        // Another run of the same job finished it (and wrote the output) while this one rendered.
      }
      if stop.raised {
        _ = try? jobs.store.releaseLeases(job: job, owners: [JobEngine.workerName])
        throw VideoRunError.interrupted(job: job)
      }
      let record = try jobs.store.job(job)
      switch record?.state {
      case .cancelled: throw cancelled
      case .done: return (rendered, true)
      case .failed: throw VideoRunError.failed(job: job, reason: record?.error ?? "unknown error")
      default: break
      }
      switch try jobs.completion(job: job) {
      case .complete:
        for helper in helpers { helper.waitUntilExit() }
        run.releaseProcessorModels(engine.pool)
        do {
          let joined = try engine.timer.measure("join") { try jobs.finalize(job: job, spec: spec, info: info) }
          return (rendered, joined == .alreadyDone)
        } catch let reopened as SegmentsReopened {
          verificationRounds += 1
          guard verificationRounds <= 2 else {
            try? jobs.store.setJobState(job, .failed, error: "\(reopened)")
            throw VideoRunError.failed(job: job, reason: "\(reopened) more than twice")
          }
          run.warn("\(reopened)")
        } catch let stopped as JobStopped {
          throw stopped.state == .cancelled ? cancelled : VideoRunError.failed(job: job, reason: "\(stopped)")
        } catch {
          if try jobs.store.job(job)?.state == .running { try? jobs.store.setJobState(job, .failed, error: "joining segments: \(error)") }
          throw SwapError.failure("cannot write \(configuration.paths.output): \(error)")
        }
      case .failed(let reason):
        try jobs.store.setJobState(job, .failed, error: reason)
        throw VideoRunError.failed(job: job, reason: reason)
      case .waiting(let seconds):
        // Chunks are leased by helpers still running, or wait for their retry time; leases of
        // helpers that died are released instead of waiting for them to expire.
        if helpers.allSatisfy({ !$0.isRunning }) { try jobs.releaseLeasesOfGoneWorkers(job: job) }
        // A worker that hangs (alive, not renewing) loses its chunk when the lease expires.
        _ = try jobs.store.reapExpiredLeases()
        stop.wait(seconds: seconds)
      }
    }
  }
}

extension ThreadPlan {
  /// One line for `--profile`: which stage sets the pace and what it gets.
  public func description(costs: StageCosts?) -> String {
    let measured = costs.map { String(format: " (a frame: analysis %.3f s, render %.3f s)", $0.analysis, $0.render) } ?? ""
    let analysis = analysisOnCallerThread ? "analysis models on their own thread" : "analysis models on the pool"
    let pinned = analysisCPUs.map { ", analysis pinned to CPU " + $0.map(String.init).joined(separator: ",") } ?? ""
    return "\(bottleneck.rawValue)-bound\(measured); global pool \(intraOpThreads) threads, \(analysis)\(pinned); "
      + (render == helpers ? "render, decode and ffmpeg lowered" : "render at normal priority, decode and ffmpeg lowered")
  }
}
