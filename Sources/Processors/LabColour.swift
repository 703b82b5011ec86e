import Foundation

/// CIE L*a*b* (D65) for the classic swapper's colour transfer: a space where distances are
/// roughly perceptual, so matching means and spreads in it matches what the eye sees (an
/// orange cast or red wrinkle lines are a* and b* spread, not RGB ratios).
enum LabColour {
  private static let epsilon: Float = 216.0 / 24389.0   // (6/29)^3
  private static let kappa: Float = 24389.0 / 27.0
  private static let white: (x: Float, y: Float, z: Float) = (0.95047, 1.0, 1.08883)

  /// sRGB levels 0...255 to linear light, for every level (inputs are rounded to the nearest
  /// 1/16 level: far below what shows, and it keeps the kernel free of powf).
  private static let linearTable: [Float] = (0...4096).map { step in
    let c = Float(step) / 4096
    return c <= 0.04045 ? c / 12.92 : powf((c + 0.055) / 1.055, 2.4)
  }

  /// Three planes of sRGB levels (0...255) to L*, a*, b* planes: L* at every pixel, a* and b*
  /// at the pixels `needed` (the others are 0). L* is cheap, and the classic swapper splits it
  /// into pyramid bands, which must not see unconverted pixels as a cliff.
  static func lab(fromRGB rgb: [Plane], where needed: [Bool]) -> [Plane] {
    let zeros = [Float](repeating: 0, count: rgb[0].data.count)
    return linearTable.withUnsafeBufferPointer { table in
      cubeRootTable.withUnsafeBufferPointer { roots in
        needed.withUnsafeBufferPointer { needed in
          func f(_ t: Float) -> Float { t > 1 ? cbrtf(t) : lookUp(roots, t) }
          func linear(_ value: Float) -> Float { table[Int(min(max(value, 0), 255) * (4096 / 255) + 0.5)] }
          return perPixel(rgb, startingFrom: [zeros, zeros, zeros]) { index, red, green, blue in
            let r = linear(red), g = linear(green), b = linear(blue)
            let fy = f((0.2126729 * r + 0.7151522 * g + 0.0721750 * b) / white.y)
            guard needed[index] else { return (116 * fy - 16, 0, 0) }
            let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / white.x
            let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / white.z
            return (116 * fy - 16, 500 * (f(x) - fy), 200 * (fy - f(z)))
          }
        }
      }
    }
  }

  /// L*, a*, b* planes back to sRGB levels (0...255, clamped to the gamut's box) at the pixels
  /// `needed`; the others are copied from `elsewhere`.
  static func rgb(fromLab lab: [Plane], where needed: [Bool], elsewhere: [Plane]) -> [Plane] {
    encodeTable.withUnsafeBufferPointer { encoding in
      needed.withUnsafeBufferPointer { needed in
        perPixel(lab, startingFrom: elsewhere.map(\.data)) { index, lightness, a, b in
          guard needed[index] else { return nil }
          let fy = (lightness + 16) / 116
          let fx = fy + a / 500, fz = fy - b / 200
          let x = inverse(fx) * white.x, y = inverse(fy) * white.y, z = inverse(fz) * white.z
          let r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z
          let g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z
          let bl = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z
          return (lookUp(encoding, r), lookUp(encoding, g), lookUp(encoding, bl))
        }
      }
    }
  }

  /// Three planes mapped pixel by pixel into three new ones that start as `output` (`body`
  /// returns nil to leave a pixel as it starts). Raw buffers throughout: this runs on two face
  /// regions per frame, and indexing through [Plane] costs more than the arithmetic.
  @inline(__always)
  private static func perPixel(_ input: [Plane], startingFrom output: [[Float]],
                               _ body: (Int, Float, Float, Float) -> (Float, Float, Float)?) -> [Plane] {
    var (first, second, third) = (output[0], output[1], output[2])
    input[0].data.withUnsafeBufferPointer { in0 in
      input[1].data.withUnsafeBufferPointer { in1 in
        input[2].data.withUnsafeBufferPointer { in2 in
          first.withUnsafeMutableBufferPointer { out0 in
            second.withUnsafeMutableBufferPointer { out1 in
              third.withUnsafeMutableBufferPointer { out2 in
                for index in 0..<in0.count {
                  guard let value = body(index, in0[index], in1[index], in2[index]) else { continue }
                  out0[index] = value.0
                  out1[index] = value.1
                  out2[index] = value.2
                }
              }
            }
          }
        }
      }
    }
    let (width, height) = (input[0].width, input[0].height)
    return [first, second, third].map { Plane(width: width, height: height, data: $0) }
  }

  /// f(t) of the Lab definition on 0...1 in 8192 steps, read with linear interpolation (a
  /// per-pixel cbrtf would cost more than the rest of the conversion).
  private static let cubeRootTable: [Float] = (0...8193).map { step in
    let t = Float(step) / 8192
    return t > epsilon ? cbrtf(t) : (kappa * t + 16) / 116
  }
  /// sRGB encoding of linear light 0...1 in 8192 steps, read with linear interpolation.
  private static let encodeTable: [Float] = (0...8193).map { step in
    let c = Float(step) / 8192
    return 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * powf(c, 1 / 2.4) - 0.055)
  }

  @inline(__always) private static func lookUp(_ table: UnsafeBufferPointer<Float>, _ value: Float) -> Float {
    let position = min(max(value, 0), 1) * 8192
    let index = Int(position), fraction = position - Float(index)
    return table[index] + (table[index + 1] - table[index]) * fraction
  }

  @inline(__always) private static func inverse(_ t: Float) -> Float {
    let cube = t * t * t
    return cube > epsilon ? cube : (116 * t - 16) / kappa
  }
}
