import Foundation

/// Where model files live.
public enum ModelsDirectory {
  /// The models folder, first match wins:
  /// 1. `explicit` (`--models-dir`);
  /// 2. `SWAPLINE_MODELS_DIR` from the environment;
  /// 3. `./models` when that directory exists in `currentDirectory` (what `make setup` fills);
  /// 4. `$XDG_DATA_HOME/swapline/models`, else `~/.local/share/swapline/models`.
  public static func resolve(explicit: String?, environment: [String: String], currentDirectory: String, home: String) -> String {
    if let explicit, !explicit.isEmpty { return explicit }
    if let fromEnvironment = environment["SWAPLINE_MODELS_DIR"], !fromEnvironment.isEmpty { return fromEnvironment }
    let local = currentDirectory + "/models"
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory), isDirectory.boolValue { return local }
    if let dataHome = environment["XDG_DATA_HOME"], !dataHome.isEmpty { return dataHome + "/swapline/models" }
    return home + "/.local/share/swapline/models"
  }
}
