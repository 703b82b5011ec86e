import CLinuxThreads
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

/// What one video frame costs each side of the pipeline, in seconds, measured on the loaded
/// models before the run (see ThreadPlan): the analysis thread's models (detection and landmarks
/// amortised over the detector interval, embeddings) and the render thread's (swapper, masks,
/// enhancers).
public struct StageCosts: Sendable, Equatable {
  public var analysis: Double
  public var render: Double

  public init(analysis: Double, render: Double) {
    self.analysis = analysis
    self.render = render
  }
}

/// How a video run shares the machine's cores: ONNX Runtime's global intra-op pool, whether the
/// analysis models run on the analysis thread alone, where helper threads and processes (decode,
/// encode) and the render thread run, and whether the analysis thread is pinned.
/// Pure functions of the machine, the options and the measured stage costs, so testable for any
/// core count.
public struct ThreadPlan: Sendable, Equatable {
  /// The stage that sets the pace, and so gets the cores.
  public enum Bottleneck: String, Sendable { case analysis, render }

  /// Threads of the global pool (render models always; analysis models unless
  /// `analysisOnCallerThread`).
  public var intraOpThreads: Int
  /// Analysis models run on the analysis thread only, one core's worth.
  public var analysisOnCallerThread: Bool
  /// ffmpeg processes and the decode thread.
  public var helpers: HelperPlacement
  /// The render thread (processors: swapper, masks, enhancers, paste).
  public var render: HelperPlacement
  /// CPUs the analysis thread is pinned to; nil: not pinned.
  public var analysisCPUs: [Int]?
  public var bottleneck: Bottleneck

  /// The part decided before any model loads: the global pool's size (all cores, divided between
  /// local workers; on GPU one core is left to the helpers), and whether analysis models stay on
  /// their own thread. They do where their share of the machine is one core (cores - 1 divided
  /// between workers), so that a render stage using the pool cannot slow detection, and the
  /// analysis-bound plan below can pin them.
  public static func threads(cores: Int, workers: Int, threadOverride: Int?, cpuOnly: Bool) -> (pool: Int, analysisOnCallerThread: Bool) {
    let workers = max(workers, 1)
    if let threadOverride { return (max(1, threadOverride), false) }
    let analysisShare = max(1, (cores - 1) / workers)
    guard cpuOnly else { return (analysisShare, false) }
    let pool = max(1, cores / workers)
    return (pool, analysisShare == 1 && pool > 1)
  }

  /// - cores: the machine's active cores; workers: local processes sharing them (`--workers`);
  ///   threadOverride: `--execution-thread-count`; cpuOnly: every requested provider is the CPU;
  ///   costs: measured per-frame model costs (nil: nothing measured, e.g. the classic swapper,
  ///   whose render stage runs no model).
  /// Analysis-bound (detection dominates, the classic swapper): analysis keeps its threads at
  /// normal priority and, when it is single-threaded with one worker on two or more cores, core 0
  /// to itself; decode, render and encode share the rest at a lower priority.
  /// Render-bound (a zoo swapper or enhancer dominates): nothing is pinned; the render thread runs
  /// at normal priority on the global pool sized to the machine, the analysis thread beside it,
  /// and only ffmpeg and decoding are lowered.
  public static func forVideo(cores: Int, workers: Int, threadOverride: Int?, cpuOnly: Bool, pinning: Bool,
                              costs: StageCosts? = nil) -> ThreadPlan {
    let workers = max(workers, 1)
    let (pool, callerOnly) = threads(cores: cores, workers: workers, threadOverride: threadOverride, cpuOnly: cpuOnly)
    let bottleneck: Bottleneck = (costs?.render ?? 0) > (costs?.analysis ?? 0) ? .render : .analysis
    guard cpuOnly else {
      return ThreadPlan(intraOpThreads: pool, analysisOnCallerThread: false, helpers: .unrestricted, render: .unrestricted,
                        analysisCPUs: nil, bottleneck: bottleneck)
    }
    if bottleneck == .render {
      return ThreadPlan(intraOpThreads: pool, analysisOnCallerThread: callerOnly, helpers: HelperPlacement(threads: 1, niceness: 10),
                        render: .unrestricted, analysisCPUs: nil, bottleneck: .render)
    }
    let analysisThreads = callerOnly ? 1 : pool
    let pin = pinning && workers == 1 && analysisThreads == 1 && cores >= 2
    let helpers = HelperPlacement(threads: max(1, cores / workers - analysisThreads), niceness: 10, cpus: pin ? Array(1..<cores) : nil)
    return ThreadPlan(intraOpThreads: pool, analysisOnCallerThread: callerOnly, helpers: helpers, render: helpers,
                      analysisCPUs: pin ? [0] : nil, bottleneck: .analysis)
  }
}
