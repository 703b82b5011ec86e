import FaceAnalysis
import Foundation
import Imaging

/// Settings of the classic (model-free) swapper.
public struct ClassicSwapOptions: Sendable, Equatable {
  /// Feather width of the face mask as a fraction of the face width.
  public var feather: Float
  /// Pyramid levels of the multi-band blend.
  public var blendLevels: Int
  /// Match the source face's colour and shading to the target's.
  public var colourTransfer: Bool

  public init(feather: Float = 0.08, blendLevels: Int = 5, colourTransfer: Bool = true) {
    self.feather = feather
    self.blendLevels = blendLevels
    self.colourTransfer = colourTransfer
  }
}

/// The swapped frame, the rectangle of it that may have changed, and the blend mask over that
/// rectangle (1 = source face).
public struct SwapResult: Sendable {
  public let image: Image
  public let region: (x: Int, y: Int, width: Int, height: Int)
  public let mask: Mask?
}

/// Swapline's offline swapper, for when no neural swapper file is present. It moves the source
/// face onto the target's 68-point geometry with a triangulated piecewise-affine warp, matches
/// colour and shading to the target (ratio of heavily blurred images, which follows lighting
/// gradients across the face), and blends it in with a multi-band blend inside a feathered mask
/// of the jaw-and-brow outline. Everything outside the target face's region stays untouched.
public struct ClassicFaceSwapper: Sendable {
  /// One triangle topology shared by every face, from Delaunay on a reference shape.
  let triangles: [(Int, Int, Int)]
  public let options: ClassicSwapOptions

  /// - Parameter referenceShape: 68 points of a neutral frontal face (the predictor's mean shape
  ///   works well); fixes the triangulation.
  public init(referenceShape: [Point2], options: ClassicSwapOptions = ClassicSwapOptions()) {
    precondition(referenceShape.count == 68)
    triangles = Delaunay.triangulate(referenceShape)
    self.options = options
  }

  /// The target frame with the source face swapped onto the target face, plus the frame region
  /// that was rewritten (x, y, width, height).
  public func swap(source: Image, sourceShape: [Point2], target: Image, targetShape: [Point2],
                   timing: some StageTiming = NoStageTiming()) -> SwapResult {
    let source = source.converted(toChannels: 3)
    let xs = targetShape.map(\.x), ys = targetShape.map(\.y)
    let faceWidth = max(1, xs.max()! - xs.min()!)
    let margin = Int(faceWidth * 0.25) + 4
    let x0 = max(0, Int(xs.min()!) - margin), y0 = max(0, Int(ys.min()!) - margin)
    let x1 = min(target.width, Int(xs.max()!.rounded(.up)) + margin), y1 = min(target.height, Int(ys.max()!.rounded(.up)) + margin)
    guard x1 - x0 > 4, y1 - y0 > 4 else { return SwapResult(image: target, region: (0, 0, 0, 0), mask: nil) }
    let width = x1 - x0, height = y1 - y0
    let local = targetShape.map { Point2($0.x - Float(x0), $0.y - Float(y0)) }

    let background = planes(of: target, x: x0, y: y0, width: width, height: height)
    var (warped, coverage) = timing.measure("swap") {
      warpTriangles(source: source, sourceShape: sourceShape, targetShape: local, width: width, height: height)
    }
    // Where the warp has no data, use the target so blurs and pyramids see no black border.
    for channel in 0..<3 {
      for index in coverage.data.indices where coverage.data[index] < 0.5 { warped[channel].data[index] = background[channel].data[index] }
    }
    timing.measure("swap") {
    if options.colourTransfer {
      // Shading is matched at the scale of the face's large features: the distance between
      // the eye centres. Smaller scales copy the source's wrinkles and glasses into the ratio.
      let eyes = Landmarks68.fivePoints(local)
      let sigma = max(2, hypot(eyes[1].x - eyes[0].x, eyes[1].y - eyes[0].y) * 1.0)
      for channel in 0..<3 {
        let targetLight = background[channel].blurredCoarse(sigma: sigma), sourceLight = warped[channel].blurredCoarse(sigma: sigma)
        for index in warped[channel].data.indices {
          let ratio = (targetLight.data[index] + 1) / (sourceLight.data[index] + 1)
          warped[channel].data[index] = min(255, max(0, warped[channel].data[index] * ratio))
        }
      }
    }
    }
    let mask = timing.measure("mask") { faceMask(shape: local, coverage: coverage, width: width, height: height, faceWidth: faceWidth) }
    var result = target.channels == 3 ? target : target
    let c = target.channels
    timing.measure("paste") {
    for channel in 0..<3 {
      let blended = multiBandBlend(foreground: warped[channel], background: background[channel], mask: mask, levels: options.blendLevels)
      for y in 0..<height {
        for x in 0..<width {
          let m = mask.data[y * width + x]
          // Outside the mask the frame keeps its exact bytes (the pyramid would drift them by rounding).
          guard m > 0.001 else { continue }
          result.pixels[((y0 + y) * target.width + x0 + x) * c + channel] = UInt8(min(255, max(0, blended.data[y * width + x])) + 0.5)
        }
      }
    }
    }
    return SwapResult(image: result, region: (x0, y0, width, height), mask: Mask(width: width, height: height, values: mask.data))
  }

