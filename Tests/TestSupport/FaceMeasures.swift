import FaceAnalysis
import Foundation
import Imaging

/// Measures of how a swapped face looks, for quality tests. Written from the textbook formulas,
/// in Double, independently of the swapper's own colour code.
public enum FaceMeasures {
  /// CIE L*a*b* (D65) of one sRGB pixel.
  public static func lab(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> (l: Double, a: Double, b: Double) {
    func linear(_ v: UInt8) -> Double {
      let c = Double(v) / 255
      return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
    }
    let (lr, lg, lb) = (linear(r), linear(g), linear(b))
    let x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047
    let y = 0.2126729 * lr + 0.7151522 * lg + 0.0721750 * lb
    let z = (0.0193339 * lr + 0.1191920 * lg + 0.9503041 * lb) / 1.08883
    func f(_ t: Double) -> Double { t > 216.0 / 24389.0 ? cbrt(t) : (24389.0 / 27.0 * t + 16) / 116 }
    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))
  }

  /// The skin of a face by its 68 points: inside the jaw-and-brow outline, away from the eyes
  /// (0.7 eye widths around each eye's centre) and the mouth (its outer lips grown by a third).
  /// Pixel indices (y * width + x).
  public static func skinPixels(shape: [Point2], width: Int, height: Int) -> [Int] {
    let outline = Landmarks68.faceOutline.map { shape[$0] }
    let eyes = [36, 42].map { start in
      let points = shape[start..<(start + 6)]
      return (centre: Point2(points.map(\.x).reduce(0, +) / 6, points.map(\.y).reduce(0, +) / 6),
              reach: 0.7 * shape[start].distance(to: shape[start + 3]))
    }
    let lips = Array(shape[48..<60])
    let mouthCentre = Point2(lips.map(\.x).reduce(0, +) / 12, lips.map(\.y).reduce(0, +) / 12)
    let mouth = lips.map { Point2(mouthCentre.x + ($0.x - mouthCentre.x) * 1.33, mouthCentre.y + ($0.y - mouthCentre.y) * 1.33) }
    let minX = max(0, Int(outline.map(\.x).min()!)), maxX = min(width - 1, Int(outline.map(\.x).max()!))
    let minY = max(0, Int(outline.map(\.y).min()!)), maxY = min(height - 1, Int(outline.map(\.y).max()!))
    guard minX < maxX, minY < maxY else { return [] }
    var pixels: [Int] = []
    for y in minY...maxY {
      for x in minX...maxX {
        let p = Point2(Float(x), Float(y))
        guard inside(p, outline), !inside(p, mouth), !eyes.contains(where: { $0.centre.distance(to: p) < $0.reach }) else { continue }
        pixels.append(y * width + x)
      }
    }
    return pixels
  }

  /// Mean chroma (sqrt(a*^2 + b*^2)) and the standard deviations of a* and b* over `pixels`.
  public static func colour(of image: Image, pixels: [Int]) -> (chroma: Double, spreadA: Double, spreadB: Double) {
    precondition(image.channels >= 3 && !pixels.isEmpty)
    var chroma = 0.0, sumA = 0.0, sumB = 0.0, squareA = 0.0, squareB = 0.0
    for index in pixels {
      let o = index * image.channels
      let (_, a, b) = lab(image.pixels[o], image.pixels[o + 1], image.pixels[o + 2])
      chroma += (a * a + b * b).squareRoot()
      sumA += a; sumB += b; squareA += a * a; squareB += b * b
    }
    let n = Double(pixels.count)
    let meanA = sumA / n, meanB = sumB / n
    return (chroma / n, max(0, squareA / n - meanA * meanA).squareRoot(), max(0, squareB / n - meanB * meanB).squareRoot())
  }

  /// Even-odd point-in-polygon test.
  public static func inside(_ p: Point2, _ polygon: [Point2]) -> Bool {
    var result = false
    var j = polygon.count - 1
    for i in polygon.indices {
      let a = polygon[i], b = polygon[j]
      if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { result.toggle() }
      j = i
    }
    return result
  }
}

extension FaceMeasures {
  /// Eye aspect ratio of the 68 points, both eyes averaged (Soukupová and Čech): lid-to-lid
  /// heights over twice the corner-to-corner width.
  public static func eyeOpenness(_ shape: [Point2]) -> Double {
    [36, 42].map { s -> Double in
      let p = shape[s..<(s + 6)].map { (Double($0.x), Double($0.y)) }
      func d(_ a: Int, _ b: Int) -> Double { hypot(p[a].0 - p[b].0, p[a].1 - p[b].1) }
      return (d(1, 5) + d(2, 4)) / max(1e-6, 2 * d(0, 3))
    }.reduce(0, +) / 2
  }

  /// Mouth aspect ratio: the outer lips' height (51-57) over their width (48-54).
  public static func mouthOpenness(_ shape: [Point2]) -> Double {
    Double(shape[51].distance(to: shape[57])) / max(1e-6, Double(shape[48].distance(to: shape[54])))
  }

