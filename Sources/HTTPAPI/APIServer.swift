import Digests
import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import Logging
import Media
import Models
import Pipeline
import Server
import Swapping
import Synchronization
import WebUI

/// Per-request state: the authenticated tenant.
public struct APIContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  var tenant: Tenant?
  public init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    tenant = nil
  }
  /// JSON bodies are small; uploads stream and never go through `collectBody`.
  public var maxUploadSize: Int { 1 << 20 }
}

/// The HTTP API (`swapline serve`): routes, authentication, and the handlers that turn requests
/// into the engine's `SwapConfiguration` and the job store's jobs. Workers (in this process or
/// `swapline worker` elsewhere) render; this only queues, reports and serves files.
public final class APIServer: Sendable {
  public let configuration: ServiceConfiguration
  public let store: ServiceStore
  /// The chunk store the workers claim from (the same database as `store`).
  public let jobs: any ChunkStore
  public let settings: RunSettings
  public let metrics: MetricsRegistry
  let logger: Logger
  /// Raised on graceful shutdown: open event streams end so the server can stop.
  let stopping = Atomic<Bool>(false)
  /// Bytes of uploads and jobs being submitted, per tenant, not yet in the store: quotas count
  /// them, so parallel requests cannot each pass a check that only one of them fits.
  let uploadsInFlight = TenantLedger()
  let submissionsInFlight = TenantLedger()

  public init(configuration: ServiceConfiguration, store: ServiceStore, jobs: any ChunkStore, settings: RunSettings,
              metrics: MetricsRegistry, logger: Logger) {
    self.configuration = configuration
    self.store = store
    self.jobs = jobs
    self.settings = settings
    self.metrics = metrics
    self.logger = logger
    metrics.describe(APIMetrics.all)
    // Counters exist from the start at 0, so rate() and alerts see a series before the first event.
    for outcome in ["delivered", "rejected", "unreachable"] {
      metrics.increment(APIMetrics.webhookAttempts, by: 0, labels: ["outcome": outcome])
    }
  }

  var now: Double { Date().timeIntervalSince1970 }

