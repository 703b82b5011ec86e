extension Image {
  /// The image turned clockwise by `quarterTurns` x 90 degrees (any integer; negative turns
  /// go counter-clockwise).
  public func rotated(quarterTurns: Int) -> Image {
    let turns = ((quarterTurns % 4) + 4) % 4
    guard turns != 0 else { return self }
    let outWidth = turns == 2 ? width : height
    let outHeight = turns == 2 ? height : width
    var result = Image(width: outWidth, height: outHeight, channels: channels)
    let (w, h, c) = (width, height, channels)
    pixels.withUnsafeBufferPointer { source in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        var d = 0
        for y in 0..<outHeight {
          for x in 0..<outWidth {
            // Inverse mapping: which source pixel lands at (x, y).
            let (sx, sy): (Int, Int)
            switch turns {
            case 1: (sx, sy) = (y, h - 1 - x)
            case 2: (sx, sy) = (w - 1 - x, h - 1 - y)
            default: (sx, sy) = (w - 1 - y, x)
            }
            let s = (sy * w + sx) * c
            for k in 0..<c { destination[d + k] = source[s + k] }
            d += c
          }
        }
      }
    }
    return result
  }

  /// Mirrored left-right.
  public func flippedHorizontally() -> Image {
    var result = self
    let rowBytes = width * channels
    let c = channels
    pixels.withUnsafeBufferPointer { source in
      result.pixels.withUnsafeMutableBufferPointer { destination in
        for y in 0..<height {
          let row = y * rowBytes
          for x in 0..<width {
            let s = row + x * c, d = row + (width - 1 - x) * c
            for k in 0..<c { destination[d + k] = source[s + k] }
          }
        }
      }
    }
    return result
  }

  /// Upright pixels for an EXIF orientation value (1-8; anything else is treated as 1).
  public func applyingExifOrientation(_ orientation: Int) -> Image {
    switch orientation {
    case 2: flippedHorizontally()
    case 3: rotated(quarterTurns: 2)
    case 4: flippedHorizontally().rotated(quarterTurns: 2)
    case 5: flippedHorizontally().rotated(quarterTurns: 3)
    case 6: rotated(quarterTurns: 1)
    case 7: flippedHorizontally().rotated(quarterTurns: 1)
    case 8: rotated(quarterTurns: 3)
    default: self
    }
  }

  /// A rectangle of the image; the rectangle is clipped to the image.
  public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> Image {
    let x0 = max(0, min(x, width - 1)), y0 = max(0, min(y, height - 1))
    let w = max(1, min(cropWidth, width - x0)), h = max(1, min(cropHeight, height - y0))
    var result = Image(width: w, height: h, channels: channels)
    let rowBytes = w * channels
    for row in 0..<h {
      let source = ((y0 + row) * width + x0) * channels
      result.pixels.replaceSubrange((row * rowBytes)..<((row + 1) * rowBytes), with: pixels[source..<(source + rowBytes)])
    }
    return result
  }
}