  /// Frame-to-frame change inside `box` (x, y, width, height) after motion compensation with
  /// the ORIGINAL video's motion: for every 8 x 8 block of the box, the displacement (within
  /// +-`reach` px) that best matches the original's previous frame (least mean absolute grey
  /// difference) is found, and both videos are compared against their own previous frame
  /// shifted by that displacement. Returns (original, other): mean absolute grey difference per
  /// pixel. A swap that is as steady as the footage changes as little as the original does
  /// along the original's motion; jitter of the pasted face adds to `other` only.
  public static func motionCompensatedChange(original: (previous: [UInt8], current: [UInt8]), other: (previous: [UInt8], current: [UInt8]),
                                             width: Int, height: Int, box: (x: Int, y: Int, width: Int, height: Int),
                                             reach: Int = 4) -> (original: Double, other: Double) {
    func grey(_ rgb: [UInt8]) -> [Int32] {
      var out = [Int32](repeating: 0, count: width * height)
      for index in out.indices {
        let r = Int32(rgb[3 * index]), g = Int32(rgb[3 * index + 1]), b = Int32(rgb[3 * index + 2])
        out[index] = (r * 77 + g * 150 + b * 29) >> 8
      }
      return out
    }
    let (op, oc, xp, xc) = (grey(original.previous), grey(original.current), grey(other.previous), grey(other.current))
    var originalSum = 0.0, otherSum = 0.0, blocks = 0
    let x0 = max(reach, box.x), y0 = max(reach, box.y)
    let x1 = min(width - reach - 8, box.x + box.width - 8), y1 = min(height - reach - 8, box.y + box.height - 8)
    guard x0 <= x1, y0 <= y1 else { return (0, 0) }
    for by in stride(from: y0, through: y1, by: 8) {
      for bx in stride(from: x0, through: x1, by: 8) {
        var best = Int32.max, bestShift = (0, 0)
        for dy in -reach...reach {
          for dx in -reach...reach {
            var sad: Int32 = 0
            for y in 0..<8 {
              let row = (by + y) * width + bx, shifted = (by + y + dy) * width + bx + dx
              for x in 0..<8 { sad += abs(oc[row + x] - op[shifted + x]) }
            }
            if sad < best || (sad == best && abs(dx) + abs(dy) < abs(bestShift.0) + abs(bestShift.1)) { best = sad; bestShift = (dx, dy) }
          }
        }
        var otherSad: Int32 = 0
        for y in 0..<8 {
          let row = (by + y) * width + bx, shifted = (by + y + bestShift.1) * width + bx + bestShift.0
          for x in 0..<8 { otherSad += abs(xc[row + x] - xp[shifted + x]) }
        }
        originalSum += Double(best) / 64
        otherSum += Double(otherSad) / 64
        blocks += 1
      }
    }
    return (originalSum / Double(blocks), otherSum / Double(blocks))
  }
}

/// Decoded RGB frames of a video, one at a time, from an ffmpeg pipe.
public final class RawFrames {
  public let width: Int, height: Int
  private let process = Process()
  private let output: FileHandle

  public init(path: String, width: Int, height: Int) throws {
    self.width = width
    self.height = height
    let pipe = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    process.arguments = ["-v", "error", "-nostdin", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    output = pipe.fileHandleForReading
  }

  /// The next frame's RGB bytes, or nil at the end.
  public func next() throws -> [UInt8]? {
    let size = width * height * 3
    var frame = [UInt8]()
    frame.reserveCapacity(size)
    while frame.count < size {
      guard let data = try output.read(upToCount: size - frame.count), !data.isEmpty else { break }
      frame.append(contentsOf: data)
    }
    return frame.count == size ? frame : nil
  }

  deinit {
    // Closing our end first: an ffmpeg blocked writing to the pipe then fails and exits (it
    // would finish the write before acting on SIGTERM, and nobody reads any more).
    try? output.close()
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
  }
}

extension FaceMeasures {
  /// Tests/Data/hand_outlines.json: hands over the face in frames of the quality clip, traced by
  /// eye (frame index -> outline in frame pixels).
  public static func handOutlines(root: String) throws -> [Int: [Point2]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: root + "/Tests/Data/hand_outlines.json"))
    struct File: Decodable { let frames: [String: [[Float]]] }
    let file = try JSONDecoder().decode(File.self, from: data)
    return Dictionary(uniqueKeysWithValues: file.frames.map { (Int($0.key)!, $0.value.map { Point2($0[0], $0[1]) }) })
  }

  /// The pixel indices (y * width + x) whose centres lie inside `outline`.
  public static func pixels(inside outline: [Point2], width: Int, height: Int) -> [Int] {
    let box = BoundingBox(enclosing: outline)
    var pixels: [Int] = []
    for y in max(0, Int(box.y1))..<min(height, Int(box.y2) + 1) {
      for x in max(0, Int(box.x1))..<min(width, Int(box.x2) + 1) where inside(Point2(Float(x), Float(y)), outline) {
        pixels.append(y * width + x)
      }
    }
    return pixels
  }

  /// The share of `pixels` (RGB, 3 bytes each) that `after` leaves as in `before`: no channel
  /// moved by more than `tolerance` levels.
  public static func unchangedShare(before: [UInt8], after: [UInt8], pixels: [Int], tolerance: Int = 8) -> Double {
    guard !pixels.isEmpty else { return 0 }
    let unchanged = pixels.filter { pixel in
      (0..<3).allSatisfy { abs(Int(before[pixel * 3 + $0]) - Int(after[pixel * 3 + $0])) <= tolerance }
    }.count
    return Double(unchanged) / Double(pixels.count)
  }
}