  /// The router with every route; `application` binds it to the configured address.
  public func router() -> Router<APIContext> {
    let router = Router(context: APIContext.self)
    router.add(middleware: ErrorAndMetricsMiddleware(metrics: metrics, logger: logger))
    router.get("/healthz") { _, _ in Self.json(["status": "ok"]) }
    router.get("/readyz") { _, _ in try self.ready() }
    router.get("/metrics") { _, _ in
      self.refreshGauges()
      return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: self.metrics.text())))
    }
    router.get("/openapi.json") { _, _ in
      Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
    }
    // The browser page: public static files; everything it shows comes from /v1 with the key.
    router.get("/") { request, _ in try Self.page(request.uri.path) }
    router.get("/ui/:file") { request, _ in try Self.page(request.uri.path) }
    let v1 = router.group("v1").add(middleware: BearerAuthentication(store: store, cacheSeconds: configuration.authenticationCacheSeconds))
    v1.post("assets") { request, context in try await self.upload(request, tenant: context.tenant!) }
    v1.get("assets/:id") { _, context in
      guard let asset = try self.store.asset(context.parameters.get("id") ?? "", tenant: context.tenant!.id) else { throw APIError.notFound("asset") }
      return Self.json(asset.object)
    }
    v1.get("assets/:id/content") { request, context in try self.assetContent(request, context: context) }
    v1.post("jobs") { request, context in try await self.submit(request, context: context) }
    v1.get("jobs") { request, context in try self.list(request, tenant: context.tenant!) }
    v1.get("jobs/:id") { _, context in
      let (job, record) = try self.ownJob(context)
      return Self.json(try self.view(job, record).object)
    }
    v1.post("jobs/:id/cancel") { _, context in try self.cancel(context) }
    v1.post("jobs/:id/retry") { _, context in try self.retry(context) }
    v1.delete("jobs/:id") { _, context in try self.delete(context) }
    v1.get("jobs/:id/output") { request, context in try self.output(request, context: context) }
    v1.get("jobs/:id/events") { _, context in try self.events(context) }
    v1.get("models") { _, _ in self.models() }
    return router
  }

  // MARK: Responses

  static func json(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    let data = JSONText.data(object)
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  static func page(_ path: String) throws -> Response {
    guard let file = WebUI.file(at: path) else { throw APIError.notFound("page") }
    let headers: HTTPFields = [
      .contentType: file.contentType, .contentSecurityPolicy: WebUI.contentSecurityPolicy, .xContentTypeOptions: "nosniff",
      HTTPField.Name("Referrer-Policy")!: "no-referrer", .cacheControl: "no-cache",
    ]
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
  }

  func view(_ job: APIJob, _ record: JobRecord) throws -> JobView { try JobView(job: job, record: record, store: store, now: now) }

  /// The caller's job from the path, or 404 (another tenant's job is not found either).
  func ownJob(_ context: APIContext) throws -> (APIJob, JobRecord) {
    guard let id = Int64(context.parameters.get("id") ?? ""), let found = try store.jobWithRecord(id, tenant: context.tenant!.id) else {
      throw APIError.notFound("job")
    }
    return found
  }

  // MARK: Health

  func ready() throws -> Response {
    var problems: [String] = []
    do { try store.database.rows("SELECT 1") } catch { problems.append("store: \(error)") }
    if access(configuration.dataDirectory, W_OK) != 0 { problems.append("storage: \(configuration.dataDirectory) is not writable") }
    guard problems.isEmpty else { return Self.json(["status": "unavailable", "problems": problems], status: .serviceUnavailable) }
    return Self.json(["status": "ready"])
  }

  func refreshGauges() {
    guard let rows = try? store.database.rows("SELECT state, COUNT(*) FROM chunks GROUP BY state") else { return }
    var counts: [String: Double] = [:]
    for row in rows { counts[row[0] ?? ""] = Double(row[1] ?? "") ?? 0 }
    metrics.replace(APIMetrics.chunks, with: ChunkState.allCases.map { (["state": $0.rawValue], counts[$0.rawValue] ?? 0) })
    if let jobRows = try? store.database.rows("SELECT state, COUNT(*) FROM jobs GROUP BY state") {
      metrics.replace(APIMetrics.jobs, with: jobRows.map { (["state": $0[0] ?? ""], Double($0[1] ?? "") ?? 0) })
    }
  }

  // MARK: Assets

  /// Streams the body to a file (never whole in memory), counting bytes against the tenant's
  /// upload and storage limits, then probes it; anything refused leaves no file behind.
  func upload(_ request: Request, tenant: Tenant) async throws -> Response {
    let limit = tenant.limits.maxUploadBytes
    let declared = request.headers[.contentLength].flatMap { Int64($0) }
    if let declared, declared > limit {
      throw APIError(.contentTooLarge, "upload_too_large", "the upload is \(declared) bytes; this tenant's limit is \(limit)", field: "body")
    }
    let used = try storageUsed(tenant: tenant.id)
    let quota = tenant.limits.maxStorageBytes
    // This upload's bytes (declared, then received) stay in the ledger until it is stored or refused.
    var counted: Int64 = 0
    defer { uploadsInFlight.change(tenant.id, by: -counted) }
    func count(_ total: Int64) throws {
      let inFlight = uploadsInFlight.change(tenant.id, by: total - counted)
      counted = total
      if used + inFlight > quota {
        throw APIError(.contentTooLarge, "storage_quota_exceeded",
                       "this upload would take the tenant over its \(quota) bytes (it holds \(used)); delete jobs or wait for expiry",
                       field: "body")
      }
    }
    try count(declared ?? 0)
    try createFolder(configuration.uploadsDirectory)
    let partial = configuration.uploadsDirectory + "/" + Secrets.randomToken(bytes: 12) + ".part"
    let descriptor = open(partial, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else { throw APIError(.internalServerError, "internal", "cannot store the upload") }
    var keep = false
    defer {
      if !keep { unlink(partial) }
    }
    var size: Int64 = 0
    do {
      defer { close(descriptor) }
      for try await buffer in request.body {
        size += Int64(buffer.readableBytes)
        if size > limit {
          throw APIError(.contentTooLarge, "upload_too_large", "the upload is over this tenant's limit of \(limit) bytes", field: "body")
        }
        // A body without Content-Length (or longer than declared) is held to the quota as it arrives.
        if size > counted { try count(size) }
        try buffer.withUnsafeReadableBytes { bytes in
          var offset = 0
          while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else {
              throw APIError(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "storage_full", "the server cannot store the upload")
            }
            offset += written
          }
        }
      }
    }
    let probe = AssetProbe(maxPixels: configuration.maxPixels, maxImageSide: configuration.maxImageSide, maxImageBytes: configuration.maxImageBytes,
                           maxFrames: tenant.limits.maxFramesPerJob)
    let received = size
    let probed = try await onDedicatedThread { () throws(APIError) -> ProbedAsset in try probe.probe(path: partial, size: received) }
    let id = "as_" + Secrets.randomToken(bytes: 12)
    let folder = configuration.assetsDirectory + "/" + tenant.id
    try createFolder(folder)
    let path = folder + "/" + id + "." + (probed.kind == .image ? probed.format : "video")
    guard rename(partial, path) == 0 else { throw APIError(.internalServerError, "internal", "cannot store the upload") }
    keep = true
    let time = now
    let asset = Asset(id: id, tenant: tenant.id, kind: probed.kind, path: path, size: size, width: probed.width, height: probed.height,
                      duration: probed.duration, frames: probed.frames, format: probed.format, createdAt: time,
                      expiresAt: time + configuration.retentionSeconds)
    // The last check and the insert together, against what the store holds now and what other
    // uploads of this tenant hold in flight.
    let others = counted
    do {
      try uploadsInFlight.committing {
        let held = try storageUsed(tenant: tenant.id)
        let pending = uploadsInFlight.total(tenant.id) - others
        guard held + pending + size <= quota else {
          throw APIError(.contentTooLarge, "storage_quota_exceeded",
                         "this upload would take the tenant over its \(quota) bytes (it holds \(held)); delete jobs or wait for expiry",
                         field: "body")
        }
        try store.insert(asset)
      }
    } catch {
      unlink(path)
      throw error
    }
    metrics.increment(APIMetrics.uploadedBytes, by: Double(size), labels: ["tenant": tenant.id])
    return Self.json(asset.object, status: .created)
  }

  /// Bytes of the tenant's assets and outputs.
  func storageUsed(tenant: String) throws -> Int64 {
    var total = try store.assetBytes(tenant: tenant)
    for path in try store.outputPaths(tenant: tenant) {
      var info = stat()
      if stat(path, &info) == 0 { total += Int64(info.st_size) }
    }
    return total
  }

  // MARK: Jobs

  func submit(_ request: Request, context: APIContext) async throws -> Response {
    let tenant = context.tenant!
    var request = request
    let body: ByteBuffer
    do { body = try await request.collectBody(upTo: context.maxUploadSize) } catch {
      throw APIError(.contentTooLarge, "body_too_large", "a job request is limited to \(context.maxUploadSize) bytes", field: "body")
    }
    let data = Data(buffer: body)
    let requestHash = Secrets.hex(Secrets.sha256(String(decoding: data, as: UTF8.self)))
    let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
    if let idempotencyKey {
      guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= 255 else {
        throw APIError.invalid("Idempotency-Key must be 1 to 255 characters", field: "Idempotency-Key")
      }
      if let existing = try store.job(idempotencyKey: idempotencyKey, tenant: tenant.id) {
        guard existing.requestHash == requestHash else {
          throw APIError.invalid("this Idempotency-Key was used with a different request", field: "Idempotency-Key")
        }
        guard let record = try store.jobRecord(existing.id) else { throw APIError.notFound("job") }
        return Self.json(try view(existing, record).object, status: .ok,
                         headers: [HTTPField.Name("Idempotent-Replayed")!: "true", .location: "/v1/jobs/\(existing.id)"])
      }
    }
    let submission = try JobSubmission.parse(data, tenant: tenant, store: store, server: configuration)
    // This submission counts until its job is in the store (then the store counts it).
    let submitting = submissionsInFlight.change(tenant.id, by: 1)
    defer { submissionsInFlight.change(tenant.id, by: -1) }
    let active = try store.activeJobs(tenant: tenant.id) + Int(submitting) - 1
    guard active < tenant.limits.maxActiveJobs else {
      throw APIError(.tooManyRequests, "too_many_jobs", "this tenant has \(active) jobs queued or processing (its limit is \(tenant.limits.maxActiveJobs))",
                     retryAfter: 30)
    }
    let token = Secrets.randomToken(bytes: 12)
    let folder = configuration.outputsDirectory + "/" + tenant.id + "/" + token
    let output = folder + "/output." + submission.outputExtension
    var swapConfiguration = submission.configuration
    swapConfiguration.paths.output = output
    do { try swapConfiguration.validate() } catch {
      let mapped = submission.mapped(error)
      throw APIError.invalid(mapped.message.replacingOccurrences(of: output, with: "output." + submission.outputExtension), field: mapped.field)
    }
    if submission.kind == .video, let frames = submission.targetAsset.frames {
      let selected = swapConfiguration.frameRange(frameCount: frames)?.count ?? 0
      guard selected <= tenant.limits.maxFramesPerJob else {
        throw APIError(.contentTooLarge, "too_many_frames", "the job renders \(selected) frames; this tenant's limit is \(tenant.limits.maxFramesPerJob)",
                       field: "target")
      }
    }
    // Created only once every check has passed: a refused request leaves no folder.
    try createFolder(folder)
    let run = SwapRun(configuration: swapConfiguration, settings: settings)
    let (jobs, segments) = (self.jobs, configuration.segmentsDirectory)
    let id: Int64
    do {
      id = try await onDedicatedThread { () throws -> Int64 in
        switch submission.kind {
        case .video: try run.submit(to: JobEngine(store: jobs, directory: segments), tenant: tenant.id).job
        case .image: try run.submitImage(to: jobs, tenant: tenant.id)
        }
      }
    } catch let error as SwapError {
      try? FileManager.default.removeItem(atPath: folder)
      // Messages name the tenant's asset ids, never the server's paths.
      var message = error.message
      for (id, path) in submission.assetPaths { message = message.replacingOccurrences(of: path, with: id) }
      message = message.replacingOccurrences(of: configuration.dataDirectory + "/", with: "")
      switch error.kind {
      case .badInput: throw APIError.invalid(message, field: message.contains("source") ? "sources" : nil)
      case .failure: throw APIError(.internalServerError, "internal", "the job could not be queued: \(message)")
      }
    } catch {
      try? FileManager.default.removeItem(atPath: folder)
      throw error
    }
    let record = APIJob(id: id, tenant: tenant.id, kind: submission.kind, sources: submission.sourceIDs, target: submission.targetAsset.id,
                        options: submission.optionsJSON, outputPath: output, idempotencyKey: idempotencyKey, requestHash: requestHash,
                        webhookURL: submission.webhookURL, webhookEvents: submission.webhookEvents,
                        frames: submission.targetAsset.frames ?? 1, createdAt: now, lastEventStatus: nil, outputExpired: false)
    let stored = try store.insert(record)
    if stored.id != id {
      // A concurrent request with the same key won: this one's job and folder are withdrawn.
      _ = try? jobs.transitionJob(id, from: .running, to: .cancelled, error: "superseded by an idempotent retry")
      try? FileManager.default.removeItem(atPath: folder)
      guard stored.requestHash == requestHash else {
        throw APIError.invalid("this Idempotency-Key was used with a different request", field: "Idempotency-Key")
      }
      guard let current = try store.jobRecord(stored.id) else { throw APIError.notFound("job") }
      return Self.json(try view(stored, current).object, status: .ok,
                       headers: [HTTPField.Name("Idempotent-Replayed")!: "true", .location: "/v1/jobs/\(stored.id)"])
    }
    metrics.increment(APIMetrics.jobsSubmitted, labels: ["kind": submission.kind.rawValue, "tenant": tenant.id])
    var waited: String?
    if submission.kind == .image, let seconds = Self.preferredWait(request.headers[HTTPField.Name("Prefer")!]) {
      waited = "wait=\(seconds)"
      let deadline = now + Double(seconds)
      while now < deadline, !stopping.load(ordering: .relaxed), let current = try store.jobRecord(stored.id), !APIJobStatus(current).isTerminal {
        try await Task.sleep(for: .milliseconds(100))
      }
    }
    guard let current = try store.jobRecord(stored.id) else { throw APIError.notFound("job") }
    var headers: HTTPFields = [.location: "/v1/jobs/\(stored.id)"]
    if let waited { headers[HTTPField.Name("Preference-Applied")!] = waited }
    return Self.json(try view(stored, current).object, status: stored.id == id ? .created : .ok, headers: headers)
  }

  /// `Prefer: wait=N` (RFC 7240), at most 60 seconds.
  static func preferredWait(_ header: String?) -> Int? {
    guard let header else { return nil }
    for part in header.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where part.hasPrefix("wait=") {
      if let seconds = Int(part.dropFirst(5)), seconds >= 0 { return min(seconds, 60) }
    }
    return nil
  }

  func list(_ request: Request, tenant: Tenant) throws -> Response {
    let query = request.uri.queryParameters
    var status: APIJobStatus?
    if let text = query.get("status") {
      guard let parsed = APIJobStatus(rawValue: text) else {
        throw APIError.invalid("status must be one of \(APIJobStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "status")
      }
      status = parsed
    }
    var limit = 20
    if let text = query.get("limit") {
      guard let value = Int(text), (1...100).contains(value) else { throw APIError.invalid("limit takes 1 to 100", field: "limit") }
      limit = value
    }
    var cursor: Int64?
    if let text = query.get("after") {
      guard let value = Int64(text), value > 0 else { throw APIError.invalid("after takes a cursor from next_cursor", field: "after") }
      cursor = value
    }
    var page: [[String: Any]] = []
    var more = false
    var before = cursor
    // queued and processing share the store's `running`: filter, reading on until the page is full.
    scan: while true {
      let rows = try store.jobs(tenant: tenant.id, states: status.map { [$0.storeState] }, before: before, limit: limit + 1)
      for (job, record) in rows {
        before = job.id
        guard status == nil || APIJobStatus(record) == status else { continue }
        if page.count == limit {
          more = true
          break scan
        }
        page.append(try view(job, record).object)
      }
      if rows.count < limit + 1 { break }
    }
    var object: [String: Any] = ["object": "list", "data": page, "has_more": more]
    object["next_cursor"] = more ? (page.last?["id"] ?? NSNull()) : NSNull()
    return Self.json(object)
  }

  func cancel(_ context: APIContext) throws -> Response {
    let (job, record) = try ownJob(context)
    guard record.state == .running else {
      throw APIError(.conflict, "not_cancelable", "the job is \(APIJobStatus(record).rawValue); only queued or processing jobs can be canceled")
    }
    guard try jobs.transitionJob(job.id, from: .running, to: .cancelled, error: "canceled through the API") else {
      let now = try store.jobRecord(job.id) ?? record
      throw APIError(.conflict, "not_cancelable", "the job is \(APIJobStatus(now).rawValue); only queued or processing jobs can be canceled")
    }
    return Self.json(try view(job, try store.jobRecord(job.id) ?? record).object)
  }

  func retry(_ context: APIContext) throws -> Response {
    let (job, record) = try ownJob(context)
    guard record.state == .failed || record.state == .cancelled else {
      throw APIError(.conflict, "not_retryable", "the job is \(APIJobStatus(record).rawValue); only failed or canceled jobs can be retried")
    }
    guard !job.outputExpired else { throw APIError(.conflict, "expired", "the job's files have expired") }
    _ = try jobs.retry(job: job.id)
    try store.resetEventStatus(job.id)
    return Self.json(try view(job, try store.jobRecord(job.id) ?? record).object)
  }

  func delete(_ context: APIContext) throws -> Response {
    let (job, record) = try ownJob(context)
    if record.state == .running { _ = try jobs.transitionJob(job.id, from: .running, to: .cancelled, error: "deleted through the API") }
    try? FileManager.default.removeItem(atPath: (job.outputPath as NSString).deletingLastPathComponent)
    try? FileManager.default.removeItem(atPath: configuration.segmentsDirectory + "/job-\(job.id)")
    try store.markDeleted(job.id)
    return Response(status: .noContent)
  }

  /// The output file, with single-range requests (206) for players and resumed downloads.
  func output(_ request: Request, context: APIContext) throws -> Response {
    let (job, record) = try ownJob(context)
    guard APIJobStatus(record) == .succeeded else {
      throw APIError(.conflict, "not_ready", "the job is \(APIJobStatus(record).rawValue); its output exists once it has succeeded")
    }
    let expired = APIError(.gone, "expired", "the job's output has expired")
    guard !job.outputExpired else { throw expired }
    return try Self.file(job.outputPath, contentType: contentType(of: job.outputPath),
                         filename: "swapline-\(job.id).\((job.outputPath as NSString).pathExtension)", request: request, missing: expired)
  }

  /// An asset's bytes as uploaded (the page shows a job's target beside its result).
  func assetContent(_ request: Request, context: APIContext) throws -> Response {
    guard let asset = try store.asset(context.parameters.get("id") ?? "", tenant: context.tenant!.id) else { throw APIError.notFound("asset") }
    let type = asset.kind == .image ? contentType(of: "x." + asset.format) : "application/octet-stream"
    let name = asset.id + "." + (asset.kind == .image ? asset.format : "video")
    return try Self.file(asset.path, contentType: type, filename: name, request: request, missing: APIError.notFound("asset"))
  }

  /// A file streamed from disk in pieces, whole (200) or one byte range (206; 416 if unsatisfiable).
  static func file(_ path: String, contentType: String, filename: String, request: Request, missing: APIError) throws -> Response {
    var info = stat()
    guard stat(path, &info) == 0 else { throw missing }
    let size = Int64(info.st_size)
    var headers: HTTPFields = [.contentType: contentType, .acceptRanges: "bytes", .contentDisposition: "attachment; filename=\"\(filename)\""]
    var range: ClosedRange<Int64> = 0...max(size - 1, 0)
    var status = HTTPResponse.Status.ok
    if let header = request.headers[.range] {
      guard let requested = Self.byteRange(header, size: size) else {
        headers[.contentRange] = "bytes */\(size)"
        return Response(status: .rangeNotSatisfiable, headers: headers)
      }
      range = requested
      status = .partialContent
      headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
    }
    let length = size == 0 ? 0 : range.upperBound - range.lowerBound + 1
    headers[.contentLength] = String(length)
    let start = range.lowerBound
    return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { writer in
      guard let handle = FileHandle(forReadingAtPath: path) else { throw missing }
      defer { try? handle.close() }
      try handle.seek(toOffset: UInt64(start))
      var remaining = length
      while remaining > 0 {
        let piece = try handle.read(upToCount: Int(min(remaining, 256 << 10))) ?? Data()
        guard !piece.isEmpty else { break }
        try await writer.write(ByteBuffer(bytes: piece))
        remaining -= Int64(piece.count)
      }
      try await writer.finish(nil)
    })
  }

  /// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range inside the file, or nil.
  static func byteRange(_ header: String, size: Int64) -> ClosedRange<Int64>? {
    guard header.hasPrefix("bytes="), size > 0 else { return nil }
    let spec = header.dropFirst(6)
    guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
    let (first, last) = (spec[..<dash].trimmingCharacters(in: .whitespaces), spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces))
    if first.isEmpty {
      guard let suffix = Int64(last), suffix > 0 else { return nil }
      return max(size - suffix, 0)...(size - 1)
    }
    guard let start = Int64(first), start >= 0, start < size else { return nil }
    if last.isEmpty { return start...(size - 1) }
    guard let end = Int64(last), end >= start else { return nil }
    return start...min(end, size - 1)
  }

  /// Server-sent events: `state` on every status change, `progress` at most twice a second
  /// while frames advance or chunks change state, and `done` with the final job, after which the stream ends.
  func events(_ context: APIContext) throws -> Response {
    let (job, _) = try ownJob(context)
    let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
    return Response(status: .ok, headers: headers, body: ResponseBody { writer in
      var lastStatus: APIJobStatus?
      var lastProgress: (frames: Int, states: String) = (-1, "")
      var sequence = 0
      var lastWrite = ContinuousClock.now
      func send(_ event: String, _ object: [String: Any]) async throws {
        sequence += 1
        try await writer.write(ByteBuffer(string: "id: \(sequence)\nevent: \(event)\ndata: \(JSONText.string(object))\n\n"))
        lastWrite = .now
      }
      while true {
        guard let (current, record) = try self.store.jobWithRecord(job.id, tenant: job.tenant) else { break }
        let view = try self.view(current, record)
        if view.status != lastStatus {
          lastStatus = view.status
          try await send("state", view.object)
        }
        if view.framesDone != lastProgress.frames || view.chunkStates != lastProgress.states {
          lastProgress = (view.framesDone, view.chunkStates)
          try await send("progress", view.object["progress"] as? [String: Any] ?? [:])
        }
        if view.status.isTerminal {
          try await send("done", view.object)
          break
        }
        // The server is shutting down: end the stream (the client reconnects elsewhere or later).
        if self.stopping.load(ordering: .relaxed) { break }
        if ContinuousClock.now - lastWrite > .seconds(15) {
          try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
          lastWrite = .now
        }
        try await Task.sleep(for: .milliseconds(500))
      }
      try await writer.finish(nil)
    })
  }

  func models() -> Response {
    let store = settings.models.store(explicit: configuration.modelsDirectory, currentDirectory: settings.workingDirectory)
    let data = ModelCatalog.all.map { spec -> [String: Any] in
      var object: [String: Any] = [
        "id": spec.name, "object": "model", "role": spec.role.rawValue, "file": spec.fileName, "present": store.locate(spec) != nil,
        "licence": spec.licence.identifier, "offline_pack": spec.isOfflinePack,
      ]
      object["commercial_use"] = spec.licence.commercialUse ?? NSNull()
      return object
    }
    return Self.json(["object": "list", "data": data])
  }
}

