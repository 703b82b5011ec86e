import Foundation
import Jobs

/// The API's job status: the store's state, with `running` split by whether a chunk was claimed.
public enum APIJobStatus: String, Sendable, CaseIterable {
  case queued, processing, succeeded, failed, canceled

  init(_ record: JobRecord) {
    switch record.state {
    case .running: self = record.startedAt == nil ? .queued : .processing
    case .done: self = .succeeded
    case .failed: self = .failed
    case .cancelled: self = .canceled
    }
  }

  var isTerminal: Bool { [.succeeded, .failed, .canceled].contains(self) }

  var storeState: JobState {
    switch self {
    case .queued, .processing: .running
    case .succeeded: .done
    case .failed: .failed
    case .canceled: .cancelled
    }
  }
}

/// A job as the API shows it (JSON object), built from the API row, the store's record and its chunks.
struct JobView {
  let job: APIJob
  let record: JobRecord
  let status: APIJobStatus
  let framesDone: Int
  let framesTotal: Int
  let chunks: [ChunkState: Int]
  let chunkStates: String
  let queuePosition: Int?
  let outputSize: Int64?
  let now: Double

  init(job: APIJob, record: JobRecord, store: ServiceStore, now: Double) throws {
    self.job = job
    self.record = record
    self.now = now
    status = APIJobStatus(record)
    (chunks, chunkStates, framesDone, framesTotal) = try store.progress(job: job.id)
    queuePosition = status == .queued ? try store.queuePosition(job: job.id) : nil
    var info = stat()
    outputSize = status == .succeeded && !job.outputExpired && stat(job.outputPath, &info) == 0 ? Int64(info.st_size) : nil
  }

  var fps: Double? {
    guard let started = record.startedAt, framesDone > 0 else { return nil }
    let end = status.isTerminal ? record.updatedAt : now
    return Double(framesDone) / max(end - started, 1e-3)
  }

  var object: [String: Any] {
    var progress: [String: Any] = [
      "frames_done": framesDone, "frames_total": framesTotal,
      "chunks": Dictionary(uniqueKeysWithValues: ChunkState.allCases.map { ($0.rawValue, chunks[$0] ?? 0) }),
      "chunk_states": chunkStates,
    ]
    progress["fps"] = fps.map { ($0 * 100).rounded() / 100 } ?? NSNull()
    if let fps, fps > 0, !status.isTerminal {
      progress["eta_seconds"] = (Double(max(framesTotal - framesDone, 0)) / fps * 10).rounded() / 10
    } else {
      progress["eta_seconds"] = NSNull()
    }
    var object: [String: Any] = [
      "id": String(job.id), "object": "job", "kind": job.kind.rawValue, "status": status.rawValue,
      "sources": job.sources, "target": job.target,
      "options": RawJSON(text: job.options),
      "created_at": job.createdAt, "progress": progress,
    ]
    object["started_at"] = record.startedAt ?? NSNull()
    object["finished_at"] = status.isTerminal ? record.updatedAt : NSNull()
    object["queue_position"] = queuePosition ?? NSNull()
    if status == .failed {
      object["error"] = ["code": "job_failed", "message": record.error ?? "the job failed"]
    } else if status == .canceled {
      object["error"] = ["code": "job_canceled", "message": "the job was canceled"]
    } else {
      object["error"] = NSNull()
    }
    if let outputSize {
      object["output"] = ["url": "/v1/jobs/\(job.id)/output", "size": outputSize, "content_type": contentType(of: job.outputPath)]
    } else {
      object["output"] = NSNull()
    }
    object["webhook"] = job.webhookURL.map { ["url": $0, "events": job.webhookEvents] as [String: Any] } ?? NSNull()
    return object
  }
}

func contentType(of path: String) -> String {
  switch (path as NSString).pathExtension.lowercased() {
  case "png": "image/png"
  case "jpg", "jpeg": "image/jpeg"
  case "webp": "image/webp"
  case "mp4": "video/mp4"
  case "mkv": "video/x-matroska"
  case "mov": "video/quicktime"
  case "webm": "video/webm"
  default: "application/octet-stream"
  }
}

extension Asset {
  var object: [String: Any] {
    var object: [String: Any] = [
      "id": id, "object": "asset", "kind": kind.rawValue, "size": size, "width": width, "height": height, "format": format,
      "created_at": createdAt, "expires_at": expiresAt,
    ]
    object["duration"] = duration ?? NSNull()
    object["frames"] = frames ?? NSNull()
    return object
  }
}