  func planes(of image: Image, x: Int, y: Int, width: Int, height: Int) -> [Plane] {
    var planes = (0..<3).map { _ in Plane(width: width, height: height) }
    for row in 0..<height {
      for column in 0..<width {
        let offset = ((y + row) * image.width + x + column) * image.channels
        for channel in 0..<3 { planes[channel].data[row * width + column] = Float(image.pixels[offset + channel]) }
      }
    }
    return planes
  }

  /// Piecewise-affine warp: every target triangle samples the matching source triangle.
  func warpTriangles(source: Image, sourceShape: [Point2], targetShape: [Point2], width: Int, height: Int) -> ([Plane], Plane) {
    var out = (0..<3).map { _ in Plane(width: width, height: height) }
    var coverage = Plane(width: width, height: height)
    let sw = source.width, sh = source.height
    source.pixels.withUnsafeBufferPointer { pixels in
      for (i, j, k) in triangles {
        let (a, b, c) = (targetShape[i], targetShape[j], targetShape[k])
        guard let map = Imaging.AffineTransform.fromTriangle((a, b, c), to: (sourceShape[i], sourceShape[j], sourceShape[k])) else { continue }
        let minX = max(0, Int(min(a.x, b.x, c.x).rounded(.down))), maxX = min(width - 1, Int(max(a.x, b.x, c.x).rounded(.up)))
        let minY = max(0, Int(min(a.y, b.y, c.y).rounded(.down))), maxY = min(height - 1, Int(max(a.y, b.y, c.y).rounded(.up)))
        guard minX <= maxX, minY <= maxY else { continue }
        let area = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
        guard abs(area) > 1e-3 else { continue }
        for y in minY...maxY {
          for x in minX...maxX {
            let px = Float(x), py = Float(y)
            // Barycentric inside test with a small tolerance so shared edges leave no gaps.
            let w0 = ((b.x - px) * (c.y - py) - (b.y - py) * (c.x - px)) / area
            let w1 = ((c.x - px) * (a.y - py) - (c.y - py) * (a.x - px)) / area
            let w2 = 1 - w0 - w1
            guard w0 >= -1e-4, w1 >= -1e-4, w2 >= -1e-4 else { continue }
            let s = map.apply(x: Double(px), y: Double(py))
            let sx = min(max(Float(s.x), 0), Float(sw - 1)), sy = min(max(Float(s.y), 0), Float(sh - 1))
            let ix = min(Int(sx), sw - 2 < 0 ? 0 : sw - 2), iy = min(Int(sy), sh - 2 < 0 ? 0 : sh - 2)
            let fx = sx - Float(ix), fy = sy - Float(iy)
            let index = y * width + x
            for channel in 0..<3 {
              let p00 = Float(pixels[(iy * sw + ix) * 3 + channel]), p01 = Float(pixels[(iy * sw + ix + 1) * 3 + channel])
              let p10 = Float(pixels[((iy + 1) * sw + ix) * 3 + channel]), p11 = Float(pixels[((iy + 1) * sw + ix + 1) * 3 + channel])
              let top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx
              out[channel].data[index] = top + (bottom - top) * fy
            }
            coverage.data[index] = 1
          }
        }
      }
    }
    return (out, coverage)
  }

