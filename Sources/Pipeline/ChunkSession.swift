import Foundation
import Jobs
import Media
import Synchronization

/// One `JobEngine.work` call: claims chunks of a job and renders them, overlapped. The next chunk
/// is claimed and opened when the current one is half analysed, and a chunk's rendering,
/// encoding, verification and commit finish on a thread of their own while the next is analysed,
/// so the analysis thread never waits at chunk boundaries.
struct ChunkSession<Processor: VideoFrameProcessor> {
  typealias Claimed = ClaimedChunk<Processor>

  let engine: JobEngine
  let job: Int64
  let spec: VideoJobSpec
  let info: MediaInfo
  let processor: Processor
  let worker: String
  /// A decoder started early (while models loaded): it serves the first chunk if its range matches.
  var warmReader: FrameReader?
  let shouldStop: @Sendable () -> Bool
  let frameDone: @Sendable () -> Void
  let chunkDone: @Sendable (JobEngine.ChunkEvent) -> Void
  /// Chunks committed, counted from the finishing threads.
  let committed = Counter()

  var store: any ChunkStore { engine.store }

  /// Renders until nothing is claimable; the chunks committed. A chunk's own error marks it for
  /// retry (or dead) and is rethrown once the chunks in flight are settled.
  mutating func run() throws -> Int {
    var finisher: DedicatedThread<Void>?
    // Whatever way this returns or throws, the chunk finishing in the background is waited for:
    // its commit must not be cut off.
    defer { _ = finisher?.joinError() }
    var firstError: (any Error)?
    var current = try open()
    while let claimed = current {
      var next: Claimed?
      var openError: (any Error)?
      do {
        try claimed.chunk.analyse(shouldStop: { [shouldStop] in shouldStop() || claimed.heartbeat.lost || claimed.heartbeat.jobStopped != nil },
                                  halfway: { do { next = try open() } catch { openError = error } })
      } catch {
        // The previous chunk's commit first: releasing this worker's leases must not take its lease.
        let finished = finisher?.joinError()
        if try abandon(claimed, next: next, after: error, earlier: firstError ?? finished) { return committed.value }
      }
      // One chunk finishing at a time: wait for the previous before handing this one over.
      if let error = finisher?.joinError() { firstError = firstError ?? error }
      finisher = finish(claimed)
      if let openError { firstError = firstError ?? openError }
      if next == nil && firstError == nil { next = try open() }
      current = next
    }
    if let error = finisher?.joinError() { firstError = firstError ?? error }
    if let firstError { throw firstError }
    return committed.value
  }

  /// Claims the next chunk and opens its render (decoder, render thread, encoder); nil when
  /// stopping or nothing is claimable. A chunk that cannot be opened counts a failure.
  mutating func open() throws -> Claimed? {
    guard !shouldStop(), let lease = try store.claim(worker: worker, job: job, leaseSeconds: engine.leaseSeconds) else { return nil }
    // With object storage this node renders into a folder of its own, made on first use.
    if engine.objects != nil { try? FileManager.default.createDirectory(atPath: engine.segmentFolder(job: job), withIntermediateDirectories: true) }
    let segment = engine.segmentFolder(job: job)
      + String(format: "/chunk-%05d.t%d.%@", lease.index, lease.token, spec.encoding.encoder.segmentExtension)
    let heartbeat = LeaseHeartbeat(store: store, lease: lease, leaseSeconds: engine.leaseSeconds)
    do {
      if let corruptFrame = engine.corruptFrame, (lease.startFrame..<(lease.startFrame + lease.frameCount)).contains(corruptFrame) {
        throw MediaError(.badInput, "frame \(corruptFrame) is corrupt (injected fault)")
      }
      let frameDone = frameDone
      let chunk = try ChunkRender(processor: processor, encoding: spec.encoding, target: try engine.readable(spec.target), info: info,
                                  start: lease.startFrame,
                                  count: lease.frameCount, segment: segment, placement: engine.helperPlacement,
                                  renderPlacement: engine.renderPlacement, warmReader: warmReader,
                                  frameDone: {
                                    heartbeat.framesDone.add(1, ordering: .relaxed)
                                    frameDone()
                                  })
      warmReader = nil
      return Claimed(lease: lease, chunk: chunk, heartbeat: heartbeat, started: .now)
    } catch {
      heartbeat.stop()
      throw engine.recordFailure(lease, error, reading: spec.target)
    }
  }

