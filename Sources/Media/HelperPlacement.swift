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
