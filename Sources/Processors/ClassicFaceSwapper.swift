import FaceAnalysis
import Foundation
import Imaging

/// Settings of the classic (model-free) swapper.
public struct ClassicSwapOptions: Sendable, Equatable {
  /// Feather width of the face mask as a fraction of the face width.
  public var feather: Float
  /// Pyramid levels of the multi-band blend.
  public var blendLevels: Int
  /// Match the source face's colour, shading and texture contrast to the target's.
  public var colourTransfer: Bool
  /// Keep the target's own eyes and mouth where their openness differs from the source's (a
  /// blink, a laugh), so the target's expression survives the swap.
  public var keepExpression: Bool
  /// Keep the target's dark glasses (sunglasses stay opaque in front of the swapped face).
  public var keepDarkLenses: Bool

  public init(feather: Float = 0.08, blendLevels: Int = 5, colourTransfer: Bool = true, keepExpression: Bool = true,
              keepDarkLenses: Bool = true) {
    self.feather = feather
    self.blendLevels = blendLevels
    self.colourTransfer = colourTransfer
    self.keepExpression = keepExpression
    self.keepDarkLenses = keepDarkLenses
  }
}

/// How much of the target's own features the classic swapper keeps (0: the source's, 1: the
/// target's), image-left and image-right eye, the mouth's opening (and the lip edges around it),
/// and the whole mouth with its lips (where a hand covers it).
public struct KeptFeatures: Sendable, Equatable {
  public var eyes: [Float]
  public var mouth: Float
  public var lips: Float

  public init(eyes: [Float] = [0, 0], mouth: Float = 0, lips: Float = 0) {
    self.eyes = eyes
    self.mouth = mouth
    self.lips = lips
  }

  public static let none = KeptFeatures()
}

/// The swapped frame, the rectangle of it that may have changed, and the blend mask over that
/// rectangle (1 = source face).
public struct SwapResult: Sendable {
  public let image: Image
  public let region: (x: Int, y: Int, width: Int, height: Int)
  public let mask: Mask?
}

/// Swapline's offline swapper, for when no neural swapper file is present. It moves the source
/// face onto the target's geometry (the 68 points plus a forehead band that holds the brows)
/// with a triangulated piecewise-affine warp; takes the target's colour and shading in L*a*b*
/// (the low frequencies, measured on the face's skin only) and keeps the source's detail on top
/// at no more than the target's contrast; keeps the target's eyes and mouth where their
/// openness differs from the source's, and its dark glasses; and blends the result in with a
/// multi-band blend inside a feathered mask. Everything outside the target face's region stays
/// untouched.
public struct ClassicFaceSwapper: Sendable {
  /// One triangle topology shared by every face, from Delaunay on a reference shape (with its
  /// forehead points).
  let triangles: [(Int, Int, Int)]
  public let options: ClassicSwapOptions

  /// - Parameter referenceShape: 68 points of a neutral frontal face (the predictor's mean shape
  ///   works well); fixes the triangulation.
  public init(referenceShape: [Point2], options: ClassicSwapOptions = ClassicSwapOptions()) {
    precondition(referenceShape.count == 68)
    triangles = Delaunay.triangulate(Landmarks68.withForehead(referenceShape))
    self.options = options
  }

  /// How much of the target's own eyes (image-left, image-right) and mouth to keep: 0 while the
  /// openness of source and target agree, rising to 1 as they part (a closed eye against an open
  /// one, a laugh against closed lips). Continuous, so a blink fades rather than switches.
  public static func expressionKept(source: [Point2], target: [Point2]) -> KeptFeatures {
    func ramp(_ value: Float, from low: Float, to high: Float) -> Float { min(1, max(0, (value - low) / (high - low))) }
    let eyes = (0..<2).map { eye -> Float in
      let s = Landmarks68.eyeAspectRatio(source, eye: eye), t = Landmarks68.eyeAspectRatio(target, eye: eye)
      return ramp(abs(s - t) / max(s, t, 0.05), from: 0.2, to: 0.45)
    }
    let mouth = ramp(abs(Landmarks68.mouthAspectRatio(source) - Landmarks68.mouthAspectRatio(target)), from: 0.06, to: 0.18)
    return KeptFeatures(eyes: eyes, mouth: mouth)
  }

