import Imaging

/// FaceFusion's pixel boost: an N x N crop (N = k x model size) is split space-to-depth into k^2
/// model-size crops (sub-crop (i, j) takes pixels (y*k + i, x*k + j)), each swapped, and
/// interleaved back. Exact inverses of each other.
public enum PixelBoost {
  public static func implode(_ crop: Image, factor k: Int) -> [Image] {
    precondition(crop.width % k == 0 && crop.height % k == 0, "crop size must be a multiple of the boost factor")
    let width = crop.width / k, height = crop.height / k, c = crop.channels
    return (0..<(k * k)).map { tile in
      let (i, j) = (tile / k, tile % k)
      var part = Image(width: width, height: height, channels: c)
      for y in 0..<height {
        for x in 0..<width {
          let source = ((y * k + i) * crop.width + x * k + j) * c, destination = (y * width + x) * c
          for channel in 0..<c { part.pixels[destination + channel] = crop.pixels[source + channel] }
        }
      }
      return part
    }
  }

  public static func explode(_ parts: [Image], factor k: Int) -> Image {
    precondition(parts.count == k * k && !parts.isEmpty)
    let width = parts[0].width, height = parts[0].height, c = parts[0].channels
    var crop = Image(width: width * k, height: height * k, channels: c)
    for (tile, part) in parts.enumerated() {
      let (i, j) = (tile / k, tile % k)
      for y in 0..<height {
        for x in 0..<width {
          let destination = ((y * k + i) * crop.width + x * k + j) * c, source = (y * width + x) * c
          for channel in 0..<c { crop.pixels[destination + channel] = part.pixels[source + channel] }
        }
      }
    }
    return crop
  }
}
