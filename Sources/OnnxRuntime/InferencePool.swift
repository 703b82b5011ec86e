import Foundation
import Synchronization

/// FaceFusion's `--video-memory-strategy`: when model sessions are released.
public enum VideoMemoryStrategy: String, Sendable, CaseIterable, Codable {
  /// Release every session when a processing stage finishes (lowest memory, most reloads).
  case strict
  /// Release the finished stage's own sessions, keep the others.
  case moderate
  /// Keep everything until the budget forces eviction (fastest).
  case tolerant
}

/// Counters the pool exposes (for `--profile`, metrics and tests).
public struct InferencePoolCounters: Sendable, Equatable {
  public var loads = 0
  public var hits = 0
  public var evictions = 0
  public var residentBytes: Int64 = 0
  public var loadSeconds: Double = 0
}

/// Sizing and policy for an ``InferencePool``.
public struct InferencePoolConfiguration: Sendable, Equatable {
  /// Upper bound on the estimated bytes of resident sessions (`--memory-budget`).
  public var budgetBytes: Int64
  public var strategy: VideoMemoryStrategy
  public var execution: ExecutionOptions
  /// Stages (owners) whose sessions run on the calling thread only, not on the global pool
  /// (a video's analysis models on a small CPU machine; see ThreadPlan).
  public var callerThreadOwners: Set<String>

  public init(budgetBytes: Int64, strategy: VideoMemoryStrategy = .tolerant, execution: ExecutionOptions = ExecutionOptions(),
              callerThreadOwners: Set<String> = []) {
    self.budgetBytes = budgetBytes
    self.strategy = strategy
    self.execution = execution
    self.callerThreadOwners = callerThreadOwners
  }

  /// Half of physical memory on CPU; on a GPU, 80% of the device memory when it is known.
  public static func defaultBudget(physicalMemory: UInt64 = ProcessInfo.processInfo.physicalMemory,
                                   deviceMemory: UInt64? = nil) -> Int64 {
    if let deviceMemory { return Int64(Double(deviceMemory) * 0.8) }
    return Int64(physicalMemory / 2)
  }
}

/// Lazily created sessions keyed by model, provider preference and device, kept under a byte
/// budget with least-recently-used eviction.
///
/// The resident size of a session is estimated from its model file (weights dominate; the
/// estimate can be replaced for tests). Sessions handed out stay valid after eviction: the
/// pool only drops its own reference, so a frame in flight finishes on the session it has.
public final class InferencePool: Sendable {
  public struct Key: Hashable, Sendable {
    public let modelPath: String
    public let providers: [ExecutionProviderKind]
    public let deviceID: Int
    public let threading: SessionThreading
  }

  struct Entry {
    let session: InferenceSession
    let bytes: Int64
    let owner: String
    var lastUse: UInt64
  }

  struct State {
    var entries: [Key: Entry] = [:]
    var clock: UInt64 = 0
    var counters = InferencePoolCounters()
  }

  public let runtime: OrtRuntime
  public let configuration: InferencePoolConfiguration
  let sizeEstimate: @Sendable (String) -> Int64
  private let state = Mutex(State())

  public init(runtime: OrtRuntime, configuration: InferencePoolConfiguration,
              sizeEstimate: @escaping @Sendable (String) -> Int64 = InferencePool.fileSize) {
    self.runtime = runtime
    self.configuration = configuration
    self.sizeEstimate = sizeEstimate
  }

  public static let fileSize: @Sendable (String) -> Int64 = { path in
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
  }

  /// Returns the session for `modelPath`, loading it on first use. `owner` names the stage that
  /// uses it (e.g. "face_detector") for the moderate strategy; `threading` defaults to the
  /// configuration's choice for that owner.
  ///
  /// Loading happens under the pool's lock so two threads never load the same model twice;
  /// loads are rare (once per model per run) compared with lookups.
  public func session(for modelPath: String, owner: String, deviceID: Int? = nil,
                      threading: SessionThreading? = nil) throws(OnnxRuntimeError) -> InferenceSession {
    let threading = threading ?? (configuration.callerThreadOwners.contains(owner) ? .callerThread : .globalPool)
    let key = Key(modelPath: modelPath, providers: configuration.execution.providers,
                  deviceID: deviceID ?? configuration.execution.deviceIDs[0], threading: threading)
    return try state.withLock { state throws(OnnxRuntimeError) -> InferenceSession in
      state.clock += 1
      if var entry = state.entries[key] {
        entry.lastUse = state.clock
        state.entries[key] = entry
        state.counters.hits += 1
        return entry.session
      }
      let session = try InferenceSession(runtime: runtime, modelPath: modelPath, options: configuration.execution,
                                         deviceID: key.deviceID, threading: threading)
      let bytes = sizeEstimate(modelPath)
      state.entries[key] = Entry(session: session, bytes: bytes, owner: owner, lastUse: state.clock)
      state.counters.loads += 1
      state.counters.loadSeconds += session.loadSeconds
      state.counters.residentBytes += bytes
      evictOverBudget(&state, keeping: key)
      return session
    }
  }

  /// Loads the sessions a job will need before its first frame, so the first frame is not slow
  /// and a missing or broken model fails the job up front.
  public func prefetch(_ models: [(path: String, owner: String)]) throws(OnnxRuntimeError) {
    for model in models { _ = try session(for: model.path, owner: model.owner) }
  }

  /// Applies the video memory strategy after `owner`'s stage finished: the sessions it lets go
  /// are freed (`InferenceSession.release()`), even where a processor still holds them, which
  /// then loads them again on its next run. Returns the sessions released.
  @discardableResult
  public func stageFinished(owner: String) -> [InferenceSession] {
    let released = state.withLock { state -> [InferenceSession] in
      switch configuration.strategy {
      case .strict: return remove(&state) { _ in true }
      case .moderate: return remove(&state) { $0.owner == owner }
      case .tolerant: return []
      }
    }
    released.forEach { $0.release() }
    return released
  }

  /// Drops every session.
  public func clear() { state.withLock { _ = remove(&$0) { _ in true } } }

  public var counters: InferencePoolCounters { state.withLock { $0.counters } }

  /// Resident sessions, least recently used first.
  public var residentSessions: [InferenceSession] {
    state.withLock { $0.entries.sorted { $0.value.lastUse < $1.value.lastUse }.map(\.value.session) }
  }

  /// Resident model paths, least recently used first.
  public var residentModels: [String] {
    state.withLock { $0.entries.sorted { $0.value.lastUse < $1.value.lastUse }.map(\.key.modelPath) }
  }

  private func evictOverBudget(_ state: inout State, keeping protected: Key) {
    while state.counters.residentBytes > configuration.budgetBytes {
      let victim = state.entries.filter { $0.key != protected }.min { $0.value.lastUse < $1.value.lastUse }
      guard let victim else { break }  // one model larger than the budget stays: nothing else to do
      state.entries[victim.key] = nil
      state.counters.residentBytes -= victim.value.bytes
      state.counters.evictions += 1
    }
  }

  @discardableResult
  private func remove(_ state: inout State, where predicate: (Entry) -> Bool) -> [InferenceSession] {
    var removed: [InferenceSession] = []
    for (key, entry) in state.entries where predicate(entry) {
      state.entries[key] = nil
      state.counters.residentBytes -= entry.bytes
      state.counters.evictions += 1
      removed.append(entry.session)
    }
    return removed
  }
}