  /// `expressionKept` held along a video's face track: it rises at once when the target's
  /// openness departs from the source's (a blink) but falls by at most a quarter a frame. A
  /// single frame where the points read a closed eye as open would otherwise paste the source's
  /// eye in for that one frame (a pop the stability measure sees: the footage clip's frame 467);
  /// keeping the target's own eye a few frames longer is never wrong about the expression.
  public static func held(_ measured: KeptFeatures, after previous: KeptFeatures?) -> KeptFeatures {
    guard let previous, previous.eyes.count == measured.eyes.count else { return measured }
    let fall: Float = 0.25
    return KeptFeatures(eyes: zip(measured.eyes, previous.eyes).map { max($0, $1 - fall) }, mouth: max(measured.mouth, previous.mouth - fall),
                        lips: max(measured.lips, previous.lips - fall))
  }

  /// The features a hand covers: an eye or the mouth with a point of it inside a hand's outline
  /// (the hull of its 21 points, widened by a tenth of the eye distance). The predictor fits
  /// points around the fingers there, and the source's eye or lips warped by them read wrong
  /// between the fingers; the target's own, kept, are what the hand covers in the footage.
  public static func covered(by hands: [[Point2]], shape: [Point2]) -> KeptFeatures {
    guard shape.count == 68, !hands.isEmpty else { return .none }
    let eyeDistance = Point2.centroid(of: shape[36..<42]).distance(to: Point2.centroid(of: shape[42..<48]))
    let margin = 0.1 * eyeDistance
    let hulls = hands.filter { $0.count >= 3 }.map(FaceMasker.convexHull)
    func isCovered(_ points: ArraySlice<Point2>) -> Bool {
      hulls.contains { hull in points.contains { HandOcclusion.squaredDistance(from: $0, toConvex: hull) <= margin * margin } }
    }
    return KeptFeatures(eyes: [isCovered(shape[36..<42]) ? 1 : 0, isCovered(shape[42..<48]) ? 1 : 0], mouth: 0,
                        lips: isCovered(shape[48..<60]) ? 1 : 0)
  }

  /// Which of the target's eyes (image-left, image-right) are behind dark glasses: the eye's
  /// surroundings (lids, lashes, white and iris, as a rule 60-90% as bright as the cheek below)
  /// under 45% of the brighter cheek's.
  static func darkLenses(in planes: [Plane], shape: [Point2]) -> [Bool] {
    let width = planes[0].width, height = planes[0].height
    let eyeWidth = (shape[36].distance(to: shape[39]) + shape[42].distance(to: shape[45])) / 2
    func meanLuminance(centre: Point2, direction: (Point2, Point2), axes: (along: Float, across: Float)) -> Float {
      var sum: Float = 0, count: Float = 0
      forEachPixel(inEllipse: centre, direction: direction, axes: axes, width: width, height: height) { x, y in
        let index = y * width + x
        sum += 0.299 * planes[0].data[index] + 0.587 * planes[1].data[index] + 0.114 * planes[2].data[index]
        count += 1
      }
      return count > 0 ? sum / count : 0
    }
    // The cheeks below the eyes (between the jaw, the nose wing and the mouth corner); the
    // brighter one, as side light can shade the other as dark as an eye.
    let cheekLevel = [[1, 3, 31, 48], [15, 13, 35, 54]].map { indices in
      meanLuminance(centre: Point2.centroid(of: indices.map { shape[$0] }), direction: (shape[36], shape[45]),
                    axes: (along: 0.3 * eyeWidth, across: 0.3 * eyeWidth))
    }.max()!
    return (0..<2).map { eye in
      let eyeLevel = meanLuminance(centre: Point2.centroid(of: shape[(36 + 6 * eye)..<(42 + 6 * eye)]),
                                   direction: (shape[36 + 6 * eye], shape[39 + 6 * eye]), axes: (along: 0.8 * eyeWidth, across: 0.45 * eyeWidth))
      return cheekLevel > 20 && eyeLevel < 0.45 * cheekLevel
    }
  }

