import Digests
import Foundation
import Jobs
import Media
import ObjectStorage
import Synchronization

/// Everything that determines a video job's output. Its fingerprint identifies the job, so running
/// the same command again finds the unfinished job and resumes it; any change (an option, an
/// input file, a model file) makes a new job.
public struct VideoJobSpec: Codable, Sendable, Equatable {
  public var target: String
  public var output: String
  /// Frames [startFrame, endFrame) of the target.
  public var startFrame: Int
  public var endFrame: Int
  public var chunkFrames: Int
  public var encoding: VideoEncoding
  /// The provenance label written into the output.
  public var label: String
  /// Every option that changes the output, by option name, in canonical form (resolved paths,
  /// sets sorted): the same work typed differently gives the same options.
  public var options: [String: String]
  /// Identity of every input and model file: resolved path -> "size:mtime" (or "size:sha256").
  public var files: [String: String]
  /// How to run the job again (`jobs resume`, workers); not part of its identity.
  public var command: StoredCommand?
  /// The run's configuration (`Swapping.SwapConfiguration`'s JSON, paths as given in
  /// `command.directory`): cluster workers render from it in-process. Not part of its identity.
  public var configuration: String?

  /// The folder the job was asked for in (its configuration's relative paths are relative to
  /// it). `arguments`, the swap command line, is only in jobs made before the configuration was
  /// stored; newer ones write it empty.
  public struct StoredCommand: Codable, Sendable, Equatable {
    public var arguments: [String]
    public var directory: String
    public init(arguments: [String], directory: String) {
      self.arguments = arguments
      self.directory = directory
    }
  }

  public init(target: String, output: String, startFrame: Int, endFrame: Int, chunkFrames: Int, encoding: VideoEncoding,
              label: String, options: [String: String], files: [String: String], command: StoredCommand? = nil,
              configuration: String? = nil) {
    self.target = target
    self.output = output
    self.startFrame = startFrame
    self.endFrame = endFrame
    self.chunkFrames = chunkFrames
    self.encoding = encoding
    self.label = label
    self.options = options
    self.files = files
    self.command = command
    self.configuration = configuration
  }

  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
  }

  /// The job's identity: everything but the stored command and configuration.
  public var fingerprint: String {
    var identity = self
    identity.command = nil
    identity.configuration = nil
    return SHA256.hex(of: Data(identity.json.utf8))
  }

  /// Frame ranges of `chunkFrames` (the last one shorter).
  public var chunks: [(startFrame: Int, frameCount: Int)] {
    stride(from: startFrame, to: endFrame, by: max(chunkFrames, 1)).map { ($0, min(chunkFrames, endFrame - $0)) }
  }

  /// "size:sha256" of a file (streamed in 4 MiB pieces), for files each node holds its own copy of.
  public static func contentIdentity(of path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile) }
    defer { try? handle.close() }
    let hasher = SHA256()
    var size = 0
    while let piece = try handle.read(upToCount: 4 << 20), !piece.isEmpty {
      hasher.update(data: piece)
      size += piece.count
    }
    return "\(size):" + hasher.hexDigest()
  }

  /// "size:mtime" of a file, cheap enough for 100 MB models (no hashing on every run).
  public static func identity(of path: String) -> String {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "missing" }
    let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return "\(size):\(String(format: "%.3f", modified))"
  }
}

