import Foundation
import Imaging
import Jobs
import Media
import Models
import OnnxRuntime
import Pipeline
import Server
import Swapping
import Synchronization

/// A cluster worker renders a claimed job in its own process, from the configuration stored with
/// the job: no child `swap`, no argv, chunk events straight into the metrics.
struct ClusterJobRun: Sendable {
  let store: PostgresChunkStore
  let storage: String
  let leaseSeconds: Double
  let runtime: OrtRuntime
  let execution: ExecutionOptions
  let threads: (pool: Int, analysisOnCallerThread: Bool)
  let threadOverride: Int?
  let corruptFrame: Int?
  let stop: StopSignal
  let registry: MetricsRegistry
  let log: EventLog

  enum Outcome {
    case rendered
    /// This node's model files or inputs differ from the submitted job's.
    case refused
  }

  /// Paths in the stored configuration are as the submitter gave them, in `directory`.
  static func resolving(_ stored: SwapConfiguration, in directory: String) -> SwapConfiguration {
    func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : directory + "/" + path }
    var configuration = stored
    configuration.paths.sources = stored.paths.sources.map(absolute)
    configuration.paths.target = absolute(stored.paths.target)
    configuration.paths.output = absolute(stored.paths.output)
    configuration.paths.modelsDirectory = stored.paths.modelsDirectory.map(absolute)
    return configuration
  }

  func render(job: JobRecord, spec: VideoJobSpec, stored: SwapConfiguration, directory: String) throws -> Outcome {
    let configuration = Self.resolving(stored, in: directory)
    let models = ModelStore(directory: ModelsDirectory.resolve(explicit: configuration.paths.modelsDirectory,
                                                               environment: ProcessInfo.processInfo.environment,
                                                               currentDirectory: directory, home: NSHomeDirectory()))
    let engine = SwapEngine(configuration: configuration, store: models, pool: makePool(), warn: { log("warning: " + $0, ["job": String(job.id)]) })
    // The same files, by content, as the submitter saw: otherwise this node would render
    // something else under the job's name.
    let modelFiles: [String]
    do { modelFiles = try engine.modelFiles() } catch { return .refused }
    let files = try SwapConfiguration.fileIdentities(inputs: [configuration.paths.target] + configuration.paths.sources, models: modelFiles, modelsByContent: true)
    guard files == spec.files else { return .refused }
    let sourceImages = try configuration.paths.sources.map { try ImageIO.read(path: $0).converted(toChannels: 3) }
    let processor = try engine.makeProcessor(sourceImages: sourceImages, tracking: true)
    let info = try MediaProbe.probe(spec.target)
    let costs = try processor.measureCosts(width: info.width, height: info.height)
    let plan = ThreadPlan.forVideo(cores: ProcessInfo.processInfo.activeProcessorCount, workers: 1, threadOverride: threadOverride,
                                   cpuOnly: execution.providers.allSatisfy { $0 == .cpu }, pinning: true, costs: costs)
    let jobs = JobEngine(store: store, directory: storage, leaseSeconds: leaseSeconds)
    (jobs.helperPlacement, jobs.renderPlacement, jobs.analysisCPUs) = (plan.helpers, plan.render, plan.analysisCPUs)
    jobs.corruptFrame = corruptFrame
    let labels = ["worker": JobEngine.workerName]
    while !stop.raised {
      do {
        _ = try jobs.work(job: job.id, spec: spec, info: info, processor: processor, shouldStop: { stop.raised },
                          chunkDone: { event in record(event, labels: labels, pool: engine.pool) })
        return .rendered
      } catch let stopped as JobStopped {
        // Cancelled, or finished by others while this worker was stalled: the chunk in flight
        // was abandoned (segment removed, nothing committed).
        log("\(stopped); the chunk in flight was abandoned", ["job": String(job.id)])
        registry.increment(ClusterMetrics.workerAttempts, labels: labels.merging(["outcome": "lease_lost"]) { $1 })
        return .rendered
      } catch {
        let outcome = error is ChunkInterrupted ? "lease_lost" : "error"
        registry.increment(ClusterMetrics.workerAttempts, labels: labels.merging(["outcome": outcome]) { $1 })
        if stop.raised { return .rendered }
        log("chunk failed", ["job": String(job.id), "error": "\(error)"])
        // A dead chunk fails the job: no point rendering the rest.
        if case .failed = try jobs.completion(job: job.id) { return .rendered }
      }
    }
    return .rendered
  }

  func makePool() -> InferencePool {
    var configuration = InferencePoolConfiguration(
      budgetBytes: InferencePoolConfiguration.defaultBudget(deviceMemory: execution.providers.first == .cpu ? nil : GPUInfo.totalMemory()),
      strategy: .tolerant, execution: execution)
    if threads.analysisOnCallerThread { configuration.callerThreadOwners = SwapEngine.analysisOwners }
    return InferencePool(runtime: runtime, configuration: configuration)
  }

  func record(_ event: JobEngine.ChunkEvent, labels: [String: String], pool: InferencePool) {
    registry.increment(ClusterMetrics.workerAttempts, labels: labels.merging(["outcome": event.committed ? "ok" : "fenced"]) { $1 })
    guard event.committed else {
      registry.increment(ClusterMetrics.workerStaleCommits, labels: labels)
      return
    }
    registry.increment(ClusterMetrics.workerFrames, by: Double(event.frames), labels: labels)
    registry.set(ClusterMetrics.workerFPS, Double(event.frames) / max(event.seconds, 1e-6), labels: labels)
    registry.observe(ClusterMetrics.workerChunkSeconds, event.seconds, labels: labels)
    registry.observe(ClusterMetrics.workerQueueWait, event.queuedSeconds, labels: labels)
    registry.set(ClusterMetrics.workerPoolResidentBytes, Double(pool.counters.residentBytes), labels: labels)
    registry.set(ClusterMetrics.workerPoolEvictions, Double(pool.counters.evictions), labels: labels)
  }
}

/// Runs `body` on a thread of its own and waits for it: inference and pinning belong on
/// dedicated threads, not on Swift concurrency's cooperative ones.
func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
  let done = DispatchSemaphore(value: 0)
  let result = Mutex<Result<T, any Error>?>(nil)
  let thread = Thread {
    result.withLock { $0 = Result { try body() } }
    done.signal()
  }
  thread.stackSize = 8 << 20
  thread.start()
  done.wait()
  return try result.withLock { $0! }.get()
}