  /// A chunk whose analysis stopped or failed: the failed chunk counts an attempt (backoff, or
  /// dead; given back instead when object storage failed) unless this worker is stopping or
  /// lost its lease, the chunk opened after it is
  /// abandoned, and leases still ours go back at once (a stopped chunk untouched). The failure is
  /// recorded first: releasing would put the failed chunk back to pending, and its attempt would
  /// never count. True: stopped, return normally; otherwise the error is thrown.
  func abandon(_ claimed: Claimed, next: Claimed?, after error: any Error, earlier: (any Error)?) throws -> Bool {
    claimed.heartbeat.stop()
    next?.chunk.abandon()
    next?.heartbeat.stop()
    try? FileManager.default.removeItem(atPath: claimed.chunk.segment)
    let stopped = claimed.heartbeat.jobStopped
    var recorded = error
    if stopped == nil && !shouldStop() && !claimed.heartbeat.lost { recorded = engine.recordFailure(claimed.lease, error, reading: spec.target) }
    // An outage gives back the next chunk too: it never started, and must not lose an attempt.
    if recorded is StorageUnavailable, let next { _ = try? store.giveBack(next.lease, reason: "\(recorded)") }
    _ = try? store.releaseLeases(job: job, owners: [worker])
    if let stopped { throw JobStopped(job: job, state: stopped) }
    guard shouldStop() else { throw recorded }
    if let earlier { throw earlier }
    return true
  }

  /// Finishes a chunk on its own thread: the encoder flushed, the segment's frames counted, then
  /// committed if the lease is still ours (fencing: otherwise the segment is never referenced).
  func finish(_ claimed: Claimed) -> DedicatedThread<Void> {
    let (store, committed, chunkDone, engine, job) = (store, committed, chunkDone, engine, job)
    return DedicatedThread {
      defer { claimed.heartbeat.stop() }
      do {
        _ = try claimed.chunk.finish()
        // Verified before it can be committed (FRAME MISMATCH never reaches the join).
        try VideoAssembly.verifyFrameCount(of: claimed.chunk.segment, expected: claimed.lease.frameCount)
        // Uploaded (object storage) while the lease is still renewed: an upload takes time.
        try engine.publishSegment(job: job, path: claimed.chunk.segment)
        claimed.heartbeat.stop()
        let name = (claimed.chunk.segment as NSString).lastPathComponent
        let accepted = try store.complete(claimed.lease, output: name)
        if accepted { committed.add() } else { engine.discardSegment(job: job, name: name) }
        chunkDone(JobEngine.ChunkEvent(index: claimed.lease.index, frames: claimed.lease.frameCount,
                                       seconds: (ContinuousClock.now - claimed.started).seconds, committed: accepted,
                                       waitedForFrames: claimed.chunk.waitedForFrames, waitedForRender: claimed.chunk.waitedForRender,
                                       queuedSeconds: claimed.lease.queuedSeconds))
      } catch {
        try? FileManager.default.removeItem(atPath: claimed.chunk.segment)
        throw engine.recordFailure(claimed.lease, error, reading: spec.target)
      }
    }
  }
}

/// A count several threads add to.
final class Counter: Sendable {
  private let count = Atomic<Int>(0)
  func add() { count.add(1, ordering: .relaxed) }
  var value: Int { count.load(ordering: .relaxed) }
}