/// The job engine: a chunk store (the embedded SQLite file, or PostgreSQL in cluster mode) and
/// where segments go: a folder holding one folder of segments per job (local, or a filesystem
/// every node mounts), or object storage (`objects`), where a node renders into its own local
/// folder and uploads each verified segment before committing it.
/// Every worker process opens the same store; chunks are claimed with leases, and a segment counts
/// only if its lease token still matches when it is committed (fencing).
// @unchecked: the placement and fault-injection fields are set before work starts and only read after.
public final class JobEngine: @unchecked Sendable {
  public let directory: String
  public let store: any ChunkStore
  public let leaseSeconds: Double
  /// Where ffmpeg and the decode/render threads run (see HelperPlacement).
  public var helperPlacement = HelperPlacement.unrestricted
  /// Where the render thread runs (nil: with the helpers).
  public var renderPlacement: HelperPlacement?
  /// CPUs for the analysis (inference) thread, i.e. the thread calling `work` (nil: anywhere).
  public var analysisCPUs: [Int]?
  /// Fault injection for tests: rendering any chunk containing this frame fails as if the frame
  /// were corrupt (set from SWAPLINE_INJECT_CORRUPT_FRAME by the CLI; nil in normal runs).
  public var corruptFrame: Int?
  /// Fault injection for tests: seconds to wait between a verified join and its publish, so a
  /// test can kill the process mid-join (from SWAPLINE_INJECT_JOIN_PAUSE; nil in normal runs).
  public var pauseBeforePublish: Double?
  /// Fault injection for tests: seconds to wait before this engine's first segment upload (from
  /// SWAPLINE_INJECT_UPLOAD_PAUSE), announced on stderr so a test can stop the S3 server then.
  public var pauseBeforeFirstUpload: Double? {
    get { uploadPause.withLock { $0 } }
    set { uploadPause.withLock { $0 = newValue } }
  }
  private let uploadPause = Mutex<Double?>(nil)
  /// Object storage for segments, outputs and `s3://` inputs (nil: everything is in folders).
  public let objects: ObjectStore?

