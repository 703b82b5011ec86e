/// A video's colour description as ffprobe names it (matrix, range, primaries, transfer; nil
/// where the stream does not say). Frames are decoded to RGB with the stream's own matrix and
/// range (ffmpeg's scaler reads them from the frames) and must be encoded back with the same ones,
/// and tagged the same, or a player shows shifted colours: untagged HD is taken for BT.709 while
/// ffmpeg's default RGB -> YUV matrix is BT.601.
public struct ColourTags: Sendable, Equatable, Codable {
  public var matrix: String?
  public var range: String?
  public var primaries: String?
  public var transfer: String?

  public init(matrix: String? = nil, range: String? = nil, primaries: String? = nil, transfer: String? = nil) {
    func known(_ value: String?) -> String? { value.flatMap { $0.isEmpty || $0 == "unknown" || $0 == "reserved" ? nil : $0 } }
    // Only YUV matrices the scaler can convert with and ffmpeg's -colorspace can name: an RGB
    // source ("gbr") or YCgCo is converted with the default matrix and left untagged.
    self.matrix = known(matrix).flatMap { Self.yuvMatrices.contains($0) ? $0 : nil }
    self.range = known(range)
    self.primaries = known(primaries)
    self.transfer = known(transfer)
  }

  static let yuvMatrices: Set<String> = ["bt709", "fcc", "bt470bg", "smpte170m", "smpte240m", "bt2020nc", "bt2020c"]

  /// The scaler's name for the matrix (ffprobe says "bt470bg" where the scaler says "bt470").
  var scalerMatrix: String? {
    switch matrix {
    case "bt709", "fcc", "smpte170m", "smpte240m": matrix
    case "bt470bg": "bt470"
    case "bt2020nc", "bt2020c": "bt2020"
    default: nil
    }
  }

  /// The filter that turns RGB frames into `pixelFormat` with this matrix and range (accurate
  /// rounding: the least mean error of the scaler's flags measured on a BT.709 test clip).
  public func encodingFilter(pixelFormat: String) -> String {
    var options = ["flags=accurate_rnd"]
    if let scalerMatrix { options.append("out_color_matrix=\(scalerMatrix)") }
    if let range, ["tv", "pc"].contains(range) { options.append("out_range=\(range)") }
    return "scale=" + options.joined(separator: ":") + ",format=\(pixelFormat)"
  }

  /// ffmpeg output options that write the tags into the encoded stream. An RGB stream (`rgb`:
  /// FFV1) has no YUV matrix or range: only its primaries and transfer are tagged.
  public func tagArguments(rgb: Bool) -> [String] {
    var arguments: [String] = []
    if !rgb, let matrix { arguments += ["-colorspace", matrix] }
    if !rgb, let range { arguments += ["-color_range", range] }
    if let primaries { arguments += ["-color_primaries", primaries] }
    if let transfer { arguments += ["-color_trc", transfer] }
    return arguments
  }
}
