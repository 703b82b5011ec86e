import Foundation
import Swapping

/// A `POST /v1/jobs` body, checked field by field before anything is queued: assets are the
/// tenant's own (another tenant's id is a 404), `options` is the engine configuration's JSON
/// form without the groups the server owns (paths, execution, memory), the webhook URL is
/// http(s). Errors name the field.
struct JobSubmission {
  let kind: Asset.Kind
  let sourceIDs: [String]
  let targetAsset: Asset
  let configuration: SwapConfiguration
  let optionsJSON: String
  let outputExtension: String
  let webhookURL: String?
  let webhookEvents: [String]
  /// Asset id and file of every source and the target, to speak of ids in messages.
  let assetPaths: [(id: String, path: String)]

  static let webhookEventNames = ["job.processing", "job.succeeded", "job.failed", "job.canceled"]
  static let serverOwnedGroups = ["paths", "execution", "memory"]

  static func parse(_ data: Data, tenant: Tenant, store: ServiceStore, server: ServiceConfiguration) throws -> JobSubmission {
    guard let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw APIError.invalid("the body must be a JSON object", field: "body")
    }
    for key in body.keys.sorted() where !["sources", "target", "options", "output_format", "webhook"].contains(key) {
      throw APIError.invalid("unknown field '\(key)'", field: key)
    }
    guard let sources = body["sources"] as? [String], !sources.isEmpty, sources.count <= 10 else {
      throw APIError.invalid("sources must be a list of 1 to 10 asset ids", field: "sources")
    }
    var sourcePaths: [String] = []
    var assetPaths: [(id: String, path: String)] = []
    for (index, id) in sources.enumerated() {
      guard let asset = try store.asset(id, tenant: tenant.id) else { throw APIError.notFound("asset '\(id)'", field: "sources[\(index)]") }
      guard asset.kind == .image else { throw APIError.invalid("a source must be an image (asset '\(id)' is a video)", field: "sources[\(index)]") }
      sourcePaths.append(asset.path)
      assetPaths.append((id, asset.path))
    }
    guard let targetID = body["target"] as? String else { throw APIError.invalid("target must be an asset id", field: "target") }
    guard let target = try store.asset(targetID, tenant: tenant.id) else { throw APIError.notFound("asset '\(targetID)'", field: "target") }
    assetPaths.append((targetID, target.path))

    var outputExtension = target.kind == .video ? "mp4" : "png"
    if let format = body["output_format"] {
      let allowed = target.kind == .video ? ["mp4", "mkv", "mov", "webm"] : ["png", "jpg", "webp"]
      guard let text = format as? String, allowed.contains(text) else {
        throw APIError.invalid("output_format for \(target.kind == .image ? "an image" : "a video") target takes \(allowed.joined(separator: ", "))", field: "output_format")
      }
      outputExtension = text
    }

    var options: [String: Any] = [:]
    if let given = body["options"] {
      guard let object = given as? [String: Any] else { throw APIError.invalid("options must be a JSON object", field: "options") }
      options = object
    }
    for group in serverOwnedGroups where options[group] != nil {
      throw APIError.invalid("options.\(group) is set by the server, not by a request", field: "options.\(group)")
    }
    var full = options
    var paths: [String: Any] = ["sources": sourcePaths, "target": target.path, "output": "/pending." + outputExtension]
    if let models = server.modelsDirectory { paths["modelsDirectory"] = models }
    full["paths"] = paths
    var configuration: SwapConfiguration
    do {
      configuration = try SwapConfiguration.decode(json: try JSONSerialization.data(withJSONObject: full))
    } catch let error as ConfigurationError {
      throw APIError.invalid("options.\(error.key) \(error.message)", field: "options" + (error.key.isEmpty ? "" : "." + error.key))
    }
    configuration.execution = server.execution
    configuration.memory = SwapConfiguration.MemorySettings()

    var webhookURL: String?
    var events = ["job.succeeded", "job.failed", "job.canceled"]
    if let webhook = body["webhook"] {
      guard let object = webhook as? [String: Any] else { throw APIError.invalid("webhook must be an object with a url", field: "webhook") }
      for key in object.keys.sorted() where !["url", "events"].contains(key) {
        throw APIError.invalid("unknown field '\(key)'", field: "webhook.\(key)")
      }
      guard let text = object["url"] as? String, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
        ["http", "https"].contains(scheme), url.host != nil, text.utf8.count <= 2048
      else { throw APIError.invalid("webhook.url must be an http or https URL", field: "webhook.url") }
      webhookURL = text
      if let given = object["events"] {
        guard let list = given as? [String], !list.isEmpty, list.allSatisfy(webhookEventNames.contains) else {
          throw APIError.invalid("webhook.events takes a non-empty list of \(webhookEventNames.joined(separator: ", "))", field: "webhook.events")
        }
        events = list
      }
    }
    let optionsData = (try? JSONSerialization.data(withJSONObject: options, options: [.sortedKeys])) ?? Data("{}".utf8)
    return JobSubmission(kind: target.kind, sourceIDs: sources, targetAsset: target, configuration: configuration,
                         optionsJSON: String(decoding: optionsData, as: UTF8.self), outputExtension: outputExtension,
                         webhookURL: webhookURL, webhookEvents: events, assetPaths: assetPaths)
  }

  /// A configuration rule broken, as the request's field.
  func mapped(_ error: ConfigurationError) -> APIError {
    let field: String
    switch error.key {
    case "paths.sources": field = "sources"
    case "paths.target": field = "target"
    case "paths.output": field = "output_format"
    default: field = "options.\(error.key)"
    }
    return APIError.invalid("\(field) \(error.message)", field: field)
  }
}
