import Foundation
import Swapping
import ObjectStorage

/// Where a cluster keeps segments and outputs, from `--storage`: a folder every node mounts, or
/// `s3://BUCKET/PREFIX` (with `--s3-endpoint` and the credentials of the environment), in which
/// case each node works in a local folder of its own that it removes when it stops.
struct SegmentStorage {
  /// The shared folder, or this node's own work folder.
  let directory: String
  let objects: ObjectStore?

  /// A folder is made if missing. Object storage is tried at once: refused credentials, a missing
  /// bucket or an unreachable endpoint exit 2 naming the endpoint and bucket, before anything is made.
  static func open(_ storage: String, connection: Storage.Connection, role: String) throws -> SegmentStorage {
    guard let location = S3Location(storage) else {
      if storage.hasPrefix("s3:") { throw CLIError.badInput("--storage '\(storage)' needs a bucket: s3://BUCKET/PREFIX") }
      try createFolder(storage)
      return SegmentStorage(directory: storage, objects: nil)
    }
    let objects = ObjectStore(client: try connection.client(), location: location)
    do { try objects.checkAccess() } catch let error as S3Error {
      throw error.isSetupProblem || error.isMissing ? CLIError.badInput("--storage \(storage): \(error)") : CLIError.failure("--storage \(storage): \(error)")
    }
    // Made when first used (a render, a join, a submission's lock), removed by `removeWorkFolder`.
    return SegmentStorage(directory: NSTemporaryDirectory() + "swapline-\(role)-\(getpid())", objects: objects)
  }

  /// Removes this node's own work folder (object storage only; a shared folder stays).
  func removeWorkFolder() {
    if objects != nil { try? FileManager.default.removeItem(atPath: directory) }
  }
}