  /// The target frame with the source face swapped onto the target face, plus the frame region
  /// that was rewritten (x, y, width, height).
  /// `kept`: how much of the target's eyes and mouth to keep, when the caller holds it steady
  /// over a video (see `expressionKept`); nil: measured on these two shapes.
  public func swap(source: Image, sourceShape: [Point2], target: Image, targetShape: [Point2],
                   kept: KeptFeatures? = nil, timing: some StageTiming = NoStageTiming()) -> SwapResult {
    let source = source.converted(toChannels: 3)
    let targetPoints = Landmarks68.withForehead(targetShape), sourcePoints = Landmarks68.withForehead(sourceShape)
    let xs = targetPoints.map(\.x), ys = targetPoints.map(\.y)
    let faceWidth = max(1, xs.max()! - xs.min()!)
    let margin = Int(faceWidth * 0.25) + 4
    let x0 = max(0, Int(xs.min()!) - margin), y0 = max(0, Int(ys.min()!) - margin)
    let x1 = min(target.width, Int(xs.max()!.rounded(.up)) + margin), y1 = min(target.height, Int(ys.max()!.rounded(.up)) + margin)
    guard x1 - x0 > 4, y1 - y0 > 4 else { return SwapResult(image: target, region: (0, 0, 0, 0), mask: nil) }
    let width = x1 - x0, height = y1 - y0
    let local = targetPoints.map { Point2($0.x - Float(x0), $0.y - Float(y0)) }

    let background = planes(of: target, x: x0, y: y0, width: width, height: height)
    var (warped, coverage) = timing.measure("swap") {
      warpTriangles(source: source, sourceShape: sourcePoints, targetShape: local, width: width, height: height)
    }
    // Where the warp has no data, use the target so blurs and pyramids see no black border.
    for channel in 0..<3 {
      var plane = warped[channel].data
      plane.withUnsafeMutableBufferPointer { out in
        coverage.data.withUnsafeBufferPointer { covered in
          background[channel].data.withUnsafeBufferPointer { behind in
            for index in 0..<out.count where covered[index] < 0.5 { out[index] = behind[index] }
          }
        }
      }
      warped[channel] = Plane(width: width, height: height, data: plane)
    }
    let kept = options.keepExpression ? kept ?? Self.expressionKept(source: sourceShape, target: targetShape) : .none
    let lenses = options.keepDarkLenses ? Self.darkLenses(in: background, shape: local) : [false, false]
    let regions = timing.measure("mask") {
      FaceRegions(shape: local, coverage: coverage, width: width, height: height, feather: max(1, faceWidth * options.feather), kept: kept,
                  lenses: lenses)
    }
    if options.colourTransfer {
      timing.measure("swap") {
        // Shading is matched at the scale of the face's large features: the distance between
        // the eye centres. Smaller scales would copy the source's lighting of its wrinkles.
        let eyes = Landmarks68.fivePoints(Array(local[0..<68]))
        let sigma = max(2, hypot(eyes[1].x - eyes[0].x, eyes[1].y - eyes[0].y))
        warped = transferColour(warped, onto: background, regions: regions, sigma: sigma)
      }
    }
    let mask = regions.blend
    var result = target
    let c = target.channels, frameWidth = target.width
    timing.measure("paste") {
      let blendedChannels = multiBandBlend(foregrounds: warped, backgrounds: background, mask: mask, levels: options.blendLevels)
      result.pixels.withUnsafeMutableBufferPointer { pixels in
        mask.data.withUnsafeBufferPointer { mask in
          for channel in 0..<3 {
            blendedChannels[channel].data.withUnsafeBufferPointer { blended in
              for y in 0..<height {
                let line = pixels.baseAddress! + ((y0 + y) * frameWidth + x0) * c + channel
                for x in 0..<width {
                  // Outside the mask the frame keeps its exact bytes (the pyramid would drift them by rounding).
                  guard mask[y * width + x] > 0.001 else { continue }
                  line[x * c] = UInt8(min(255, max(0, blended[y * width + x])) + 0.5)
                }
              }
            }
          }
        }
      }
    }
    return SwapResult(image: result, region: (x0, y0, width, height), mask: Mask(width: width, height: height, values: mask.data))
  }

