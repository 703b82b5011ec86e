import Crypto
import Foundation
import Jobs
import Media
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
  /// Processing options, as given (for `jobs show` and the fingerprint).
  public var options: [String: String]
  /// Identity of every input and model file: path -> "size:mtime".
  public var files: [String: String]

  public init(target: String, output: String, startFrame: Int, endFrame: Int, chunkFrames: Int, encoding: VideoEncoding,
              label: String, options: [String: String], files: [String: String]) {
    self.target = target
    self.output = output
    self.startFrame = startFrame
    self.endFrame = endFrame
    self.chunkFrames = chunkFrames
    self.encoding = encoding
    self.label = label
    self.options = options
    self.files = files
  }

  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
  }

  public var fingerprint: String {
    SHA256.hash(data: Data(json.utf8)).map { String(format: "%02x", $0) }.joined()
  }

  /// Frame ranges of `chunkFrames` (the last one shorter).
  public var chunks: [(startFrame: Int, frameCount: Int)] {
    stride(from: startFrame, to: endFrame, by: max(chunkFrames, 1)).map { ($0, min(chunkFrames, endFrame - $0)) }
  }

  /// "size:mtime" of a file, cheap enough for 100 MB models (no hashing on every run).
  public static func identity(of path: String) -> String {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "missing" }
    let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return "\(size):\(String(format: "%.3f", modified))"
  }
}

/// The embedded job engine: a jobs folder holding the SQLite store and one folder of segments per
/// job. Every local worker process opens the same folder; chunks are claimed with leases, and a
/// segment counts only if its lease token still matches when it is committed (fencing).
public final class LocalJobs: @unchecked Sendable {
  public let directory: String
  public let store: SQLiteChunkStore
  public let leaseSeconds: Double