  /// The embedded engine: `directory/jobs.sqlite` and the segments next to it.
  public convenience init(directory: String, leaseSeconds: Double = 30,
                          policy: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 30)) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    self.init(store: try SQLiteChunkStore(path: directory + "/jobs.sqlite", policy: policy), directory: directory, leaseSeconds: leaseSeconds)
  }

  /// `directory` is made absolute: segment paths are written into ffmpeg's concat list, which
  /// resolves relative names against its own folder.
  /// With `objects`, `directory` is this node's own work folder (segments while they are
  /// rendered or joined, locks), not shared.
  public init(store: any ChunkStore, directory: String, leaseSeconds: Double = 30, objects: ObjectStore? = nil) {
    self.store = store
    self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
    self.leaseSeconds = leaseSeconds
    self.objects = objects
  }

  /// Where a job's segments are written (with object storage: while rendered, and for the join).
  public func segmentFolder(job: Int64) -> String { directory + "/job-\(job)" }

  /// A job's folder of segments in object storage, relative to its prefix.
  public static func segmentPrefix(job: Int64) -> String { "job-\(job)/" }

  /// What ffmpeg is given to read an input: for an `s3://` one, a presigned URL (ffmpeg seeks
  /// with range requests, so a worker reads only its chunk); otherwise the path itself.
  public func readable(_ location: String) throws -> String {
    guard S3Location.isObjectURL(location) else { return location }
    guard let objects else { throw MediaError(.badInput, "\(location) is in object storage: this node needs --storage s3://...") }
    return objects.presignedURL(location)
  }

  /// Makes a verified segment visible to the join. With object storage it is uploaded (whole or
  /// not at all) under the job's prefix and the local copy removed; in a folder it is already
  /// in place.
  func publishSegment(job: Int64, path: String) throws {
    guard let objects else { return }
    defer { try? FileManager.default.removeItem(atPath: path) }
    if let pause = uploadPause.withLock({ value -> Double? in defer { value = nil }; return value }) {
      FileHandle.standardError.write(Data("swapline: injected fault: pausing \(pause) s before uploading \((path as NSString).lastPathComponent)\n".utf8))
      StopSignal().wait(seconds: pause)
    }
    try objects.upload(file: path, to: Self.segmentPrefix(job: job) + (path as NSString).lastPathComponent)
  }

  /// Why a failure belongs to object storage rather than to the chunk or job: it happened and
  /// the storage does not answer now (ffmpeg reading an input through a presigned URL only says
  /// "5XX" or "ended early", so the storage is asked). nil when it answers, or is not used: then
  /// the failure counts, whatever it was (a full local disk, one object that always fails), so
  /// a chunk cannot be given back for ever.
  /// `reading`: the job's input, when the failure may have been reading it.
  public func storageOutage(after error: any Error, reading: String? = nil) -> String? {
    guard let objects, !objects.answers(reading: reading) else { return nil }
    return "object storage \(objects) does not answer (\(error))"
  }

  /// Records a chunk's failure against its attempts and returns the error; when object storage
  /// is what failed, gives the chunk back untouched instead and returns `StorageUnavailable`.
  func recordFailure(_ lease: ChunkLease, _ error: any Error, reading input: String? = nil) -> any Error {
    if let reason = storageOutage(after: error, reading: input) {
      _ = try? store.giveBack(lease, reason: reason)
      return StorageUnavailable(reason: reason)
    }
    _ = try? store.fail(lease, error: "\(error)")
    return error
  }

  /// Blocks until object storage answers again or `stop` is raised, checking after 1 s, then
  /// backing off to every 10 s. True when it answers.
  @discardableResult
  public func waitForObjectStorage(stop: StopSignal, reading input: String? = nil) -> Bool {
    guard let objects else { return true }
    var pause = 1.0
    while !stop.wait(seconds: pause) {
      if objects.answers(reading: input) { return true }
      pause = min(pause * 2, 10)
    }
    return false
  }

  /// A published segment whose commit was refused (fenced out): never referenced, so removed.
  func discardSegment(job: Int64, name: String) {
    if let objects { try? objects.delete(Self.segmentPrefix(job: job) + name) } else {
      try? FileManager.default.removeItem(atPath: segmentFolder(job: job) + "/" + name)
    }
  }

  /// The names of the job's published segments.
  func segmentNames(job: Int64) throws -> Set<String> {
    let prefix = Self.segmentPrefix(job: job)
    if let objects { return Set(try objects.list(prefix).map { String($0.dropFirst(prefix.count)) }) }
    return Set((try? FileManager.default.contentsOfDirectory(atPath: segmentFolder(job: job))) ?? [])
  }

  /// Removes a job's segments (after its output is published, or when it is cancelled).
  public func removeSegments(job: Int64) {
    try? FileManager.default.removeItem(atPath: segmentFolder(job: job))
    try? objects?.deleteAll(under: Self.segmentPrefix(job: job))
  }

  /// The lock a join holds (see `finalize`): taken by `jobs cancel` so a join in progress ends
  /// first and a cancelled job is never published.
  public func joinLock(job: Int64) throws -> FileLock? {
    guard FileManager.default.fileExists(atPath: segmentFolder(job: job)) else { return nil }
    return try FileLock(segmentFolder(job: job) + "/join.lock")
  }

  /// This process as a lease owner: host and pid, so a later run can tell whether it is alive.
  public static var workerName: String { "\(ProcessInfo.processInfo.hostName):\(getpid())" }

  /// Done chunks the last `prepare` sent back to pending because their segment was missing.
  public private(set) var reopened = 0

  public struct Prepared: Sendable {
    public let job: Int64
    public let resumed: Bool
    public let chunkCount: Int
    public let doneChunks: Int
  }

  /// Finds the running job with this spec's fingerprint, or creates it. When resuming, leases of
  /// local workers that no longer exist (killed) go back to pending at once.
  public func prepare(_ spec: VideoJobSpec, tenant: String = "") throws -> Prepared {
    // Two runs of the same command started together must find one job, not make two.
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let lock = try FileLock(directory + "/prepare.lock")
    defer { lock.release() }
    if let existing = try store.findJob(fingerprint: spec.fingerprint, states: [.running, .failed]) {
      if existing.state == .failed { _ = try store.retry(job: existing.id) }
      _ = try releaseLeasesOfGoneWorkers(job: existing.id)
      // The folder may be gone (cancelled, then retried) and segments lost: render those again.
      try FileManager.default.createDirectory(atPath: segmentFolder(job: existing.id), withIntermediateDirectories: true)
      let published = try segmentNames(job: existing.id)
      let missing = try store.chunks(job: existing.id).filter { chunk in chunk.state == .done && !published.contains(chunk.output ?? "") }
      reopened = try store.reopen(job: existing.id, indices: missing.map(\.index), reason: "segment missing; rendered again")
      let chunks = try store.chunks(job: existing.id)
      return Prepared(job: existing.id, resumed: true, chunkCount: chunks.count, doneChunks: chunks.filter { $0.state == .done }.count)
    }
    let job = try store.createJob(name: (spec.output as NSString).lastPathComponent, fingerprint: spec.fingerprint, spec: spec.json,
                                  tenant: tenant, chunks: spec.chunks)
    try FileManager.default.createDirectory(atPath: segmentFolder(job: job), withIntermediateDirectories: true)
    return Prepared(job: job, resumed: false, chunkCount: spec.chunks.count, doneChunks: 0)
  }

  /// Releases leases held by processes of this host that have exited.
  @discardableResult
  public func releaseLeasesOfGoneWorkers(job: Int64) throws -> Int {
    let host = ProcessInfo.processInfo.hostName
    let gone = Set(try store.leaseOwners(job: job).compactMap(\.owner).filter { owner in
      let parts = owner.split(separator: ":")
      guard parts.count == 2, String(parts[0]) == host, let pid = Int32(parts[1]) else { return false }
      return kill(pid, 0) != 0 && errno == ESRCH
    })
    return try store.releaseLeases(job: job, owners: gone)
  }

  public struct ChunkEvent: Sendable {
    public let index: Int
    public let frames: Int
    public let seconds: Double
    public let committed: Bool
    /// Seconds the analysis thread waited for decoded frames and for the render thread.
    public let waitedForFrames: Double
    public let waitedForRender: Double
    /// Seconds the chunk waited claimable before it was claimed.
    public var queuedSeconds: Double = 0
  }

  /// Claims and renders chunks of `job` until none is claimable now. `warmReader`, a decoder
  /// started ahead of time, is used for the first chunk when its frame range matches. Returns the chunks this
  /// worker committed. The next chunk is claimed and opened when the current one is half analysed,
  /// and a chunk's rendering and encoding finish in the background while the next is analysed,
  /// so the analysis thread (the one running inference) never waits at chunk boundaries.
  /// A chunk's own error marks it for retry (or dead) and is rethrown after the chunks in flight
  /// are settled.
  public func work<Processor: VideoFrameProcessor>(job: Int64, spec: VideoJobSpec, info: MediaInfo, processor: Processor,
                                                   worker: String = JobEngine.workerName, warmReader: FrameReader? = nil,
                                                   shouldStop: @escaping @Sendable () -> Bool = { false },
                                                   frameDone: @escaping @Sendable () -> Void = {},
                                                   chunkDone: @escaping @Sendable (ChunkEvent) -> Void = { _ in }) throws -> Int {
    if let analysisCPUs { pinCurrentThread(to: analysisCPUs) }
    var session = ChunkSession(engine: self, job: job, spec: spec, info: info, processor: processor, worker: worker, warmReader: warmReader,
                               shouldStop: shouldStop, frameDone: frameDone, chunkDone: chunkDone)
    return try session.run()
  }

  public enum Completion: Sendable, Equatable {
    /// Every chunk is done.
    case complete
    /// Chunks wait for their retry time or for other workers.
    case waiting(seconds: Double)
    /// A chunk is dead: its last error.
    case failed(String)
  }

  public func completion(job: Int64) throws -> Completion {
    let chunks = try store.chunks(job: job)
    if let dead = chunks.first(where: { $0.state == .dead }) {
      return .failed("chunk \(dead.index) (frames \(dead.startFrame)-\(dead.startFrame + dead.frameCount - 1)) failed \(dead.attempt) times: \(dead.lastError ?? "unknown error")")
    }
    return chunks.allSatisfy { $0.state == .done } ? .complete : .waiting(seconds: 0.5)
  }

  public enum Joined: Sendable, Equatable {
    /// This call wrote the output.
    case published
    /// Another process of the same job had already written it.
    case alreadyDone
  }

  /// Joins the committed segments with the target's audio into the output and marks the job
  /// done; the job's segments are removed afterwards. One process joins at a time (a lock file in
  /// the job's folder); a second one finds the job done and leaves the output alone. Every
  /// segment's frames are counted first: a missing or damaged one sends its chunk back to
  /// pending (``SegmentsReopened``) instead of going into the output. `mayPublish` is asked
  /// right before the output is published (a coordinator: whether it still leads); false throws
  /// ``LeadershipLost`` and publishes nothing.
  @discardableResult
  public func finalize(job: Int64, spec: VideoJobSpec, info: MediaInfo, mayPublish: () -> Bool = { true }) throws -> Joined {
    let folder = segmentFolder(job: job)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let lock = try FileLock(folder + "/join.lock")
    defer { lock.release() }  // see joinLock(job:)
    guard let record = try store.job(job) else { throw MediaError(.processFailed, "job \(job) is gone from the store") }
    if record.state == .done { return .alreadyDone }
    guard record.state == .running else { throw JobStopped(job: job, state: record.state) }
    var segments: [(path: String, frames: Int)] = []
    var damaged: [(index: Int, reason: String)] = []
    let published = objects == nil ? nil : try segmentNames(job: job)
    for chunk in try store.chunks(job: job) {
      guard chunk.state == .done, let name = chunk.output else { throw MediaError(.processFailed, "chunk \(chunk.index) is not done") }
      let path = folder + "/" + name
      // From object storage into this node's folder (a failed download is not a damaged segment:
      // it throws, and the join is tried again at the next poll).
      if let objects, published?.contains(name) == true, !FileManager.default.fileExists(atPath: path) {
        try objects.download(Self.segmentPrefix(job: job) + name, to: path)
      }
      do throws(MediaError) {
        guard FileManager.default.fileExists(atPath: path) else { throw MediaError(.processFailed, "segment \(name) is missing") }
        try VideoAssembly.verifyFrameCount(of: path, expected: chunk.frameCount)
      } catch {
        damaged.append((chunk.index, error.message))
      }
      segments.append((path, chunk.frameCount))
    }
    if !damaged.isEmpty {
      _ = try store.reopen(job: job, indices: damaged.map(\.index), reason: damaged[0].reason + "; rendered again")
      throw SegmentsReopened(chunks: damaged.map(\.index), reason: damaged[0].reason)
    }
    let firstTime = info.frameTimes.first ?? 0
    var duration = Double(spec.endFrame - spec.startFrame) / max(info.frameRate, 1)
    var durations: [Double]?
    if info.isVariableFrameRate {
      // Each segment lasts from its first frame to the next one's; the last frame keeps the
      // source's own interval (or the mean one at the very end).
      let times = info.frameTimes
      let meanInterval = 1 / max(info.frameRate, 1)
      func time(_ frame: Int) -> Double {
        frame < times.count ? times[frame] : times[times.count - 1] + meanInterval
      }
      let starts = spec.chunks.map(\.startFrame)
      durations = starts.enumerated().map { index, start in
        time(index + 1 < starts.count ? starts[index + 1] : spec.endFrame) - time(start)
      }
      duration = time(spec.endFrame) - time(spec.startFrame)
    }
    // An output in object storage is joined here, then uploaded (it appears whole or not at all).
    let remoteOutput = S3Location.isObjectURL(spec.output)
    if remoteOutput && objects == nil { throw MediaError(.badInput, "\(spec.output) is in object storage: this node needs --storage s3://...") }
    let output = remoteOutput ? folder + "/output." + (spec.output as NSString).pathExtension : spec.output
    var refused = false
    do {
      try VideoAssembly.assemble(
        segments: segments, frameRate: info.frameRate, audioSource: info.audioStreams > 0 ? try readable(spec.target) : nil,
        audioStart: info.frameTimes[spec.startFrame] - firstTime, duration: duration, durations: durations,
        copyAudio: spec.startFrame == 0 && spec.endFrame == info.frameCount
          && VideoAssembly.container((spec.output as NSString).pathExtension, takesAudio: info.audioCodec ?? ""),
        metadata: [("comment", spec.label), ("swapline_provenance", spec.label)], output: output, workFolder: folder,
        beforePublish: { () throws(MediaError) in
          if let pause = pauseBeforePublish {
            FileHandle.standardError.write(Data("swapline: injected fault: pausing \(pause) s before publishing job \(job)\n".utf8))
            StopSignal().wait(seconds: pause)
          }
          guard remoteOutput || mayPublish() else {
            refused = true
            throw MediaError(.processFailed, "not published")
          }
        })
    } catch where refused {
      throw LeadershipLost(job: job)
    }
    if remoteOutput, let objects {
      guard mayPublish() else { throw LeadershipLost(job: job) }
      try objects.upload(file: output, to: spec.output)
    }
    // Done only from running: a job cancelled during the join stays cancelled.
    _ = try store.transitionJob(job, from: .running, to: .done, error: nil)
    removeSegments(job: job)
    return .published
  }
}