  /// The warped source in the target's colour: in L*a*b*, each channel's low frequencies (a
  /// Gaussian of `sigma`, averaged over the skin only so hair, background, eyes and mouth do not
  /// leak in) are the target's, and the source's detail above them is kept, scaled down where
  /// its contrast exceeds the target's (an old or side-lit photo's wrinkles and colour blotches),
  /// never up. Lightness detail is limited band by band: the two finest pyramid bands nowhere
  /// exceed the target's own contrast in the same place (a sharp photo's wrinkles and glasses
  /// rims pasted over soft video skin shimmer as the face moves), the rest as a whole over the
  /// pasted face. Only pixels on the skin or under the blend mask are converted (this runs per
  /// face per frame); the rest take the target's own values, which is what the blend's coarse
  /// pyramid levels should see beyond the mask.
  func transferColour(_ warped: [Plane], onto target: [Plane], regions: FaceRegions, sigma: Float) -> [Plane] {
    let skin = regions.skin
    let needed = zip(skin.data, regions.blend.data).map { $0 > 0 || $1 > 0.001 }
    let source = LabColour.lab(fromRGB: warped, where: needed), destination = LabColour.lab(fromRGB: target, where: needed)
    // Normalised convolution; far from the skin (weight -> 0) the estimate tends to the skin's mean.
    let floor: Float = 0.02
    let skinWeight = skin.blurredCoarse(sigma: sigma)
    let skinTotal = skin.data.reduce(0, +)
    func lowPass(_ plane: Plane) -> Plane {
      var weighted = plane
      var total: Float = 0
      for index in weighted.data.indices {
        weighted.data[index] *= skin.data[index]
        total += weighted.data[index]
      }
      let mean = skinTotal > 0 ? total / skinTotal : 0
      var out = weighted.blurredCoarse(sigma: sigma)
      for index in out.data.indices { out.data[index] = (out.data[index] + floor * mean) / (skinWeight.data[index] + floor) }
      return out
    }
    /// sqrt(target energy / source energy) over `weights`, at most 1, at least `floor`.
    func gain(_ sourceDetail: Plane, _ targetDetail: Plane, weights: Plane, floor: Float) -> Float {
      var sourceEnergy: Float = 0, targetEnergy: Float = 0
      for index in weights.data.indices where weights.data[index] > 0 {
        let ds = sourceDetail.data[index], dt = targetDetail.data[index]
        sourceEnergy += weights.data[index] * ds * ds
        targetEnergy += weights.data[index] * dt * dt
      }
      return sourceEnergy > 0 ? min(1, max(floor, (targetEnergy / sourceEnergy).squareRoot())) : 1
    }
    var result = source
    for channel in 0..<3 {
      let sourceLow = lowPass(source[channel]), targetLow = lowPass(destination[channel])
      let fineBands = channel == 0 ? 2 : 0
      let sourceBands = Self.detailBands(source[channel], low: sourceLow, fine: fineBands)
      let targetBands = Self.detailBands(destination[channel], low: targetLow, fine: fineBands)
      // Fine bands: a gain per pixel from both sides' local energy (over a tenth of the eye
      // distance). The rest: one gain, over the pasted face for lightness, the skin for colour.
      let fineGains = (0..<fineBands).map { Self.localGain(sourceBands[$0], targetBands[$0], sigma: 0.1 * sigma) }
      let rest = sourceBands[fineBands]
      // Lightness detail keeps at least 0.35 of the source's (its features); colour detail may
      // go down to 0.2: a sharp, warm photo's red wrinkles and rims on an evenly lit video face
      // otherwise spread its a* and b* up to 1.4-1.6x the face's own (the footage clip with
      // grace_hopper's or Newton's portrait).
      let restGain = gain(rest, targetBands[fineBands], weights: channel == 0 ? regions.blend : skin, floor: channel == 0 ? 0.35 : 0.2)
      // Band by band over the whole plane, in the order the sum is written: raw buffers, as
      // this is per pixel per channel per frame.
      var channelOut = result[channel].data
      channelOut.withUnsafeMutableBufferPointer { out in
        needed.withUnsafeBufferPointer { needed in
          targetLow.data.withUnsafeBufferPointer { low in
            for index in 0..<out.count where needed[index] { out[index] = low[index] }
          }
          for band in fineGains.indices {
            fineGains[band].data.withUnsafeBufferPointer { gain in
              sourceBands[band].data.withUnsafeBufferPointer { detail in
                for index in 0..<out.count where needed[index] { out[index] += gain[index] * detail[index] }
              }
            }
          }
          rest.data.withUnsafeBufferPointer { rest in
            for index in 0..<out.count where needed[index] { out[index] = out[index] + restGain * rest[index] }
          }
        }
      }
      result[channel] = Plane(width: result[channel].width, height: result[channel].height, data: channelOut)
    }
    return LabColour.rgb(fromLab: result, where: needed, elsewhere: target)
  }