  /// Filled jaw-and-brow outline, pulled slightly inwards and feathered, limited to warped pixels.
  func faceMask(shape: [Point2], coverage: Plane, width: Int, height: Int, faceWidth: Float) -> Plane {
    let outline = Landmarks68.faceOutline.map { shape[$0] }
    let centre = Point2(outline.map(\.x).reduce(0, +) / Float(outline.count), outline.map(\.y).reduce(0, +) / Float(outline.count))
    let feather = max(1, faceWidth * options.feather)
    // Shrink by about one feather width so the blurred edge stays inside the warped face.
    let polygon = outline.map { point -> Point2 in
      let dx = point.x - centre.x, dy = point.y - centre.y
      let length = max(1, hypot(dx, dy))
      let shrink = max(0, 1 - feather / length)
      return Point2(centre.x + dx * shrink, centre.y + dy * shrink)
    }
    var mask = Plane(width: width, height: height)
    fill(polygon, into: &mask, value: 1)
    // Keep the target's own mouth opening (teeth, tongue): a closed source mouth stretched over
    // an open one looks wrong, the target's inside of the mouth does not.
    fill((60..<68).map { shape[$0] }, into: &mask, value: 0)
    var feathered = mask.blurred(sigma: feather / 2)
    for index in feathered.data.indices { feathered.data[index] = min(feathered.data[index], coverage.data[index]) }
    return feathered
  }
}

/// Even-odd scanline fill of a polygon, sampling at pixel centres.
func fill(_ polygon: [Point2], into plane: inout Plane, value: Float) {
  for y in 0..<plane.height {
    let py = Float(y)
    var crossings: [Float] = []
    for index in polygon.indices {
      let a = polygon[index], b = polygon[(index + 1) % polygon.count]
      if (a.y <= py && b.y > py) || (b.y <= py && a.y > py) {
        crossings.append(a.x + (py - a.y) / (b.y - a.y) * (b.x - a.x))
      }
    }
    crossings.sort()
    for pair in stride(from: 0, to: crossings.count - 1, by: 2) {
      let start = max(0, Int(crossings[pair].rounded(.up))), end = min(plane.width - 1, Int(crossings[pair + 1].rounded(.down)))
      if start <= end { for x in start...end { plane.data[y * plane.width + x] = value } }
    }
  }
}

extension Imaging.AffineTransform {
  /// The affine map taking triangle `from` exactly onto triangle `to`; nil when degenerate.
  static func fromTriangle(_ from: (Point2, Point2, Point2), to: (Point2, Point2, Point2)) -> Imaging.AffineTransform? {
    let (p0, p1, p2) = (from.0, from.1, from.2)
    let det = Double((p1.x - p0.x) * (p2.y - p0.y) - (p2.x - p0.x) * (p1.y - p0.y))
    guard abs(det) > 1e-9 else { return nil }
    // Solve for each output coordinate: value = a*x + b*y + t at the three vertices.
    func solve(_ v0: Float, _ v1: Float, _ v2: Float) -> (Double, Double, Double) {
      let a = (Double(v1 - v0) * Double(p2.y - p0.y) - Double(v2 - v0) * Double(p1.y - p0.y)) / det
      let b = (Double(v2 - v0) * Double(p1.x - p0.x) - Double(v1 - v0) * Double(p2.x - p0.x)) / det
      return (a, b, Double(v0) - a * Double(p0.x) - b * Double(p0.y))
    }
    let x = solve(to.0.x, to.1.x, to.2.x), y = solve(to.0.y, to.1.y, to.2.y)
    return Imaging.AffineTransform(a: x.0, b: x.1, tx: x.2, c: y.0, d: y.1, ty: y.2)
  }
}