/// An exclusive flock(2) on a file, held until `release` (or the process's end, even by kill -9).
public struct FileLock: Sendable {
  private let descriptor: Int32

  public init(_ path: String) throws(MediaError) {
    descriptor = open(path, O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw MediaError(.processFailed, "cannot lock \(path): \(describeErrno(errno))") }
    while flock(descriptor, LOCK_EX) != 0 {
      guard errno == EINTR else {
        let reason = describeErrno(errno)
        close(descriptor)
        throw MediaError(.processFailed, "cannot lock \(path): \(reason)")
      }
    }
  }

  public func release() { close(descriptor) }
}

/// The job was cancelled (or otherwise stopped) while this process worked on it.
public struct JobStopped: Error, CustomStringConvertible {
  public let job: Int64
  public let state: JobState
  public init(job: Int64, state: JobState) {
    self.job = job
    self.state = state
  }
  public var description: String { "job \(job) was \(state == .cancelled ? "cancelled" : "marked \(state.rawValue)") while it ran" }
}

/// A coordinator stopped leading during a join: nothing was published, the new leader joins.
public struct LeadershipLost: Error, CustomStringConvertible {
  public let job: Int64
  public var description: String { "job \(job): this coordinator stopped leading during the join; nothing published, the leader joins it" }
}