  /// Per pixel, sqrt(target's local energy / source's), at most 1: energies are the squared
  /// detail blurred by `sigma`; a small floor keeps flat areas (both near 0) from dividing noise.
  static func localGain(_ sourceDetail: Plane, _ targetDetail: Plane, sigma: Float) -> Plane {
    var sourceEnergy = sourceDetail, targetEnergy = targetDetail
    for index in sourceEnergy.data.indices {
      sourceEnergy.data[index] *= sourceEnergy.data[index]
      targetEnergy.data[index] *= targetEnergy.data[index]
    }
    var gain = sourceEnergy.blurredCoarse(sigma: sigma)
    let target = targetEnergy.blurredCoarse(sigma: sigma)
    for index in gain.data.indices { gain.data[index] = min(1, ((target.data[index] + 0.25) / (gain.data[index] + 0.25)).squareRoot()) }
    return gain
  }

  /// `plane` minus `low`, split into the finest `fine` pyramid bands (each the difference of
  /// successive binomial blurs, at full size) and the rest.
  static func detailBands(_ plane: Plane, low: Plane, fine: Int) -> [Plane] {
    var bands: [Plane] = []
    var current = plane, level = plane
    var sizes: [(width: Int, height: Int)] = []
    for _ in 0..<fine {
      sizes.append((level.width, level.height))
      level = level.downsampled()
      let smooth = sizes.reversed().reduce(level) { $0.upsampled(width: $1.width, height: $1.height) }
      var band = current
      for index in band.data.indices { band.data[index] -= smooth.data[index] }
      bands.append(band)
      current = smooth
    }
    for index in current.data.indices { current.data[index] -= low.data[index] }
    bands.append(current)
    return bands
  }

  func planes(of image: Image, x: Int, y: Int, width: Int, height: Int) -> [Plane] {
    var red = [Float](repeating: 0, count: width * height), green = red, blue = red
    let stride = image.channels
    image.pixels.withUnsafeBufferPointer { pixels in
      red.withUnsafeMutableBufferPointer { r in
        green.withUnsafeMutableBufferPointer { g in
          blue.withUnsafeMutableBufferPointer { b in
            for row in 0..<height {
              var offset = ((y + row) * image.width + x) * stride
              for column in row * width..<(row + 1) * width {
                r[column] = Float(pixels[offset])
                g[column] = Float(pixels[offset + 1])
                b[column] = Float(pixels[offset + 2])
                offset += stride
              }
            }
          }
        }
      }
    }
    return [red, green, blue].map { Plane(width: width, height: height, data: $0) }
  }