/// `Authorization: Bearer <key>` for every /v1 route: 401 without a key or with a wrong or
/// disabled one (the same answer for each, so keys cannot be probed).
/// A key's tenant is remembered for `cacheSeconds` (a status poll need not hash and look it up
/// every time), so a disabled tenant or a rotated key is refused within that time.
struct BearerAuthentication: RouterMiddleware {
  typealias Context = APIContext
  let store: ServiceStore
  let cacheSeconds: Double
  private let remembered = RememberedKeys()

  final class RememberedKeys: Sendable {
    let entries = Mutex<[String: (tenant: Tenant, until: Double)]>([:])
    func withLock<T>(_ body: (inout [String: (tenant: Tenant, until: Double)]) -> T) -> T { entries.withLock { body(&$0) } }
  }

  init(store: ServiceStore, cacheSeconds: Double) {
    self.store = store
    self.cacheSeconds = cacheSeconds
  }

  func tenant(key: String) throws -> Tenant? {
    let now = Date().timeIntervalSince1970
    if let known = remembered.withLock({ $0[key] }), known.until > now { return known.tenant }
    guard let tenant = try store.authenticate(key: key) else { return nil }
    if cacheSeconds > 0 {
      remembered.withLock { cache in
        if cache.count > 10_000 { cache.removeAll() }  // bounded: keys are few, but a flood must not grow it
        cache[key] = (tenant, now + cacheSeconds)
      }
    }
    return tenant
  }

