import Foundation

/// A single-channel float mask in [0, 1], row-major; 1 = take the new face, 0 = keep the frame.
public struct Mask: Sendable, Equatable {
  public let width: Int
  public let height: Int
  public var values: [Float]

  public init(width: Int, height: Int, fill: Float = 0) {
    precondition(width > 0 && height > 0)
    self.width = width
    self.height = height
    self.values = [Float](repeating: fill, count: width * height)
  }

  public init(width: Int, height: Int, values: [Float]) {
    precondition(width > 0 && height > 0 && values.count == width * height)
    self.width = width
    self.height = height
    self.values = values
  }

  public subscript(x: Int, y: Int) -> Float { values[y * width + x] }

  /// FaceFusion's box mask for a crop: a band of max(blur/2, padding) zeroed at each edge, then a
  /// Gaussian blur of sigma blurAmount/4, where blurAmount = int(width * 0.5 * blur).
  /// - Parameters:
  ///   - blur: `--face-mask-blur`, 0...1 (FaceFusion's default 0.3).
  ///   - padding: `--face-mask-padding` top, right, bottom, left in percent of the crop.
  public static func box(width: Int, height: Int, blur: Float = 0.3, padding: (top: Int, right: Int, bottom: Int, left: Int) = (0, 0, 0, 0)) -> Mask {
    var mask = Mask(width: width, height: height, fill: 1)
    let blurAmount = Int(Float(width) * 0.5 * blur)
    let blurArea = max(blurAmount / 2, 1)
    let top = min(height, max(blurArea, height * padding.top / 100))
    let bottom = min(height, max(blurArea, height * padding.bottom / 100))
    let left = min(width, max(blurArea, width * padding.left / 100))
    let right = min(width, max(blurArea, width * padding.right / 100))
    for y in 0..<height {
      for x in 0..<width where y < top || y >= height - bottom || x < left || x >= width - right {
        mask.values[y * width + x] = 0
      }
    }
    return blurAmount > 0 ? mask.gaussianBlurred(sigma: Float(blurAmount) * 0.25) : mask
  }

  /// Bilinear resize with OpenCV's half-pixel convention (cv2.resize INTER_LINEAR).
  public func resized(width outWidth: Int, height outHeight: Int) -> Mask {
    if outWidth == width && outHeight == height { return self }
    let columns = Image.linearTaps(source: width, destination: outWidth), rows = Image.linearTaps(source: height, destination: outHeight)
    var result = Mask(width: outWidth, height: outHeight)
    for y in 0..<outHeight {
      let (y0, y1, wy) = rows[y]
      for x in 0..<outWidth {
        let (x0, x1, wx) = columns[x]
        let top = values[y0 * width + x0] + (values[y0 * width + x1] - values[y0 * width + x0]) * wx
        let bottom = values[y1 * width + x0] + (values[y1 * width + x1] - values[y1 * width + x0]) * wx
        result.values[y * outWidth + x] = top + (bottom - top) * wy
      }
    }
    return result
  }

  /// FaceFusion's finishing step for occlusion, region and area masks: blur (sigma 5), then map
  /// 0.5...1 onto 0...1, which pulls the edge inwards and feathers it.
  public func faceFusionFeathered() -> Mask {
    var blurred = Mask(width: width, height: height, values: values.map { min(max($0, 0), 1) }).gaussianBlurred(sigma: 5)
    for index in blurred.values.indices { blurred.values[index] = (min(max(blurred.values[index], 0.5), 1) - 0.5) * 2 }
    return blurred
  }

  /// Per-pixel minimum (how FaceFusion combines box, occlusion, region and area masks).
  public func minimum(_ other: Mask) -> Mask {
    precondition(other.width == width && other.height == height)
    return Mask(width: width, height: height, values: zip(values, other.values).map { min($0, $1) })
  }

  /// Separable Gaussian blur with OpenCV's choices for float images: kernel size
  /// round(sigma * 8 + 1) made odd, and BORDER_REFLECT_101 at the edges.
  public func gaussianBlurred(sigma: Float) -> Mask {
    guard sigma > 0 else { return self }
    var size = Int((sigma * 8 + 1).rounded()) | 1
    size = max(3, size)
    let radius = size / 2
    var kernel = (0..<size).map { index -> Float in
      let d = Float(index - radius)
      return expf(-(d * d) / (2 * sigma * sigma))
    }
    let total = kernel.reduce(0, +)
    kernel = kernel.map { $0 / total }

    func reflect(_ index: Int, _ count: Int) -> Int {
      guard count > 1 else { return 0 }
      var i = index
      while i < 0 || i >= count { i = i < 0 ? -i : 2 * count - 2 - i }
      return i
    }
    // Rows are copied into a buffer padded by reflection so both passes run branch-free,
    // contiguous multiply-adds (k outer, x inner) that the compiler vectorises.
    let rowIndex = (0..<height).map { y in (0..<size).map { reflect(y + $0 - radius, height) } }
    var horizontal = [Float](repeating: 0, count: values.count)
    var padded = [Float](repeating: 0, count: width + 2 * radius)
    var result = Mask(width: width, height: height)
    values.withUnsafeBufferPointer { source in
      horizontal.withUnsafeMutableBufferPointer { pass in
        padded.withUnsafeMutableBufferPointer { line in
          for y in 0..<height {
            let row = y * width
            for index in 0..<line.count { line[index] = source[row + reflect(index - radius, width)] }
            let out = pass.baseAddress! + row, input = line.baseAddress!
            for k in 0..<size {
              let weight = kernel[k], shifted = input + k
              for x in 0..<width { out[x] += shifted[x] * weight }
            }
          }
        }
      }
    }
    horizontal.withUnsafeBufferPointer { pass in
      result.values.withUnsafeMutableBufferPointer { out in
        for y in 0..<height {
          let taps = rowIndex[y]
          let destination = out.baseAddress! + y * width
          for k in 0..<size {
            let sourceRow = pass.baseAddress! + taps[k] * width, weight = kernel[k]
            for x in 0..<width { destination[x] += sourceRow[x] * weight }
          }
        }
      }
    }
    return result
  }

  /// The mask warped by `transform` (source -> destination) with bilinear sampling; outside the
  /// source is 0.
  public func warpedAffine(_ transform: AffineTransform, width outWidth: Int, height outHeight: Int) -> Mask {
    var result = Mask(width: outWidth, height: outHeight)
    guard let inverse = transform.inverted else { return result }
    let (w, h) = (width, height)
    values.withUnsafeBufferPointer { source in
      result.values.withUnsafeMutableBufferPointer { out in
        for y in 0..<outHeight {
          var sx = inverse.b * Double(y) + inverse.tx
          var sy = inverse.d * Double(y) + inverse.ty
          for x in 0..<outWidth {
            defer {
              sx += inverse.a
              sy += inverse.c
            }
            guard sx > -1, sy > -1, sx < Double(w), sy < Double(h) else { continue }
            let x0 = Int(sx + 1) - 1, y0 = Int(sy + 1) - 1  // floor for values > -1
            let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
            func at(_ px: Int, _ py: Int) -> Float { px >= 0 && py >= 0 && px < w && py < h ? source[py * w + px] : 0 }
            let top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx
            let bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx
            out[y * outWidth + x] = top + (bottom - top) * fy
          }
        }
      }
    }
    return result
  }
}