  /// Piecewise-affine warp: every target triangle samples the matching source triangle.
  func warpTriangles(source: Image, sourceShape: [Point2], targetShape: [Point2], width: Int, height: Int) -> ([Plane], Plane) {
    var red = [Float](repeating: 0, count: width * height), green = red, blue = red, coverage = red
    let sw = source.width, sh = source.height
    source.pixels.withUnsafeBufferPointer { pixels in
      red.withUnsafeMutableBufferPointer { red in
        green.withUnsafeMutableBufferPointer { green in
          blue.withUnsafeMutableBufferPointer { blue in
            coverage.withUnsafeMutableBufferPointer { coverage in
              let out = [red.baseAddress!, green.baseAddress!, blue.baseAddress!]
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
                    let p00 = pixels.baseAddress! + (iy * sw + ix) * 3, p10 = p00 + sw * 3
                    for channel in 0..<3 {
                      let v00 = Float(p00[channel]), v01 = Float(p00[3 + channel])
                      let v10 = Float(p10[channel]), v11 = Float(p10[3 + channel])
                      let top = v00 + (v01 - v00) * fx, bottom = v10 + (v11 - v10) * fx
                      out[channel][index] = top + (bottom - top) * fy
                    }
                    coverage[index] = 1
                  }
                }
              }
            }
          }
        }
      }
    }
    return ([red, green, blue].map { Plane(width: width, height: height, data: $0) }, Plane(width: width, height: height, data: coverage))
  }

}

/// The classic swapper's masks over the pasted region, from the target's points (with forehead).
struct FaceRegions {
  /// Where the swapped face shows (1) over the target: the jaw-and-forehead outline pulled in by
  /// one feather width and feathered, without the target's mouth opening, and without the
  /// target's eyes and mouth as far as `kept` asks; limited to warped pixels.
  let blend: Plane
  /// The face's skin for colour statistics: inside the outline, outside eyes and mouth.
  let skin: Plane

  /// `lenses`: per eye, whether the target wears dark glasses there (the lens is kept whole).
  init(shape: [Point2], coverage: Plane, width: Int, height: Int, feather: Float, kept: KeptFeatures,
       lenses: [Bool] = [false, false]) {
    let outline = Landmarks68.foreheadOutline.map { shape[$0] }
    let centre = Point2.centroid(of: outline)
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
    // Coarse blurs: a mask needs no fine detail, and this is per face per frame.
    var blend = mask.blurredCoarse(sigma: feather / 2)

    let eyeWidth = (shape[36].distance(to: shape[39]) + shape[42].distance(to: shape[45])) / 2
    // Measured between the eye centres: behind dark glasses the predictor's eye corners crowd
    // together, its eye centres do not.
    let eyeDistance = Point2.centroid(of: shape[36..<42]).distance(to: Point2.centroid(of: shape[42..<48]))
    let lips = Array(shape[48..<60])
    var keep = Plane(width: width, height: height), features = Plane(width: width, height: height)
    for eye in 0..<2 {
      let corners = (shape[36 + 6 * eye], shape[39 + 6 * eye])
      let points = shape[(36 + 6 * eye)..<(42 + 6 * eye)]
      let eyeCentre = Point2.centroid(of: points)
      // The lids and lashes around the eye, closed or open; well clear of the brow.
      let axes = (along: 0.8 * eyeWidth, across: 0.45 * eyeWidth)
      fillEllipse(centre: eyeCentre, direction: corners, axes: axes, into: &features, value: 1)
      if kept.eyes[eye] > 0 {
        // A kept eye takes the socket around it too (lids, the skin up to the brow, the upper
        // cheek): whatever the source has there (a glasses rim, a lid crease of an open eye)
        // reads as an open eye over a closed one, to a viewer and to a landmark predictor.
        // Kept with the lids only (0.8 x 0.45), 25 of the clip's 118 measured frames missed
        // the eye bar; this size, 14. Larger sizes miss fewer still but move the swap towards
        // the person filmed by the recogniser (docs/QUALITY.md, eighth session).
        fillEllipse(centre: eyeCentre, direction: corners, axes: (along: 1.0 * eyeWidth, across: 0.62 * eyeWidth), into: &keep,
                    value: kept.eyes[eye])
      }
      if lenses[eye] {
        // A lens reaches from the brow to the cheekbone and past the eye's corners.
        let lens = (along: 0.72 * eyeDistance, across: 0.55 * eyeDistance)
        fillEllipse(centre: eyeCentre, direction: corners, axes: lens, into: &keep, value: 1)
        fillEllipse(centre: eyeCentre, direction: corners, axes: lens, into: &features, value: 1)
      }
    }
    if lenses[0] && lenses[1] {
      // The bridge between the lenses, over the top of the nose.
      let up = Point2(0, 0.12 * eyeDistance)
      let (inner0, inner1) = (shape[39], shape[42])
      let bridge = [Point2(inner0.x - up.x, inner0.y - up.y), Point2(inner1.x - up.x, inner1.y - up.y),
                    Point2(inner1.x + up.x, inner1.y + up.y), Point2(inner0.x + up.x, inner0.y + up.y)]
      fill(bridge, into: &keep, value: 1)
    }
    let lipsCentre = Point2.centroid(of: lips)
    let mouthArea = lips.map { Point2(lipsCentre.x + ($0.x - lipsCentre.x) * 1.25, lipsCentre.y + ($0.y - lipsCentre.y) * 1.25) }
    fill(mouthArea, into: &features, value: 1)
    if kept.mouth > 0 {
      // The target's opening and the lip edges around it (where a source's teeth would be
      // squeezed or stretched); the lips themselves stay the source's.
      let inner = Array(shape[60..<68])
      let innerCentre = Point2.centroid(of: inner)
      let innerWidth = shape[60].distance(to: shape[64])
      let opening = (shape[61].distance(to: shape[67]) + shape[62].distance(to: shape[66]) + shape[63].distance(to: shape[65])) / 3
      fillEllipse(centre: innerCentre, direction: (shape[60], shape[64]),
                  axes: (along: 0.6 * innerWidth, across: opening / 2 + 0.15 * innerWidth), into: &keep, value: kept.mouth)
    }
    if kept.lips > 0 { fill(mouthArea, into: &keep, value: max(kept.lips, kept.mouth)) }
    if kept.eyes.contains(where: { $0 > 0 }) || kept.mouth > 0 || kept.lips > 0 || lenses.contains(true) {
      let softKeep = keep.blurredCoarse(sigma: max(1, 0.15 * eyeWidth))
      for index in blend.data.indices { blend.data[index] *= 1 - softKeep.data[index] }
    }
    for index in blend.data.indices { blend.data[index] = min(blend.data[index], coverage.data[index]) }
    self.blend = blend

    var skin = Plane(width: width, height: height)
    fill(outline, into: &skin, value: 1)
    for index in skin.data.indices { skin.data[index] *= (1 - features.data[index]) * coverage.data[index] }
    self.skin = skin
  }
}

