import Foundation
import Swapping

/// How `swapline serve` runs, as one value (the CLI builds it from its options).
public struct ServiceConfiguration: Sendable {
  public var host = "127.0.0.1"
  public var port = 8080
  /// Assets, outputs, chunk segments (and the embedded SQLite store) live here.
  public var dataDirectory: String
  /// In-process workers rendering jobs (0: this process only serves the API).
  public var workers = 1
  /// Assets and outputs are deleted this long after upload / after the job ends.
  public var retentionSeconds: Double = 24 * 3600
  /// How often the sweeper looks for expired files.
  public var sweepInterval: Double = 60
  /// Seconds between the coordinator's and the in-process workers' polls of the store.
  public var pollInterval: Double = 0.25
  /// Frames (an image or a video's) larger than this are refused from their header.
  public var maxPixels = 100_000_000
  public var maxImageSide = 16_384
  /// An image upload larger than this is refused (images are decoded whole to be checked).
  public var maxImageBytes: Int64 = 64 << 20
  /// Limits a new tenant gets unless told otherwise.
  public var defaultLimits = TenantLimits()
  /// Webhook delivery: attempts before giving up, and the first retry's delay (doubling).
  public var webhookAttempts = 8
  public var webhookRetryDelay: Double = 1
  /// A key's tenant is remembered this long: a disabled tenant or rotated key is refused within it.
  public var authenticationCacheSeconds: Double = 1
  /// Execution group for the jobs rendered here (the server's machine, never the request's).
  public var execution = SwapConfiguration.ExecutionSettings()
  /// Folder with the model files (nil: the default search).
  public var modelsDirectory: String?

  public init(dataDirectory: String) {
    self.dataDirectory = dataDirectory
  }

  var assetsDirectory: String { dataDirectory + "/assets" }
  var outputsDirectory: String { dataDirectory + "/outputs" }
  var uploadsDirectory: String { dataDirectory + "/uploads" }
  public var segmentsDirectory: String { dataDirectory + "/segments" }
}
