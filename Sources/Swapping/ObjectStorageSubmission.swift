import Foundation
import Media
import ObjectStorage
import Pipeline

extension SwapRun {
  /// A video job whose nodes share no folder: the output is an `s3://` URL the coordinator
  /// uploads to, local inputs are uploaded first (content-addressed under `inputs/`, so the same
  /// file is stored once and the same command is the same job), and `s3://` inputs are used
  /// where they are. The same checks as a local submission run on this machine first; a storage
  /// that refuses the credentials or lacks the bucket fails here, before any job exists.
  func submit(to jobs: JobEngine, objects: ObjectStore, tenant: String) throws -> JobEngine.Prepared {
    let paths = configuration.paths
    guard S3Location.isObjectURL(paths.output) else {
      throw SwapError.badInput("with --storage s3://..., OUTPUT must be an s3:// URL the coordinator uploads to (e.g. \(objects.url("outputs/"))"
                               + ((paths.output as NSString).lastPathComponent) + "), not the local path '\(paths.output)'")
    }
    try checkOutput()
    try objects.checkAccess()
    let scratch = NSTemporaryDirectory() + "swapline-submit-\(getpid())-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    // The checks read local copies: sources already in object storage are downloaded, the target probed through a presigned URL.
    var checked = configuration
    checked.paths.target = try jobs.readable(paths.target)
    checked.paths.sources = try paths.sources.map { S3Location.isObjectURL($0) ? try objects.localCopy(of: $0, in: scratch) : $0 }
    let local = SwapRun(configuration: checked, settings: settings, events: events)
    let info = try local.probeTarget()
    let (engine, pool, models) = try local.submissionEngine()
    try local.checkSourcesHaveFaces(engine: engine, pool: pool, models: models)
    var remote = configuration
    remote.paths.target = try Self.uploaded(paths.target, to: objects)
    remote.paths.sources = try paths.sources.map { try Self.uploaded($0, to: objects) }
    let spec = try SwapRun(configuration: remote, settings: settings, events: events)
      .videoJobSpec(engine: engine, info: info, modelsByContent: true, objects: objects)
    return try jobs.prepare(spec, tenant: tenant)
  }

  /// The `s3://` URL of an input: as given, or the local file uploaded to `inputs/SHA256.EXT`
  /// unless an object of that name is already there.
  static func uploaded(_ input: String, to objects: ObjectStore) throws -> String {
    if S3Location.isObjectURL(input) { return input }
    // "size:sha256", streamed.
    guard let identity = try? VideoJobSpec.contentIdentity(of: input), let digest = identity.split(separator: ":").last else {
      throw SwapError.badInput("cannot read '\(input)'")
    }
    let pathExtension = (input as NSString).pathExtension.lowercased()
    let key = "inputs/" + digest + (pathExtension.isEmpty ? "" : "." + pathExtension)
    if try objects.head(key) == nil { try objects.upload(file: input, to: key) }
    return objects.url(key)
  }
}