  public init(directory: String, leaseSeconds: Double = 30, policy: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 30)) throws {
    self.directory = directory
    self.leaseSeconds = leaseSeconds
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    store = try SQLiteChunkStore(path: directory + "/jobs.sqlite", policy: policy)
  }

  public func segmentFolder(job: Int64) -> String { directory + "/job-\(job)" }

  /// This process as a lease owner: host and pid, so a later run can tell whether it is alive.
  public static var workerName: String { "\(ProcessInfo.processInfo.hostName):\(getpid())" }

  public struct Prepared: Sendable {
    public let job: Int64
    public let resumed: Bool
    public let chunkCount: Int
    public let doneChunks: Int
  }

  /// Finds the running job with this spec's fingerprint, or creates it. When resuming, leases of
  /// local workers that no longer exist (killed) go back to pending at once.
  public func prepare(_ spec: VideoJobSpec) throws -> Prepared {
    if let existing = try store.findJob(fingerprint: spec.fingerprint, states: [.running, .failed]) {
      if existing.state == .failed { _ = try store.retry(job: existing.id) }
      _ = try releaseLeasesOfGoneWorkers(job: existing.id)
      let chunks = try store.chunks(job: existing.id)
      return Prepared(job: existing.id, resumed: true, chunkCount: chunks.count, doneChunks: chunks.filter { $0.state == .done }.count)
    }
    let job = try store.createJob(name: (spec.output as NSString).lastPathComponent, fingerprint: spec.fingerprint, spec: spec.json,
                                  chunks: spec.chunks)
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
  }

  /// Claims and renders chunks of `job` until none is claimable now. Returns the chunks this
  /// worker committed. A chunk's own error marks it for retry (or dead); the error is rethrown
  /// only when `stopOnError`.
  public func work<Processor: VideoFrameProcessor>(job: Int64, spec: VideoJobSpec, info: MediaInfo, processor: Processor,
                                                   worker: String = LocalJobs.workerName,
                                                   shouldStop: @escaping @Sendable () -> Bool = { false },
                                                   frameDone: @escaping @Sendable () -> Void = {},
                                                   chunkDone: (ChunkEvent) -> Void = { _ in }) throws -> Int {
    let renderer = ChunkRenderer(processor: processor, encoding: spec.encoding)
    var committed = 0
    while !shouldStop(), let lease = try store.claim(worker: worker, job: job, leaseSeconds: leaseSeconds) {
      let started = ContinuousClock.now
      let segment = segmentFolder(job: job) + String(format: "/chunk-%05d.t%d.%@", lease.index, lease.token,
                                                     spec.encoding.encoder.segmentExtension)
      let heartbeat = LeaseHeartbeat(store: store, lease: lease, leaseSeconds: leaseSeconds)
      do {
        _ = try renderer.render(target: spec.target, info: info, start: lease.startFrame, count: lease.frameCount, segment: segment,
                                shouldStop: { shouldStop() || heartbeat.lost }, frameDone: frameDone)
        heartbeat.stop()
        // Fencing: if another worker holds the chunk now, our segment is never referenced.
        let accepted = try store.complete(lease, output: (segment as NSString).lastPathComponent)
        if !accepted { try? FileManager.default.removeItem(atPath: segment) }
        committed += accepted ? 1 : 0
        chunkDone(ChunkEvent(index: lease.index, frames: lease.frameCount, seconds: (ContinuousClock.now - started).seconds,
                             committed: accepted))
      } catch {
        heartbeat.stop()
        try? FileManager.default.removeItem(atPath: segment)
        if shouldStop() { return committed }
        _ = try store.fail(lease, error: "\(error)")
        throw error
      }
    }
    return committed
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

  /// Verifies every segment's frame count, joins them with the target's audio into the output and
  /// marks the job done; the job's segments are removed afterwards.
  public func finalize(job: Int64, spec: VideoJobSpec, info: MediaInfo) throws {
    let folder = segmentFolder(job: job)
    var segments: [(path: String, frames: Int)] = []
    for chunk in try store.chunks(job: job) {
      guard chunk.state == .done, let name = chunk.output else { throw MediaError(.processFailed, "chunk \(chunk.index) is not done") }
      let path = folder + "/" + name
      let frames = try VideoAssembly.frameCount(of: path)
      guard frames == chunk.frameCount else {
        throw MediaError(.processFailed, "segment \(name) has \(frames) frames, expected \(chunk.frameCount) (frame mismatch)")
      }
      segments.append((path, frames))
    }
    let firstTime = info.frameTimes.first ?? 0
    try VideoAssembly.assemble(
      segments: segments, frameRate: info.frameRate, audioSource: info.audioStreams > 0 ? spec.target : nil,
      audioStart: info.frameTimes[spec.startFrame] - firstTime, duration: Double(spec.endFrame - spec.startFrame) / max(info.frameRate, 1),
      metadata: [("comment", spec.label), ("swapline_provenance", spec.label)], output: spec.output, workFolder: folder)
    try store.setJobState(job, .done, error: nil)
    try? FileManager.default.removeItem(atPath: folder)
  }
}

/// Renews a lease every third of its duration on a background thread; `lost` turns true when
/// the store says the lease is no longer ours (expired and re-granted), and the chunk stops.
final class LeaseHeartbeat: @unchecked Sendable {
  private let stopped = Mutex(false)
  private let lostFlag = Mutex(false)
  private let wake = DispatchSemaphore(value: 0)

  init(store: any ChunkStore, lease: ChunkLease, leaseSeconds: Double) {
    Thread.detachNewThread { [self] in
      while wake.wait(timeout: .now() + leaseSeconds / 3) == .timedOut {
        if stopped.withLock({ $0 }) { return }
        let renewed = (try? store.renew(lease, leaseSeconds: leaseSeconds)) ?? false
        if !renewed {
          lostFlag.withLock { $0 = true }
          return
        }
      }
    }
  }

  var lost: Bool { lostFlag.withLock { $0 } }

  func stop() {
    stopped.withLock { $0 = true }
    wake.signal()
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