/// Fills an ellipse centred at `centre`, its first axis along the line through `direction`'s
/// two points, with half-axes `axes`.
func fillEllipse(centre: Point2, direction: (Point2, Point2), axes: (along: Float, across: Float), into plane: inout Plane, value: Float) {
  let width = plane.width
  forEachPixel(inEllipse: centre, direction: direction, axes: axes, width: width, height: plane.height) { plane.data[$1 * width + $0] = value }
}

/// Calls `body(x, y)` for each pixel of a `width` x `height` plane inside the ellipse (as
/// `fillEllipse` draws it).
func forEachPixel(inEllipse centre: Point2, direction: (Point2, Point2), axes: (along: Float, across: Float), width: Int, height: Int,
                  _ body: (Int, Int) -> Void) {
  let length = max(1e-3, direction.0.distance(to: direction.1))
  let ux = (direction.1.x - direction.0.x) / length, uy = (direction.1.y - direction.0.y) / length
  let reach = max(axes.along, axes.across)
  let minX = max(0, Int(centre.x - reach)), maxX = min(width - 1, Int(centre.x + reach + 1))
  let minY = max(0, Int(centre.y - reach)), maxY = min(height - 1, Int(centre.y + reach + 1))
  guard minX <= maxX, minY <= maxY else { return }
  for y in minY...maxY {
    for x in minX...maxX {
      let dx = Float(x) - centre.x, dy = Float(y) - centre.y
      let along = (dx * ux + dy * uy) / axes.along, across = (-dx * uy + dy * ux) / axes.across
      if along * along + across * across <= 1 { body(x, y) }
    }
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
