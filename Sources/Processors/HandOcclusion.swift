import FaceAnalysis
import Foundation
import Imaging

/// Keeps hands in front of a swapped face: the pixels under a hand (from its 21 MediaPipe points)
/// are taken back from the frame as it was before the swap. Works after any swapper, so the
/// classic one and zoo swappers without an xseg file get the same occlusion.
public enum HandOcclusion {
  /// The bones drawn as capsules: each finger from knuckle to tip, and the thumb from its base.
  static let bones: [(Int, Int)] = [
    (0, 1), (1, 2), (2, 3), (3, 4), (5, 6), (6, 7), (7, 8), (9, 10), (10, 11), (11, 12),
    (13, 14), (14, 15), (15, 16), (17, 18), (18, 19), (19, 20),
  ]
  static let palm = [0, 1, 2, 5, 9, 13, 17]

  /// Half a finger's width with a margin: neighbouring knuckles are about one finger apart.
  static func fingerRadius(_ hand: [Point2]) -> Float {
    let spacing = (hand[5].distance(to: hand[9]) + hand[9].distance(to: hand[13]) + hand[13].distance(to: hand[17])) / 3
    return max(2, spacing * 0.62)
  }

  /// How much of each pixel of `region` (x, y, width, height of the frame) the hand covers: 1
  /// over the palm and fingers (a finger is as wide as the spacing of the knuckles, with a
  /// margin), fading to 0 over half a finger's width outside.
  static func coverage(of hand: [Point2], region: (x: Int, y: Int, width: Int, height: Int)) -> Plane {
    let radius = fingerRadius(hand), feather = max(1.5, radius * 0.5)
    let hull = FaceMasker.convexHull(palm.map { hand[$0] })
    var plane = Plane(width: region.width, height: region.height)
    for row in 0..<region.height {
      let py = Float(region.y + row)
      for column in 0..<region.width {
        let point = Point2(Float(region.x + column), py)
        var squared = Self.squaredDistance(from: point, toConvex: hull)
        if squared > 0 {
          for (a, b) in bones { squared = min(squared, Self.squaredDistance(from: point, toSegment: (hand[a], hand[b]))) }
        }
        let value = 1 - (squared.squareRoot() - radius) / feather
        if value > 0 { plane.data[row * region.width + column] = min(1, value) }
      }
    }
    return plane
  }

  /// The frame region a hand's coverage can reach.
  static func reach(of hand: [Point2], width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int)? {
    let margin = fingerRadius(hand) * 1.5 + 2
    let box = BoundingBox(enclosing: hand)
    let x0 = max(0, Int(box.x1 - margin)), y0 = max(0, Int(box.y1 - margin))
    let x1 = min(width, Int(box.x2 + margin) + 1), y1 = min(height, Int(box.y2 + margin) + 1)
    guard x1 > x0, y1 > y0 else { return nil }
    return (x0, y0, x1 - x0, y1 - y0)
  }

  /// `swapped` with the pixels under `hands` taken back from `original` (same size and channels).
  public static func restore(_ swapped: Image, from original: Image, hands: [[Point2]]) -> Image {
    precondition(swapped.width == original.width && swapped.height == original.height && swapped.channels == original.channels)
    var result = swapped
    let channels = swapped.channels
    for hand in hands where hand.count == 21 {
      guard let region = reach(of: hand, width: swapped.width, height: swapped.height) else { continue }
      let cover = coverage(of: hand, region: region)
      result.pixels.withUnsafeMutableBufferPointer { out in
        original.pixels.withUnsafeBufferPointer { before in
          for row in 0..<region.height {
            for column in 0..<region.width {
              let weight = cover.data[row * region.width + column]
              guard weight > 0 else { continue }
              let base = ((region.y + row) * swapped.width + region.x + column) * channels
              for channel in 0..<channels {
                let mixed = Float(out[base + channel]) * (1 - weight) + Float(before[base + channel]) * weight
                out[base + channel] = UInt8(min(255, max(0, mixed.rounded())))
              }
            }
          }
        }
      }
    }
    return result
  }

  /// 0 inside the convex polygon (counter-clockwise or clockwise), else the squared distance to
  /// its edge.
  static func squaredDistance(from point: Point2, toConvex polygon: [Point2]) -> Float {
    guard polygon.count >= 3 else { return .infinity }
    var inside = true, sign: Float = 0, nearest = Float.infinity
    for index in polygon.indices {
      let a = polygon[index], b = polygon[(index + 1) % polygon.count]
      let cross = (b.x - a.x) * (point.y - a.y) - (b.y - a.y) * (point.x - a.x)
      if cross != 0 {
        if sign == 0 { sign = cross > 0 ? 1 : -1 } else if (cross > 0 ? 1 : -1) != sign { inside = false }
      }
      nearest = min(nearest, squaredDistance(from: point, toSegment: (a, b)))
    }
    return inside ? 0 : nearest
  }

  static func squaredDistance(from point: Point2, toSegment segment: (Point2, Point2)) -> Float {
    let (a, b) = segment
    let dx = b.x - a.x, dy = b.y - a.y
    let length = dx * dx + dy * dy
    let t = length > 0 ? min(1, max(0, ((point.x - a.x) * dx + (point.y - a.y) * dy) / length)) : 0
    let ex = point.x - (a.x + t * dx), ey = point.y - (a.y + t * dy)
    return ex * ex + ey * ey
  }
}
