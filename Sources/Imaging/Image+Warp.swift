/// What a warp samples outside the source image.
public enum WarpBorder: Sendable, Equatable {
  /// Repeat the nearest edge pixel (OpenCV's BORDER_REPLICATE, FaceFusion's crop mode).
  case replicate
  /// A constant value for every channel.
  case constant(UInt8)
}

extension Image {
  /// The image warped by `transform` (source pixel -> destination pixel) into a
  /// `width` x `height` canvas with bilinear sampling, like cv2.warpAffine: each destination
  /// pixel samples the source at the inverse-mapped position.
  ///
  /// Hot path (face crops per frame): source coordinates advance incrementally along a row,
  /// weights are 11-bit fixed point, and pixels fully inside the source skip the border logic.
  public func warpedAffine(_ transform: AffineTransform, width outWidth: Int, height outHeight: Int,
                           border: WarpBorder = .replicate) -> Image {
    precondition(outWidth > 0 && outHeight > 0)
    var result = Image(width: outWidth, height: outHeight, channels: channels)
    guard let inverse = transform.inverted else { return result }
    let c = channels
    let (w, h) = (width, height)
    let rowBytes = w * c
    let fill: UInt8? = if case .constant(let value) = border { value } else { nil }
    pixels.withUnsafeBufferPointer { sourceBuffer in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        let source = sourceBuffer.baseAddress!
        var d = 0
        for y in 0..<outHeight {
          var sx = inverse.b * Double(y) + inverse.tx
          var sy = inverse.d * Double(y) + inverse.ty
          for _ in 0..<outWidth {
            // floor without a libm call: truncate, then step down for negatives. The clamp keeps
            // Int() from trapping on absurd transforms; such pixels fall outside either way.
            let px = min(max(sx, -1e9), 1e9), py = min(max(sy, -1e9), 1e9)
            var x0 = Int(px), y0 = Int(py)
            if px < Double(x0) { x0 -= 1 }
            if py < Double(y0) { y0 -= 1 }
            let wx = Int32((px - Double(x0)) * 2048), wy = Int32((py - Double(y0)) * 2048)
            var x1 = x0 + 1, y1 = y0 + 1
            if x0 >= 0 && y0 >= 0 && x1 < w && y1 < h {
              // Fast path: all four taps inside.
            } else if let fill, x1 < 0 || y1 < 0 || x0 >= w || y0 >= h {
              for k in 0..<c { destination[d + k] = fill }
              d += c
              sx += inverse.a
              sy += inverse.c
              continue
            } else if let fill {
              // Partly outside with a constant border: blend with the fill value per tap.
              let taps = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
              let weights = [(2048 - wx) * (2048 - wy), wx * (2048 - wy), (2048 - wx) * wy, wx * wy]
              for k in 0..<c {
                var sum: Int64 = 0
                for (tap, weight) in zip(taps, weights) {
                  let inside = tap.0 >= 0 && tap.1 >= 0 && tap.0 < w && tap.1 < h
                  sum += Int64(weight) * Int64(inside ? source[tap.1 * rowBytes + tap.0 * c + k] : fill)
                }
                destination[d + k] = UInt8(truncatingIfNeeded: (sum + (1 << 21)) >> 22)
              }
              d += c
              sx += inverse.a
              sy += inverse.c
              continue
            } else {
              x0 = min(max(x0, 0), w - 1)
              x1 = min(max(x1, 0), w - 1)
              y0 = min(max(y0, 0), h - 1)
              y1 = min(max(y1, 0), h - 1)
            }
            let p00 = source + y0 * rowBytes + x0 * c, p01 = source + y0 * rowBytes + x1 * c
            let p10 = source + y1 * rowBytes + x0 * c, p11 = source + y1 * rowBytes + x1 * c
            for k in 0..<c {
              let upper = Int32(p00[k]) * (2048 - wx) + Int32(p01[k]) * wx
              let lower = Int32(p10[k]) * (2048 - wx) + Int32(p11[k]) * wx
              let value = (Int64(upper) * Int64(2048 - wy) + Int64(lower) * Int64(wy) + (1 << 21)) >> 22
              destination[d + k] = UInt8(truncatingIfNeeded: value)
            }
            d += c
            sx += inverse.a
            sy += inverse.c
          }
        }
      }
    }
    return result
  }
}
