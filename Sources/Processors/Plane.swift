import Foundation

/// A single float channel, row-major: the working format of the blending kernels.
struct Plane {
  let width: Int
  let height: Int
  var data: [Float]

  init(width: Int, height: Int, fill: Float = 0) {
    self.width = width
    self.height = height
    data = [Float](repeating: fill, count: width * height)
  }

  init(width: Int, height: Int, data: [Float]) {
    self.width = width
    self.height = height
    self.data = data
  }

  /// Blur with the 5-tap binomial kernel [1 4 6 4 1]/16 and keep every second pixel
  /// (one level of a Gaussian pyramid). Edges replicate.
  func downsampled() -> Plane {
    let outWidth = max(1, (width + 1) / 2), outHeight = max(1, (height + 1) / 2)
    let weights: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }
    var horizontal = Plane(width: outWidth, height: height)
    data.withUnsafeBufferPointer { source in
      horizontal.data.withUnsafeMutableBufferPointer { out in
        for y in 0..<height {
          let row = y * width
          for x in 0..<outWidth {
            var sum: Float = 0
            for k in 0..<5 { sum += source[row + min(max(2 * x + k - 2, 0), width - 1)] * weights[k] }
            out[y * outWidth + x] = sum
          }
        }
      }
    }
    var result = Plane(width: outWidth, height: outHeight)
    horizontal.data.withUnsafeBufferPointer { source in
      result.data.withUnsafeMutableBufferPointer { out in
        for y in 0..<outHeight {
          for k in 0..<5 {
            let sourceRow = min(max(2 * y + k - 2, 0), height - 1) * outWidth, weight = weights[k]
            for x in 0..<outWidth { out[y * outWidth + x] += source[sourceRow + x] * weight }
          }
        }
      }
    }
    return result
  }

  /// Bilinear enlargement to `width` x `height` (the size of the finer pyramid level).
  func upsampled(width outWidth: Int, height outHeight: Int) -> Plane {
    var result = Plane(width: outWidth, height: outHeight)
    let scaleX = Float(width) / Float(outWidth), scaleY = Float(height) / Float(outHeight)
    data.withUnsafeBufferPointer { source in
      result.data.withUnsafeMutableBufferPointer { out in
        for y in 0..<outHeight {
          let fy = max(0, (Float(y) + 0.5) * scaleY - 0.5)
          let y0 = min(Int(fy), height - 1), y1 = min(y0 + 1, height - 1), wy = fy - Float(y0)
          for x in 0..<outWidth {
            let fx = max(0, (Float(x) + 0.5) * scaleX - 0.5)
            let x0 = min(Int(fx), width - 1), x1 = min(x0 + 1, width - 1), wx = fx - Float(x0)
            let top = source[y0 * width + x0] * (1 - wx) + source[y0 * width + x1] * wx
            let bottom = source[y1 * width + x0] * (1 - wx) + source[y1 * width + x1] * wx
            out[y * outWidth + x] = top * (1 - wy) + bottom * wy
          }
        }
      }
    }
    return result
  }

  /// A wide Gaussian blur computed on a coarser pyramid level and enlarged back: for sigmas of
  /// tens of pixels the result is visually the same as `blurred(sigma:)` and the cost drops by
  /// the square of the reduction (the colour-transfer maps only need low frequencies).
  func blurredCoarse(sigma: Float) -> Plane {
    var level = self, factor: Float = 1
    while sigma / factor > 4, level.width > 16, level.height > 16 {
      level = level.downsampled()
      factor *= 2
    }
    return factor == 1 ? blurred(sigma: sigma) : level.blurred(sigma: sigma / factor).upsampled(width: width, height: height)
  }

  /// Separable Gaussian blur with replicated edges (used for colour correction).
  func blurred(sigma: Float) -> Plane {
    guard sigma > 0.3 else { return self }
    let radius = max(1, Int((sigma * 3).rounded(.up)))
    var kernel = (-radius...radius).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
    let total = kernel.reduce(0, +)
    kernel = kernel.map { $0 / total }
    var padded = [Float](repeating: 0, count: width + 2 * radius)
    var horizontal = Plane(width: width, height: height)
    for y in 0..<height {
      let row = y * width
      for index in 0..<padded.count { padded[index] = data[row + min(max(index - radius, 0), width - 1)] }
      padded.withUnsafeBufferPointer { line in
        horizontal.data.withUnsafeMutableBufferPointer { out in
          for k in 0..<kernel.count {
            let weight = kernel[k]
            for x in 0..<width { out[row + x] += line[x + k] * weight }
          }
        }
      }
    }
    var result = Plane(width: width, height: height)
    horizontal.data.withUnsafeBufferPointer { source in
      result.data.withUnsafeMutableBufferPointer { out in
        for y in 0..<height {
          for k in 0..<kernel.count {
            let sourceRow = min(max(y + k - radius, 0), height - 1) * width, weight = kernel[k]
            for x in 0..<width { out[y * width + x] += source[sourceRow + x] * weight }
          }
        }
      }
    }
    return result
  }
}

/// Multi-band (Laplacian pyramid) blending of `foreground` over `background` with `mask`
/// (Burt & Adelson): low frequencies blend over wide transitions, fine detail over narrow ones,
/// so neither a seam nor a halo shows.
func multiBandBlend(foreground: Plane, background: Plane, mask: Plane, levels: Int) -> Plane {
  var foregroundLevels = [foreground], backgroundLevels = [background], maskLevels = [mask]
  for _ in 1..<max(1, levels) {
    guard let last = foregroundLevels.last, last.width > 4, last.height > 4 else { break }
    foregroundLevels.append(last.downsampled())
    backgroundLevels.append(backgroundLevels.last!.downsampled())
    maskLevels.append(maskLevels.last!.downsampled())
  }
  let top = foregroundLevels.count - 1
  // Blend the coarsest Gaussian level, then add back blended Laplacian detail level by level.
  var result = blendLevel(foregroundLevels[top], backgroundLevels[top], maskLevels[top])
  for level in stride(from: top - 1, through: 0, by: -1) {
    let size = (foregroundLevels[level].width, foregroundLevels[level].height)
    let foregroundDetail = subtract(foregroundLevels[level], foregroundLevels[level + 1].upsampled(width: size.0, height: size.1))
    let backgroundDetail = subtract(backgroundLevels[level], backgroundLevels[level + 1].upsampled(width: size.0, height: size.1))
    let detail = blendLevel(foregroundDetail, backgroundDetail, maskLevels[level])
    let coarse = result.upsampled(width: size.0, height: size.1)
    result = Plane(width: size.0, height: size.1, data: zip(coarse.data, detail.data).map(+))
  }
  return result
}

private func subtract(_ a: Plane, _ b: Plane) -> Plane {
  Plane(width: a.width, height: a.height, data: zip(a.data, b.data).map(-))
}

private func blendLevel(_ foreground: Plane, _ background: Plane, _ mask: Plane) -> Plane {
  var data = [Float](repeating: 0, count: foreground.data.count)
  for index in data.indices {
    let m = mask.data[index]
    data[index] = foreground.data[index] * m + background.data[index] * (1 - m)
  }
  return Plane(width: foreground.width, height: foreground.height, data: data)
}
