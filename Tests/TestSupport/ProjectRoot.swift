import Foundation

/// The package's root folder (the nearest ancestor of this file holding Package.swift), where
/// the samples, models and scripts are.
public let projectRoot: String = {
  var directory = (#filePath as NSString).deletingLastPathComponent
  while directory != "/" && !FileManager.default.fileExists(atPath: directory + "/Package.swift") {
    directory = (directory as NSString).deletingLastPathComponent
  }
  return directory
}()