  func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
    guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer ",
      let tenant = try tenant(key: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    else {
      throw APIError(.unauthorized, "unauthorized", "a valid API key is needed: Authorization: Bearer <key>")
    }
    var context = context
    context.tenant = tenant
    return try await next(request, context)
  }
}

/// Every error leaves as the API's JSON error shape (the framework's own too: unknown routes,
/// oversized bodies), and every request is counted and timed by route.
struct ErrorAndMetricsMiddleware: RouterMiddleware {
  typealias Context = APIContext
  let metrics: MetricsRegistry
  let logger: Logger

  func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
    let started = ContinuousClock.now
    let response: Response
    do {
      response = try await next(request, context)
    } catch let error as APIError {
      response = error.response()
    } catch let error as HTTPResponseError {
      let status = error.status
      let code = status == .notFound ? "not_found" : status == .methodNotAllowed ? "method_not_allowed"
        : status.code == 413 ? "body_too_large" : "http_\(status.code)"
      let message = status == .notFound ? "no such route: \(request.method.rawValue) \(request.uri.path)" : status.reasonPhrase
      response = APIError(status, code, message).response()
    } catch {
      logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
      response = APIError(.internalServerError, "internal", "the server failed to answer this request").response()
    }
    let route = context.endpointPath ?? "unmatched"
    let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
    metrics.increment(APIMetrics.requests, labels: ["method": request.method.rawValue, "route": route, "status": String(response.status.code)])
    metrics.observe(APIMetrics.requestSeconds, seconds, labels: ["route": route])
    return response
  }
}

