import Foundation
import Imaging
import Jobs
import OnnxRuntime
import Pipeline

/// An image swap queued as a job (the HTTP API's image jobs): one chunk of one frame, which a
/// worker claims and renders whole. The configuration's paths are absolute.
public struct ImageJobSpec: Codable, Sendable, Equatable {
  public var kind = "image"
  public var configuration: String
  /// The provenance label of the submitter's engine.
  public var label: String

  public init(configuration: String, label: String) {
    self.configuration = configuration
    self.label = label
  }

  /// nil when `json` is not an image job's spec (a video job's).
  public init?(json: String) {
    guard let spec = try? JSONDecoder().decode(ImageJobSpec.self, from: Data(json.utf8)), spec.kind == "image" else { return nil }
    self = spec
  }

  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
  }
}

extension StoredJobWorker {
  /// Claims an image job's one chunk and renders it: models loaded, the image swapped and written,
  /// the chunk committed and the job marked done. A failure goes back to the store (retried
  /// after its backoff, or dead and the job failed by the coordinator).
  @discardableResult
  public func renderImage(job record: JobRecord, stop: StopSignal, poolReady: (InferencePool) -> Void = { _ in },
                          events: @escaping RunEvents) throws -> InferencePool {
    guard let spec = ImageJobSpec(json: record.spec) else { throw Refusal.noConfiguration }
    var configuration = try SwapConfiguration.decode(json: Data(spec.configuration.utf8))
    let pool = makePool(for: &configuration)
    poolReady(pool)
    guard let lease = try jobs.store.claim(worker: JobEngine.workerName, job: record.id, leaseSeconds: settings.leaseSeconds) else {
      return pool
    }
    let run = SwapRun(configuration: configuration, settings: settings, events: events)
    do {
      let engine = SwapEngine(configuration: configuration, store: settings.models.store(explicit: configuration.paths.modelsDirectory,
                                                                                           currentDirectory: settings.workingDirectory),
                              pool: pool, warn: { events(.message(.warning, $0)) })
      let sourceImages = try configuration.paths.sources.map { try ImageIO.read(path: $0).converted(toChannels: 3) }
      _ = try run.renderImage(engine: engine, sourceImages: sourceImages, timer: StageTimer())
      events(.frameRendered)
      if try jobs.store.complete(lease, output: (configuration.paths.output as NSString).lastPathComponent) {
        // Done only from running: a job cancelled while it rendered stays cancelled.
        _ = try jobs.store.transitionJob(record.id, from: .running, to: .done, error: nil)
      }
    } catch {
      _ = try jobs.store.fail(lease, error: "\(error)")
      events(.chunkFailed("\(error)", leaseLost: false))
    }
    return pool
  }
}
