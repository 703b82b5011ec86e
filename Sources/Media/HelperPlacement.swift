import CSystem
import Foundation

/// Where and how the pipeline's helper work runs (ffmpeg processes, decode and render threads)
/// relative to the inference thread. With CPU inference on a small machine the inference thread
/// is the critical path and everything else has slack, so helpers get fewer threads, a lower
/// priority and, when there are cores to spare, cores of their own.
public struct HelperPlacement: Sendable, Equatable {
  /// ffmpeg's -threads (nil: ffmpeg's own choice, about one per core).
  public var threads: Int?
  /// Nice value for helper processes and threads (0: same as the inference thread).
  public var niceness: Int
  /// CPUs helpers run on (nil: anywhere).
  public var cpus: [Int]?

  public init(threads: Int? = nil, niceness: Int = 0, cpus: [Int]? = nil) {
    self.threads = threads
    self.niceness = niceness
    self.cpus = cpus
  }

  public static let unrestricted = HelperPlacement()

  /// The command prefix (nice, taskset) that starts a helper process in place.
  var commandPrefix: [String] {
    var prefix: [String] = []
    if niceness > 0 { prefix += ["nice", "-n", String(niceness)] }
    if let cpus, !cpus.isEmpty { prefix += ["taskset", "-c", cpus.map(String.init).joined(separator: ",")] }
    return prefix
  }

  var threadArguments: [String] { threads.map { ["-threads", String($0)] } ?? [] }

  /// Applies the niceness and CPUs to the calling thread (a decode or render thread).
  public func applyToCurrentThread() {
    if niceness > 0 { _ = swapline_set_current_thread_niceness(Int32(niceness)) }
    if let cpus, !cpus.isEmpty { pinCurrentThread(to: cpus) }
  }
}

/// Restricts the calling thread to `cpus`; false when the kernel refuses (e.g. a cpuset
/// without those CPUs), in which case the thread stays where it was.
@discardableResult
public func pinCurrentThread(to cpus: [Int]) -> Bool {
  let list = cpus.map { Int32($0) }
  return list.withUnsafeBufferPointer { swapline_pin_current_thread($0.baseAddress, Int32($0.count)) } == 0
}

/// How a video run shares the machine's cores: ONNX Runtime's intra-op threads, where helper
/// threads and processes (decode, render, encode) run, and whether the analysis thread is pinned.
/// A pure function of the machine and the options, so it is testable for any core count.
public struct ThreadPlan: Sendable, Equatable {
  public var intraOpThreads: Int
  public var helpers: HelperPlacement
  /// CPUs the analysis (inference) thread is pinned to; nil: not pinned.
  public var analysisCPUs: [Int]?

  /// - cores: the machine's active cores; workers: local processes sharing them (`--workers`);
  ///   threadOverride: `--execution-thread-count`; cpuOnly: every requested provider is the CPU.
  /// Video: inference gets all cores but one (decode, render and encode run beside it), divided
  /// between the workers; helpers get what inference leaves, at a lower priority. With one worker
  /// and single-threaded inference on two or more cores, inference keeps core 0 and helpers the rest.
  public static func forVideo(cores: Int, workers: Int, threadOverride: Int?, cpuOnly: Bool, pinning: Bool) -> ThreadPlan {
    let workers = max(workers, 1)
    let intraOp = threadOverride ?? max(1, (cores - 1) / workers)
    guard cpuOnly else { return ThreadPlan(intraOpThreads: intraOp, helpers: .unrestricted, analysisCPUs: nil) }
    let pin = pinning && workers == 1 && intraOp == 1 && cores >= 2
    return ThreadPlan(intraOpThreads: intraOp,
                      helpers: HelperPlacement(threads: max(1, cores / workers - intraOp), niceness: 10, cpus: pin ? Array(1..<cores) : nil),
                      analysisCPUs: pin ? [0] : nil)
  }
}
