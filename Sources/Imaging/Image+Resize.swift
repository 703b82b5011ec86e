extension Image {
  /// Bilinear resize with OpenCV's INTER_LINEAR conventions (half-pixel centres, edge clamp,
  /// 11-bit fixed-point weights), so detector inputs match FaceFusion's cv2.resize.
  public func resizedBilinear(width outWidth: Int, height outHeight: Int) -> Image {
    precondition(outWidth > 0 && outHeight > 0)
    if outWidth == width && outHeight == height { return self }
    let c = channels
    // Per column: byte offsets of the two taps and the fixed-point weight of the second.
    let columns = Self.linearTaps(source: width, destination: outWidth)
    let columnLeft = columns.map { Int32($0.0 * c) }, columnRight = columns.map { Int32($0.1 * c) }
    let columnWeight = columns.map { Int32(($0.2 * 2048).rounded()) }
    let rows = Self.linearTaps(source: height, destination: outHeight)
    var result = Image(width: outWidth, height: outHeight, channels: c)
    let sourceRow = width * c
    pixels.withUnsafeBufferPointer { source in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        columnLeft.withUnsafeBufferPointer { left in
          columnRight.withUnsafeBufferPointer { right in
            columnWeight.withUnsafeBufferPointer { weights in
              var d = 0
              for y in 0..<outHeight {
                let (y0, y1, wyFloat) = rows[y]
                let wy = Int32((wyFloat * 2048).rounded())
                let top = source.baseAddress! + y0 * sourceRow, bottom = source.baseAddress! + y1 * sourceRow
                for x in 0..<outWidth {
                  let a = Int(left[x]), b = Int(right[x]), wx = weights[x]
                  for k in 0..<c {
                    let upper = Int32(top[a + k]) * (2048 - wx) + Int32(top[b + k]) * wx
                    let lower = Int32(bottom[a + k]) * (2048 - wx) + Int32(bottom[b + k]) * wx
                    // Both weights are 11-bit: the sum carries 22 fractional bits; round half up.
                    let value = (Int64(upper) * Int64(2048 - wy) + Int64(lower) * Int64(wy) + (1 << 21)) >> 22
                    destination[d + k] = UInt8(truncatingIfNeeded: value)
                  }
                  d += c
                }
              }
            }
          }
        }
      }
    }
    return result
  }

  /// For each destination index: the two source indices and the weight of the second.
  package static func linearTaps(source: Int, destination: Int) -> [(Int, Int, Float)] {
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

  /// Box-average resize (OpenCV's INTER_AREA idea): every source pixel contributes by its
  /// covered area. Use it for strong downscales where bilinear aliases. Separable: each output
  /// row sums horizontally filtered source rows.
  public func resizedArea(width outWidth: Int, height outHeight: Int) -> Image {
    precondition(outWidth > 0 && outHeight > 0)
    if outWidth == width && outHeight == height { return self }
    let c = channels
    let columnTaps = Self.areaWeights(source: width, destination: outWidth)
    let rowTaps = Self.areaWeights(source: height, destination: outHeight)
    // Flattened column taps: for output column x, taps[first[x] ..< first[x + 1]].
    var first = [0], tapOffsets: [Int] = [], tapWeights: [Float] = []
    for taps in columnTaps {
      for (index, weight) in taps {
        tapOffsets.append(index * c)
        tapWeights.append(weight)
      }
      first.append(tapOffsets.count)
    }
    var result = Image(width: outWidth, height: outHeight, channels: c)
    var accumulator = [Float](repeating: 0, count: outWidth * c)
    let rowBytes = width * c
    pixels.withUnsafeBufferPointer { source in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        accumulator.withUnsafeMutableBufferPointer { sum in
          for y in 0..<outHeight {
            for index in 0..<sum.count { sum[index] = 0 }
            for (sourceY, rowWeight) in rowTaps[y] {
              let row = source.baseAddress! + sourceY * rowBytes
              for x in 0..<outWidth {
                var channelSums: (Float, Float, Float, Float) = (0, 0, 0, 0)
                for tap in first[x]..<first[x + 1] {
                  let pixel = row + tapOffsets[tap], weight = tapWeights[tap]
                  channelSums.0 += Float(pixel[0]) * weight
                  channelSums.1 += Float(pixel[1]) * weight
                  channelSums.2 += Float(pixel[2]) * weight
                  if c == 4 { channelSums.3 += Float(pixel[3]) * weight }
                }
                let d = x * c
                sum[d] += channelSums.0 * rowWeight
                sum[d + 1] += channelSums.1 * rowWeight
                sum[d + 2] += channelSums.2 * rowWeight
                if c == 4 { sum[d + 3] += channelSums.3 * rowWeight }
              }
            }
            let outRow = y * outWidth * c
            for index in 0..<sum.count { destination[outRow + index] = UInt8(clamping: Int(sum[index] + 0.5)) }
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
