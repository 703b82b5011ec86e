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
    let count = rgb[0].data.count
    var out = (0..<3).map { _ in Plane(width: rgb[0].width, height: rgb[0].height) }
    linearTable.withUnsafeBufferPointer { table in
      cubeRootTable.withUnsafeBufferPointer { roots in
        func f(_ t: Float) -> Float { t > 1 ? cbrtf(t) : lookUp(roots, t) }
        for index in 0..<count {
          func linear(_ value: Float) -> Float { table[Int(min(max(value, 0), 255) * (4096 / 255) + 0.5)] }
          let r = linear(rgb[0].data[index]), g = linear(rgb[1].data[index]), b = linear(rgb[2].data[index])
          let fy = f((0.2126729 * r + 0.7151522 * g + 0.0721750 * b) / white.y)
          out[0].data[index] = 116 * fy - 16
          guard needed[index] else { continue }
          let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / white.x
          let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / white.z
          out[1].data[index] = 500 * (f(x) - fy)
          out[2].data[index] = 200 * (fy - f(z))
        }
      }
    }
    return out
  }

  /// L*, a*, b* planes back to sRGB levels (0...255, clamped to the gamut's box) at the pixels
  /// `needed`; the others are copied from `elsewhere`.
  static func rgb(fromLab lab: [Plane], where needed: [Bool], elsewhere: [Plane]) -> [Plane] {
    let count = lab[0].data.count
    var out = elsewhere
    encodeTable.withUnsafeBufferPointer { encoding in
      for index in 0..<count where needed[index] {
        let fy = (lab[0].data[index] + 16) / 116
        let fx = fy + lab[1].data[index] / 500, fz = fy - lab[2].data[index] / 200
        let x = inverse(fx) * white.x, y = inverse(fy) * white.y, z = inverse(fz) * white.z
        let r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z
        let g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z
        let b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z
        out[0].data[index] = lookUp(encoding, r)
        out[1].data[index] = lookUp(encoding, g)
        out[2].data[index] = lookUp(encoding, b)
      }
    }
    return out
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
