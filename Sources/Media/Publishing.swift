import Foundation
#if canImport(Glibc)
  import Glibc
#endif

/// A private folder beside a destination file, for tools that write by name (ffmpeg): it is made
/// by mkdtemp (mode 0700, an unpredictable name, never an existing path), so nothing another user
/// planted can be inside it and no symbolic link is followed when the tool opens its output.
/// Its name carries our pid, so a later run can remove folders left by a killed process.
public struct StagingFolder: Sendable {
  public let path: String

  /// `.NAME.swapline-PID-XXXXXX` in the destination's folder (same filesystem, so rename works).
  public init(beside destination: String) throws(MediaError) {
    let folder = Self.folder(of: destination)
    Self.removeStale(beside: destination)
    var template = Array((folder + "/" + Self.prefix(of: destination) + "\(getpid())-XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }) else {
      throw MediaError(.processFailed, "cannot write in \(folder): \(describeErrno(errno))")
    }
    path = made
  }

  /// The path a file named like the destination gets inside this folder.
  public func file(for destination: String) -> String { path + "/" + (destination as NSString).lastPathComponent }

  /// Removes the folder and whatever the tool left in it.
  public func remove() { try? FileManager.default.removeItem(atPath: path) }

  static func folder(of destination: String) -> String {
    let folder = (destination as NSString).deletingLastPathComponent
    return folder.isEmpty ? "." : folder
  }

  static func prefix(of destination: String) -> String { "." + (destination as NSString).lastPathComponent + ".swapline-" }

  /// Staging folders of `destination` whose process is gone (kill -9 mid-write), ours only.
  static func removeStale(beside destination: String) {
    let folder = folder(of: destination), prefix = prefix(of: destination)
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(prefix) {
      guard let pid = Int32(name.dropFirst(prefix.count).split(separator: "-").first ?? ""), pid != getpid(),
        kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      var status = stat()
      let path = folder + "/" + name
      // A real folder of ours (lstat: never a link someone planted).
      guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR, status.st_uid == getuid() else { continue }
      try? FileManager.default.removeItem(atPath: path)
    }
  }
}

/// Moves a finished file to `path` so that it is durable before it becomes visible: fsync,
/// rename(2), fsync the folder. rename replaces a file atomically (there is never a moment with
/// nothing at `path`) and refuses a directory; nothing but `partial` is ever removed.
public func publish(_ partial: String, to path: String) throws(MediaError) {
  if let reason = synchronizeReason(partial) {
    unlink(partial)
    throw MediaError(.processFailed, "cannot flush \(partial) to disk: \(reason)")
  }
  guard rename(partial, path) == 0 else {
    let code = errno
    unlink(partial)
    let isDirectory = code == EISDIR || code == ENOTEMPTY || code == EEXIST
    throw MediaError(isDirectory ? .badInput : .processFailed, "cannot write \(path): \(isDirectory ? "it is a directory" : describeErrno(code))")
  }
  _ = synchronize(StagingFolder.folder(of: path))
}

/// fsync of a file or folder; false when it cannot be opened or flushed.
public func synchronize(_ path: String) -> Bool { synchronizeReason(path) == nil }

/// nil when `path` was flushed, else why not.
func synchronizeReason(_ path: String) -> String? {
  let descriptor = open(path, O_RDONLY)
  guard descriptor >= 0 else { return describeErrno(errno) }
  defer { close(descriptor) }
  return fsync(descriptor) == 0 ? nil : describeErrno(errno)
}

/// What to do about a full disk, said the same way for our own errors and ffmpeg's.
let diskFullAdvice = " (the disk is full: free some space and run the same command again)"

/// strerror plus what the user can do about the common causes.
public func describeErrno(_ code: Int32) -> String {
  let text = String(cString: strerror(code))
  switch code {
  case ENOSPC, EDQUOT: return text + diskFullAdvice
  case EFBIG: return text + " (over the file size limit)"
  case ENOENT: return text + " (the folder was removed)"
  default: return text
  }
}

/// The same hint for a tool's own words (ffmpeg prints strerror texts).
func explainingDiskErrors(_ message: String) -> String {
  if message.contains("No space left on device") { return message + diskFullAdvice }
  if message.contains("File too large") { return message + " (over the file size limit)" }
  return message
}
