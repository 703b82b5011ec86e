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
    let (w0, w1, w2): (Float, Float, Float) = (1.0 / 16, 4.0 / 16, 6.0 / 16)
    let width = width, height = height
    var horizontal = Plane(width: outWidth, height: height)
    // Output columns 1...interiorEnd have all five taps inside the row (2x - 2 >= 0,
    // 2x + 2 <= width - 1) and take the plain kernel; the few at the edges clamp. A row under 5
    // pixels has no interior column.
    let interiorEnd = (width - 3) / 2
    data.withUnsafeBufferPointer { source in
      horizontal.data.withUnsafeMutableBufferPointer { out in
        for y in 0..<height {
          let row = source.baseAddress! + y * width, line = out.baseAddress! + y * outWidth
          func clamped(_ x: Int) -> Float {
            func at(_ i: Int) -> Float { row[min(max(i, 0), width - 1)] }
            return (at(2 * x - 2) + at(2 * x + 2)) * w0 + (at(2 * x - 1) + at(2 * x + 1)) * w1 + at(2 * x) * w2
          }
          line[0] = clamped(0)
          var x = 1
          while x <= interiorEnd {
            let centre = row + 2 * x
            line[x] = (centre[-2] + centre[2]) * w0 + (centre[-1] + centre[1]) * w1 + centre[0] * w2
            x += 1
          }
          while x < outWidth { line[x] = clamped(x); x += 1 }
        }
      }
    }
    var result = Plane(width: outWidth, height: outHeight)
    horizontal.data.withUnsafeBufferPointer { source in
      result.data.withUnsafeMutableBufferPointer { out in
        for y in 0..<outHeight {
          func row(_ k: Int) -> UnsafePointer<Float> { source.baseAddress! + min(max(2 * y + k - 2, 0), height - 1) * outWidth }
          let (r0, r1, r2, r3, r4) = (row(0), row(1), row(2), row(3), row(4))
          let line = out.baseAddress! + y * outWidth
          for x in 0..<outWidth { line[x] = (r0[x] + r4[x]) * w0 + (r1[x] + r3[x]) * w1 + r2[x] * w2 }
        }
      }
    }
    return result
  }

  /// Bilinear enlargement to `width` x `height` (the size of the finer pyramid level): each
  /// output row is interpolated between two source rows, then along the row from column taps
  /// computed once.
  func upsampled(width outWidth: Int, height outHeight: Int) -> Plane {
    var result = Plane(width: outWidth, height: outHeight)
    let width = width, height = height
    let scaleX = Float(width) / Float(outWidth), scaleY = Float(height) / Float(outHeight)
    var left = [Int](repeating: 0, count: outWidth), right = left, weights = [Float](repeating: 0, count: outWidth)
    for x in 0..<outWidth {
      let fx = max(0, (Float(x) + 0.5) * scaleX - 0.5)
      left[x] = min(Int(fx), width - 1)
      right[x] = min(left[x] + 1, width - 1)
      weights[x] = fx - Float(left[x])
    }
    var line = [Float](repeating: 0, count: width)
    data.withUnsafeBufferPointer { source in
      result.data.withUnsafeMutableBufferPointer { out in
        line.withUnsafeMutableBufferPointer { line in
          for y in 0..<outHeight {
            let fy = max(0, (Float(y) + 0.5) * scaleY - 0.5)
            let y0 = min(Int(fy), height - 1), y1 = min(y0 + 1, height - 1), wy = fy - Float(y0)
            let top = source.baseAddress! + y0 * width, bottom = source.baseAddress! + y1 * width
            for x in 0..<width { line[x] = top[x] + (bottom[x] - top[x]) * wy }
            let target = out.baseAddress! + y * outWidth
            for x in 0..<outWidth {
              let a = line[left[x]], b = line[right[x]]
              target[x] = a + (b - a) * weights[x]
            }
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

/// Multi-band (Laplacian pyramid) blending of each of `foregrounds` over the matching
/// `backgrounds` with one `mask` (Burt & Adelson): low frequencies blend over wide transitions,
/// fine detail over narrow ones, so neither a seam nor a halo shows. The mask's pyramid is built
/// once for all channels.
func multiBandBlend(foregrounds: [Plane], backgrounds: [Plane], mask: Plane, levels: Int) -> [Plane] {
  var maskLevels = [mask]
  while maskLevels.count < max(1, levels), let last = maskLevels.last, last.width > 4, last.height > 4 {
    maskLevels.append(last.downsampled())
  }
  return zip(foregrounds, backgrounds).map { foreground, background in
    var foregroundLevels = [foreground], backgroundLevels = [background]
    for _ in 1..<maskLevels.count {
      foregroundLevels.append(foregroundLevels.last!.downsampled())
      backgroundLevels.append(backgroundLevels.last!.downsampled())
    }
    let top = maskLevels.count - 1
    // Blend the coarsest Gaussian level, then add back blended Laplacian detail level by level:
    // result = up(result) + m * (f - up(f')) + (1 - m) * (b - up(b')).
    var result = foregroundLevels[top]
    blend(into: &result, foregroundLevels[top], backgroundLevels[top], maskLevels[top])
    for level in stride(from: top - 1, through: 0, by: -1) {
      let size = (foregroundLevels[level].width, foregroundLevels[level].height)
      let foregroundCoarse = foregroundLevels[level + 1].upsampled(width: size.0, height: size.1)
      let backgroundCoarse = backgroundLevels[level + 1].upsampled(width: size.0, height: size.1)
      var next = result.upsampled(width: size.0, height: size.1)
      let (f, b, m) = (foregroundLevels[level].data, backgroundLevels[level].data, maskLevels[level].data)
      next.data.withUnsafeMutableBufferPointer { out in
        for index in out.indices {
          let weight = m[index]
          out[index] += (f[index] - foregroundCoarse.data[index]) * weight + (b[index] - backgroundCoarse.data[index]) * (1 - weight)
        }
      }
      result = next
    }
    return result
  }
}

/// `plane` = `foreground` * `mask` + `background` * (1 - `mask`).
private func blend(into plane: inout Plane, _ foreground: Plane, _ background: Plane, _ mask: Plane) {
  plane.data.withUnsafeMutableBufferPointer { out in
    for index in out.indices {
      let m = mask.data[index]
      out[index] = foreground.data[index] * m + background.data[index] * (1 - m)
    }
  }
}
