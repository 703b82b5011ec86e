import Digests
import Foundation
#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif
import Jobs
import Logging
import Server
import ServiceLifecycle

/// Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
/// with the tenant's secret (`whsec_` + base64 key).
public enum WebhookSignature {
  public static func sign(id: String, timestamp: Int, body: String, secret: String) -> String {
    let key = Data(base64Encoded: String(secret.dropFirst(secret.hasPrefix("whsec_") ? 6 : 0))).map { [UInt8]($0) } ?? Array(secret.utf8)
    let mac = Secrets.hmacSHA256(key: key, message: Array("\(id).\(timestamp).\(body)".utf8))
    return "v1," + Data(mac).base64EncodedString()
  }
}

/// Turns job status changes into webhook messages (one per status a job reaches, recorded with
/// the job so a restart neither loses nor repeats one) and delivers them: signed, retried with
/// doubling delays, every attempt recorded. One dispatcher per store (one API server process).
public struct WebhookDispatcher: Service {
  let server: APIServer
  let pollInterval: Double

  public init(server: APIServer, pollInterval: Double = 0.5) {
    self.server = server
    self.pollInterval = pollInterval
  }

  public func run() async throws {
    let session = URLSession(configuration: .ephemeral)
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        do {
          try queueEvents()
          try await deliver(session: session)
        } catch {
          server.logger.warning("webhooks: \(error)")
        }
        try? await Task.sleep(for: .milliseconds(Int(pollInterval * 1000)))
      }
    }
  }

  func queueEvents() throws {
    let store = server.store
    for job in try store.jobsWithWebhooks() {
      guard let record = try store.jobRecord(job.id) else { continue }
      let status = APIJobStatus(record)
      guard status.rawValue != job.lastEventStatus else { continue }
      let event = "job." + status.rawValue
      var delivery: (String, String, String)?
      if job.webhookEvents.contains(event) {
        let id = "msg_" + Secrets.randomToken(bytes: 12)
        let payload: [String: Any] = ["type": event, "timestamp": Date().timeIntervalSince1970, "data": try server.view(job, record).object]
        let body = JSONText.string(payload)
        delivery = (id, event, body)
      }
      try store.recordStatus(job: job, status: status.rawValue, delivery: delivery)
    }
  }

  func deliver(session: URLSession) async throws {
    let store = server.store
    for delivery in try store.dueDeliveries(maxAttempts: server.configuration.webhookAttempts) {
      guard let tenant = try store.tenant(id: delivery.tenant), let url = URL(string: delivery.url) else { continue }
      let timestamp = Int(Date().timeIntervalSince1970)
      var request = URLRequest(url: url, timeoutInterval: 10)
      request.httpMethod = "POST"
      request.httpBody = Data(delivery.payload.utf8)
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
      request.setValue(delivery.id, forHTTPHeaderField: "webhook-id")
      request.setValue(String(timestamp), forHTTPHeaderField: "webhook-timestamp")
      request.setValue(WebhookSignature.sign(id: delivery.id, timestamp: timestamp, body: delivery.payload, secret: tenant.webhookSecret),
                       forHTTPHeaderField: "webhook-signature")
      request.setValue("swapline-webhooks", forHTTPHeaderField: "User-Agent")
      let delay = server.configuration.webhookRetryDelay * Double(1 << min(delivery.attempts, 12))
      do {
        let (_, response) = try await session.data(for: request)
        let code = (response as? HTTPURLResponse)?.statusCode ?? 0
        let delivered = (200..<300).contains(code)
        try store.recordAttempt(delivery, status: code, error: delivered ? nil : "HTTP \(code)", delivered: delivered, retryIn: delay)
        server.metrics.increment(APIMetrics.webhookAttempts, labels: ["outcome": delivered ? "delivered" : "rejected"])
      } catch {
        try store.recordAttempt(delivery, status: nil, error: "\(error.localizedDescription)", delivered: false, retryIn: delay)
        server.metrics.increment(APIMetrics.webhookAttempts, labels: ["outcome": "unreachable"])
      }
    }
  }
}

/// Deletes assets and outputs older than the retention period (an asset a running job needs
/// stays until that job ends), and abandoned partial uploads.
public struct RetentionSweeper: Service {
  let server: APIServer

  public init(server: APIServer) { self.server = server }

  public func run() async throws {
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        do { try sweep() } catch { server.logger.warning("retention sweep: \(error)") }
        try? await Task.sleep(for: .milliseconds(Int(server.configuration.sweepInterval * 1000)))
      }
    }
  }

  public func sweep() throws {
    let now = Date().timeIntervalSince1970
    let store = server.store
    for asset in try store.expiredAssets(at: now) {
      unlink(asset.path)
      try store.deleteAsset(asset.id)
      server.metrics.increment(APIMetrics.swept, labels: ["kind": "asset"])
    }
    for job in try store.jobsWithExpiredOutput(before: now - server.configuration.retentionSeconds) {
      try? FileManager.default.removeItem(atPath: (job.outputPath as NSString).deletingLastPathComponent)
      try? FileManager.default.removeItem(atPath: server.configuration.segmentsDirectory + "/job-\(job.id)")
      try store.markOutputExpired(job.id)
      server.metrics.increment(APIMetrics.swept, labels: ["kind": "output"])
    }
    // Uploads cut off mid-stream by a crash leave `.part` files.
    let uploads = server.configuration.uploadsDirectory
    for name in (try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? [] {
      var info = stat()
      if stat(uploads + "/" + name, &info) == 0, Double(info.st_mtim.tv_sec) < now - 3600 { unlink(uploads + "/" + name) }
    }
  }
}
