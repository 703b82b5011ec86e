import Foundation

/// Finds the ONNX Runtime shared library.
///
/// Search order (first existing file wins):
/// 1. `SWAPLINE_ORT_LIBRARY` (a file path) from the environment;
/// 2. the project-local folder `vendor/onnxruntime/` (filled by `make setup` from the PyPI wheel),
///    looked for in the current directory and in the ancestors of the executable's directory;
/// 3. next to the executable (`libonnxruntime.so*` beside it or in `lib/` beside it);
/// 4. the system loader (`libonnxruntime.so.1`, resolved by dlopen's own search path).
public struct OrtLibraryLocator: Sendable {
  public var environment: [String: String]
  public var currentDirectory: String
  public var executableDirectory: String?

  public init(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    currentDirectory: String = FileManager.default.currentDirectoryPath,
    executableDirectory: String? = OrtLibraryLocator.defaultExecutableDirectory()
  ) {
    self.environment = environment
    self.currentDirectory = currentDirectory
    self.executableDirectory = executableDirectory
  }

  public static let projectFolder = "vendor/onnxruntime"
  static let libraryNames = ["libonnxruntime.so.1", "libonnxruntime.so", "libonnxruntime.dylib"]

  public static func defaultExecutableDirectory() -> String? {
    // Linux names the running executable here; elsewhere Foundation knows it.
    let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? Bundle.main.executablePath
    return path.map { ($0 as NSString).deletingLastPathComponent }
  }

  /// Candidate paths in search order; the last entries are bare names for the system loader.
  public func candidates() -> [String] {
    var result: [String] = []
    if let explicit = environment["SWAPLINE_ORT_LIBRARY"], !explicit.isEmpty {
      result.append(explicit)
    }
    var projectRoots = [currentDirectory]
    if var directory = executableDirectory {
      for _ in 0..<5 {
        projectRoots.append(directory)
        directory = (directory as NSString).deletingLastPathComponent
      }
    }
    for root in projectRoots {
      for name in Self.libraryNames {
        result.append("\(root)/\(Self.projectFolder)/\(name)")
      }
    }
    if let directory = executableDirectory {
      for name in Self.libraryNames {
        result.append("\(directory)/\(name)")
        result.append("\(directory)/lib/\(name)")
      }
    }
    result.append(contentsOf: Self.libraryNames)
    return result
  }

  /// The first candidate that exists on disk, or the bare system names to let dlopen search.
  /// An explicit `SWAPLINE_ORT_LIBRARY` that does not exist is returned as is, so the user gets
  /// an error about the path they gave rather than a silent fallback.
  public func resolve() -> [String] {
    if let explicit = environment["SWAPLINE_ORT_LIBRARY"], !explicit.isEmpty {
      return [explicit]
    }
    let all = candidates()
    if let found = all.first(where: { $0.hasPrefix("/") && FileManager.default.fileExists(atPath: $0) }) {
      return [found]
    }
    return all.filter { !$0.hasPrefix("/") }
  }
}
