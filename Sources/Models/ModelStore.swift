import Digests
import Foundation

/// The outcome of checking one model file.
public enum VerificationResult: Sendable, Equatable, CustomStringConvertible {
  case ok(method: String)
  case mismatch(expected: String, actual: String)
  case missing
  case unverifiable(reason: String)

  public var description: String {
    switch self {
    case .ok(let method): "ok (\(method))"
    case .mismatch(let expected, let actual): "MISMATCH: expected \(expected), file has \(actual)"
    case .missing: "missing"
    case .unverifiable(let reason): "present, not verifiable: \(reason)"
    }
  }
}

/// A folder of model files, laid out like FaceFusion's `.assets/models` (file names as published).
public struct ModelStore: Sendable {
  public let directory: String

  public init(directory: String) { self.directory = directory }

  public func path(for spec: ModelSpec) -> String { directory + "/" + spec.fileName }

  /// The file of a catalog model when it exists (symlinks are followed).
  public func locate(_ name: String) -> String? {
    guard let spec = ModelCatalog.spec(named: name) else { return nil }
    return locate(spec)
  }

  public func locate(_ spec: ModelSpec) -> String? {
    let path = path(for: spec)
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue ? path : nil
  }

  /// Checks a model file: SHA-256 when the catalog knows it, otherwise FaceFusion's `NAME.hash`
  /// sidecar (CRC32, 8 hex digits) when it sits next to the file.
  public func verify(_ spec: ModelSpec) -> VerificationResult {
    guard let path = locate(spec) else { return .missing }
    if let expected = spec.sha256 {
      guard let actual = try? Self.sha256(ofFile: path) else { return .unverifiable(reason: "cannot read \(path)") }
      return actual == expected.lowercased() ? .ok(method: "sha256") : .mismatch(expected: expected, actual: actual)
    }
    let sidecar = directory + "/" + spec.name + ".hash"
    guard let text = try? String(contentsOfFile: sidecar, encoding: .utf8) else {
      return .unverifiable(reason: "no known sha256 and no \(spec.name).hash next to it")
    }
    let expected = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    guard let actual = try? Self.crc32Hex(ofFile: path) else { return .unverifiable(reason: "cannot read \(path)") }
    return actual == expected ? .ok(method: "crc32 .hash") : .mismatch(expected: expected, actual: actual)
  }

  /// SHA-256 of a file as lowercase hex, streamed in 1 MiB chunks.
  public static func sha256(ofFile path: String) throws -> String {
    let hasher = SHA256()
    try forEachChunk(of: path) { hasher.update(data: $0) }
    return hasher.hexDigest()
  }

  /// CRC32 of a file as 8 lowercase hex digits, as FaceFusion writes its `.hash` files.
  public static func crc32Hex(ofFile path: String) throws -> String {
    var crc = CRC32()
    try forEachChunk(of: path) { crc.update($0) }
    return String(format: "%08x", crc.value)
  }

  static func forEachChunk(of path: String, _ body: (Data) -> Void) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ModelError(.io, "cannot open \(path)")
    }
    defer { try? handle.close() }
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { body(chunk) }
  }
}
