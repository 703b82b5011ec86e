@testable import Processors
import Testing

/// The pyramid kernels against plain per-pixel formulas (clamped 5-tap binomial and bilinear
/// with half-pixel centres), on every small size, including planes narrower than the kernel.
struct PlaneTests {
  static func plane(_ width: Int, _ height: Int) -> Plane {
    Plane(width: width, height: height, data: (0..<(width * height)).map { Float(($0 * 37 + 11) % 97) })
  }

  @Test func downsampleIsTheClampedBinomialKernelAtEverySize() {
    let weights: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }
    for width in 1...11 {
      for height in 1...7 {
        let input = Self.plane(width, height), output = input.downsampled()
        #expect(output.width == (width + 1) / 2 && output.height == (height + 1) / 2)
        for y in 0..<output.height {
          for x in 0..<output.width {
            var expected: Float = 0
            for j in 0..<5 {
              for i in 0..<5 {
                let sx = min(max(2 * x + i - 2, 0), width - 1), sy = min(max(2 * y + j - 2, 0), height - 1)
                expected += weights[i] * weights[j] * input.data[sy * width + sx]
              }
            }
            #expect(abs(output.data[y * output.width + x] - expected) < 1e-3, "\(width)x\(height) at \(x),\(y)")
          }
        }
      }
    }
  }

  @Test func upsampleIsBilinearWithHalfPixelCentres() {
    for (width, height, outWidth, outHeight) in [(1, 1, 2, 3), (3, 2, 6, 4), (5, 4, 9, 7), (4, 4, 8, 8)] {
      let input = Self.plane(width, height), output = input.upsampled(width: outWidth, height: outHeight)
      for y in 0..<outHeight {
        for x in 0..<outWidth {
          let fx = max(0, (Float(x) + 0.5) * Float(width) / Float(outWidth) - 0.5)
          let fy = max(0, (Float(y) + 0.5) * Float(height) / Float(outHeight) - 0.5)
          let x0 = min(Int(fx), width - 1), y0 = min(Int(fy), height - 1)
          let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1), wx = fx - Float(x0), wy = fy - Float(y0)
          func at(_ x: Int, _ y: Int) -> Float { input.data[y * width + x] }
          let expected = (at(x0, y0) * (1 - wx) + at(x1, y0) * wx) * (1 - wy) + (at(x0, y1) * (1 - wx) + at(x1, y1) * wx) * wy
          #expect(abs(output.data[y * outWidth + x] - expected) < 1e-3, "\(width)x\(height) -> \(outWidth)x\(outHeight) at \(x),\(y)")
        }
      }
    }
  }
}