/// Object storage could not be reached during a chunk: the chunk was given back with its
/// attempt returned (an outage must not use up a chunk's retries and fail the job).
public struct StorageUnavailable: Error, CustomStringConvertible {
  public let reason: String
  public var description: String { reason + "; chunk given back, no attempt used" }
}

/// Segments of done chunks were missing or damaged: those chunks are pending again.
public struct SegmentsReopened: Error, CustomStringConvertible {
  public let chunks: [Int]
  public let reason: String
  public var description: String {
    "segment\(chunks.count == 1 ? "" : "s") of chunk\(chunks.count == 1 ? "" : "s") \(chunks.map(String.init).joined(separator: ", ")) "
      + "failed verification (\(reason)); rendering again"
  }
}

/// A chunk this worker holds the lease of, with its render in flight.
// @unchecked: handed whole from the claiming thread to the finishing one.
struct ClaimedChunk<Processor: VideoFrameProcessor>: @unchecked Sendable {
  let lease: ChunkLease
  let chunk: ChunkRender<Processor>
  let heartbeat: LeaseHeartbeat
  let started: ContinuousClock.Instant
}

/// Renews a lease every third of its duration on a background thread; `lost` turns true when
/// the store says the lease is no longer ours (expired and re-granted), and the chunk stops.
/// It also looks at the job's state every second, so a `jobs cancel` stops the chunk promptly.
// @unchecked: its state is Mutex and Atomic values; the semaphore is thread-safe.
final class LeaseHeartbeat: @unchecked Sendable {
  private let stopped = Mutex(false)
  private let lostFlag = Mutex(false)
  private let stoppedJob = Mutex<JobState?>(nil)
  private let wake = DispatchSemaphore(value: 0)

