/// The browser page `swapline serve` serves at `/`: plain HTML, CSS and JavaScript, a client of
/// the public /v1 API only. The files are compiled into the binary (SwiftPM's `embedInCode`), so
/// an installed `swapline` needs nothing beside it and the page always matches the server.
public enum WebUI {
  public struct File: Sendable {
    public let bytes: [UInt8]
    public let contentType: String
  }

  /// The file for a request path, or nil.
  public static func file(at path: String) -> File? {
    switch path {
    case "/", "/index.html": File(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8")
    case "/ui/app.js": File(bytes: PackageResources.app_js, contentType: "text/javascript; charset=utf-8")
    case "/ui/app.css": File(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8")
    default: nil
    }
  }

  /// Scripts and styles from this server only (no inline code, so injected markup cannot run),
  /// results shown from blob: URLs, calls to this origin only, and no framing (clickjacking).
  public static let contentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src blob:; "
    + "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
}
