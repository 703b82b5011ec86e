import Foundation
import Media
import ObjectStorage
import Pipeline

/// An absolute path with symbolic links and `.`/`..` resolved, so that one file has one name.
/// `followingLink` false keeps the last component as given: a link at an output path is
/// replaced when the output is published, never followed.
public func resolvedPath(_ path: String, followingLink: Bool = true) -> String {
  if S3Location.isObjectURL(path) { return path }
  let absolute = URL(fileURLWithPath: path).standardizedFileURL
  let folder = absolute.deletingLastPathComponent().resolvingSymlinksInPath().path
  let own = (folder == "/" ? "" : folder) + "/" + absolute.lastPathComponent
  var status = stat()
  guard followingLink, lstat(own, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK else { return own }
  return URL(fileURLWithPath: own).resolvingSymlinksInPath().path
}

extension SwapConfiguration {
  /// The frames [start, end) of a video of `frameCount` frames this configuration processes
  /// (nil: the trim selects none).
  public func frameRange(frameCount: Int) -> Range<Int>? {
    let start = video.trimFrameStart ?? 0, end = min(video.trimFrameEnd ?? frameCount, frameCount)
    return start >= 0 && end > start ? start..<end : nil
  }

  /// The video job this configuration makes: target, output, frames, encoding, the settings that
  /// change the output (`jobOptions`) and the identity of every input and model file, plus the
  /// configuration itself and the command that runs it again (neither part of the fingerprint).
  /// The same work asked for differently (option order, `./x.mp4`, another folder, a JSON file) is
  /// the same job. `modelsByContent`: cluster nodes hold their own copies of the models, so there
  /// models are compared by content, not modification time.
  public func videoJobSpec(frames: Range<Int>, encoding: VideoEncoding, label: String, modelFiles: [String], modelsByContent: Bool,
                           command: VideoJobSpec.StoredCommand?, objects: ObjectStore? = nil) throws -> VideoJobSpec {
    let files = try Self.fileIdentities(inputs: [paths.target] + paths.sources, models: modelFiles, modelsByContent: modelsByContent,
                                        objects: objects)
    return VideoJobSpec(target: resolvedPath(paths.target), output: resolvedPath(paths.output, followingLink: false),
                        startFrame: frames.lowerBound, endFrame: frames.upperBound, chunkFrames: video.chunkSize, encoding: encoding,
                        label: label, options: jobOptions { resolvedPath($0) }, files: files, command: command,
                        configuration: String(decoding: canonicalJSON, as: UTF8.self))
  }

  /// The identity of every input and model file, by resolved path (what a link leads to: a
  /// link's own size and time say nothing); an input in object storage by its size and ETag.
  public static func fileIdentities(inputs: [String], models: [String], modelsByContent: Bool,
                                    objects: ObjectStore? = nil) throws -> [String: String] {
    var files: [String: String] = [:]
    for path in inputs.map({ resolvedPath($0) }) {
      if S3Location.isObjectURL(path) {
        files[path] = try objects?.head(path).map { "\($0.size):etag \($0.etag)" } ?? "missing"
      } else {
        files[path] = VideoJobSpec.identity(of: path)
      }
    }
    for path in models.filter({ !$0.isEmpty }).map({ resolvedPath($0) }) {
      files[path] = modelsByContent ? try VideoJobSpec.contentIdentity(of: path) : VideoJobSpec.identity(of: path)
    }
    return files
  }
}