enum APIMetrics {
  static let requests = Metric("swapline_api_requests_total", .counter, "HTTP requests answered, by method, route and status.")
  static let requestSeconds = Metric("swapline_api_request_seconds", .histogram, "Time to answer a request (streams: to the headers).",
                                     buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5])
  static let uploadedBytes = Metric("swapline_api_uploaded_bytes_total", .counter, "Bytes of assets accepted, by tenant.")
  static let jobsSubmitted = Metric("swapline_api_jobs_submitted_total", .counter, "Jobs queued through the API, by kind and tenant.")
  static let webhookAttempts = Metric("swapline_api_webhook_attempts_total", .counter, "Webhook delivery attempts, by outcome.")
  static let swept = Metric("swapline_api_expired_files_total", .counter, "Assets and outputs deleted by the retention sweeper, by kind.")
  static let chunks = Metric("swapline_chunks", .gauge, "Chunks in the store, by state.")
  static let jobs = Metric("swapline_jobs", .gauge, "Jobs in the store, by state.")
  static let all = [requests, requestSeconds, uploadedBytes, jobsSubmitted, webhookAttempts, swept, chunks, jobs]
}

/// Per-tenant amounts held by requests in flight (bytes of uploads, submissions), for quota
/// checks that parallel requests must not each pass. One server process; a cluster's API servers
/// each keep their own.
final class TenantLedger: Sendable {
  private let amounts = Mutex<[String: Int64]>([:])
  private let commit = NSLock()

  /// Adds `delta` for the tenant; the tenant's new total.
  @discardableResult
  func change(_ tenant: String, by delta: Int64) -> Int64 {
    amounts.withLock { amounts in
      let total = amounts[tenant, default: 0] + delta
      amounts[tenant] = total == 0 ? nil : total
      return total
    }
  }

  func total(_ tenant: String) -> Int64 { amounts.withLock { $0[tenant] ?? 0 } }

  /// Runs a final check and its store write one at a time.
  func committing<T>(_ body: () throws -> T) throws -> T {
    commit.lock()
    defer { commit.unlock() }
    return try body()
  }
}
