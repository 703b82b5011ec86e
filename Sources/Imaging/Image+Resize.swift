extension Image {
  /// Bilinear resize with OpenCV's INTER_LINEAR conventions (half-pixel centres, edge clamp),
  /// so detector inputs match FaceFusion's cv2.resize.
  public func resizedBilinear(width outWidth: Int, height outHeight: Int) -> Image {
    precondition(outWidth > 0 && outHeight > 0)
    if outWidth == width && outHeight == height { return self }
    let columns = Self.linearTaps(source: width, destination: outWidth)
    let rows = Self.linearTaps(source: height, destination: outHeight)
    var result = Image(width: outWidth, height: outHeight, channels: channels)
    let c = channels
    let sourceRow = width * c
    // One horizontal pass per needed source row into a float buffer would save work for big
    // downscales; for detector inputs the direct form is within noise and simpler.
    pixels.withUnsafeBufferPointer { source in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        var d = 0
        for y in 0..<outHeight {
          let (y0, y1, wy) = rows[y]
          let row0 = y0 * sourceRow, row1 = y1 * sourceRow
          for x in 0..<outWidth {
            let (x0, x1, wx) = columns[x]
            let a = row0 + x0 * c, b = row0 + x1 * c, e = row1 + x0 * c, f = row1 + x1 * c
            for k in 0..<c {
              let top = Float(source[a + k]) + (Float(source[b + k]) - Float(source[a + k])) * wx
              let bottom = Float(source[e + k]) + (Float(source[f + k]) - Float(source[e + k])) * wx
              destination[d + k] = UInt8(clamping: Int((top + (bottom - top) * wy).rounded()))
            }
            d += c
          }
        }
      }
    }
    return result
  }

  /// For each destination index: the two source indices and the weight of the second.
  static func linearTaps(source: Int, destination: Int) -> [(Int, Int, Float)] {
    let scale = Double(source) / Double(destination)
    return (0..<destination).map { index in
      let position = (Double(index) + 0.5) * scale - 0.5
      var lower = Int(position.rounded(.down))
      var weight = Float(position - Double(lower))
      if lower < 0 {
        lower = 0
        weight = 0
      }
      if lower >= source - 1 {
        lower = source - 1
        weight = 0
      }
      return (lower, min(lower + 1, source - 1), weight)
    }
  }

  /// Box-average resize (OpenCV's INTER_AREA for integer-free ratios): every source pixel
  /// contributes by its covered area. Use it for strong downscales where bilinear aliases.
  public func resizedArea(width outWidth: Int, height outHeight: Int) -> Image {
    precondition(outWidth > 0 && outHeight > 0)
    if outWidth == width && outHeight == height { return self }
    let columnWeights = Self.areaWeights(source: width, destination: outWidth)
    let rowWeights = Self.areaWeights(source: height, destination: outHeight)
    var result = Image(width: outWidth, height: outHeight, channels: channels)
    let c = channels
    var accumulator = [Float](repeating: 0, count: c)
    pixels.withUnsafeBufferPointer { source in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        for y in 0..<outHeight {
          for x in 0..<outWidth {
            for k in 0..<c { accumulator[k] = 0 }
            for (sy, wy) in rowWeights[y] {
              for (sx, wx) in columnWeights[x] {
                let weight = wy * wx
                let s = (sy * width + sx) * c
                for k in 0..<c { accumulator[k] += Float(source[s + k]) * weight }
              }
            }
            let d = (y * outWidth + x) * c
            for k in 0..<c { destination[d + k] = UInt8(clamping: Int(accumulator[k].rounded())) }
          }
        }
      }
    }
    return result
  }

  /// Source indices and normalised coverage weights for each destination index.
  static func areaWeights(source: Int, destination: Int) -> [[(Int, Float)]] {
    let scale = Double(source) / Double(destination)
    return (0..<destination).map { index in
      let start = Double(index) * scale, end = Double(index + 1) * scale
      var taps: [(Int, Float)] = []
      var position = Int(start.rounded(.down))
      while Double(position) < end, position < source {
        let covered = min(end, Double(position + 1)) - max(start, Double(position))
        if covered > 1e-9 { taps.append((position, Float(covered / scale))) }
        position += 1
      }
      return taps
    }
  }
}