  /// Frames of the chunk rendered so far, reported with each renewal.
  let framesDone = Atomic<Int>(0)

  init(store: any ChunkStore, lease: ChunkLease, leaseSeconds: Double) {
    let tick = min(1, leaseSeconds / 3)
    Thread.detachNewThread { [self] in
      var sinceRenewal = 0.0
      while wake.wait(timeout: .now() + tick) == .timedOut {
        if stopped.withLock({ $0 }) { return }
        if let state = try? store.job(lease.jobID)?.state, state != .running {
          stoppedJob.withLock { $0 = state }
          return
        }
        sinceRenewal += tick
        guard sinceRenewal >= leaseSeconds / 3 - 1e-9 else { continue }
        sinceRenewal = 0
        let renewed = (try? store.renew(lease, leaseSeconds: leaseSeconds, framesDone: framesDone.load(ordering: .relaxed))) ?? false
        if !renewed {
          lostFlag.withLock { $0 = true }
          return
        }
      }
    }
  }

  var lost: Bool { lostFlag.withLock { $0 } }
  /// The job's state when it stopped running (cancelled, failed) during this chunk.
  var jobStopped: JobState? { stoppedJob.withLock { $0 } }

  func stop() {
    stopped.withLock { $0 = true }
    wake.signal()
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
