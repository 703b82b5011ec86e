import Foundation
import Imaging

/// A frame's luma (8-bit, BT.601 weights), for measuring how a face moved between frames.
public struct GreyFrame: Sendable {
  public let width: Int
  public let height: Int
  public let pixels: [UInt8]
  /// The same at half size (2x2 means), for the coarse step of the search.
  let half: [UInt8]

  public init(_ image: Image) {
    width = image.width
    height = image.height
    let channels = image.channels
    var pixels = [UInt8](repeating: 0, count: width * height)
    image.pixels.withUnsafeBufferPointer { rgb in
      pixels.withUnsafeMutableBufferPointer { out in
        for index in 0..<out.count {
          let offset = index * channels
          let luma = 77 * Int(rgb[offset]) + 150 * Int(rgb[offset + 1]) + 29 * Int(rgb[offset + 2])
          out[index] = UInt8((luma + 128) >> 8)
        }
      }
    }
    let (width, height) = (self.width, self.height)
    let halfWidth = width / 2, halfHeight = height / 2
    var half = [UInt8](repeating: 0, count: halfWidth * halfHeight)
    pixels.withUnsafeBufferPointer { full in
      half.withUnsafeMutableBufferPointer { out in
        for y in 0..<halfHeight {
          let top = full.baseAddress! + 2 * y * width, bottom = top + width
          for x in 0..<halfWidth {
            out[y * halfWidth + x] = UInt8((Int(top[2 * x]) + Int(top[2 * x + 1]) + Int(bottom[2 * x]) + Int(bottom[2 * x + 1]) + 2) >> 2)
          }
        }
      }
    }
    self.pixels = pixels
    self.half = half
  }
}

/// How the picture inside a face's box moved from one frame to the next, measured on the
/// pixels themselves: blocks on a grid over the box are matched in the previous frame
/// (exhaustively at half size, refined at full size, to a fraction of a pixel from the cost's
/// curvature), and the median displacement is the face's. The median ignores what moves
/// otherwise (a hand passing, a blink) as long as most of the face moves with the head.
///
/// The 68-point predictor fits each frame afresh; this is what the face really did between
/// frames, so a smoother can follow the head exactly and filter only what the points do beyond
/// it (see ShapeSmoother).
public enum FaceMotion {
  /// The displacement (current minus previous position) of the picture inside `box`, or nil
  /// when too few blocks had texture to match (a flat or tiny box).
  /// `guess`: roughly how far the face moved (e.g. the fresh points' centre against the last
  /// frame's); the search looks within a few pixels of it, which keeps this cheap enough for the
  /// analysis thread.
  public static func movement(from previous: GreyFrame, to current: GreyFrame, box: BoundingBox, guess: Point2 = Point2(0, 0)) -> FaceMovement? {
    guard previous.width == current.width, previous.height == current.height else { return nil }
    let width = current.width, height = current.height
    let side = 16
    // Search reach: a fast head move at 24-30 fps is a tenth of the face per frame.
    let boxWidth = box.x2 - box.x1, boxHeight = box.y2 - box.y1
    let reach = max(4, Int((0.12 * max(boxWidth, boxHeight)).rounded(.up)))
    let halfReach = (reach + 1) / 2
    // Around the guess: +-8 px (+-4 at half size), within the reach.
    func halved(_ value: Float) -> Int { min(halfReach, max(-halfReach, Int((value / 2).rounded()))) }
    let centre = (x: halved(guess.x), y: halved(guess.y))
    // The central part of the box (the face, not the background around the detector's box).
    let x0 = Int(box.x1 + 0.15 * boxWidth), x1 = Int(box.x2 - 0.15 * boxWidth) - side
    let y0 = Int(box.y1 + 0.1 * boxHeight), y1 = Int(box.y2 - 0.1 * boxHeight) - side
    let margin = reach + 4
    guard x1 > x0, y1 > y0 else { return nil }
    let step = max(side, min(x1 - x0, y1 - y0) / 6)
    var dxs: [Float] = [], dys: [Float] = [], centres: [Point2] = []
    previous.pixels.withUnsafeBufferPointer { before in
      current.pixels.withUnsafeBufferPointer { now in
        previous.half.withUnsafeBufferPointer { beforeHalf in
          current.half.withUnsafeBufferPointer { nowHalf in
            let halfWidth = width / 2
            for by in stride(from: y0, through: y1, by: step) where by >= margin && by + side + margin <= height {
              for bx in stride(from: x0, through: x1, by: step) where bx >= margin && bx + side + margin <= width {
                // Texture check: a flat block matches anywhere.
                var low = 255, high = 0
                for y in by..<(by + side) {
                  for x in bx..<(bx + side) { let v = Int(now[y * width + x]); low = min(low, v); high = max(high, v) }
                }
                guard high - low >= 12 else { continue }
                // Coarse: 8x8 at half size, every offset near the guess.
                let hx = bx / 2, hy = by / 2, halfSide = side / 2
                var best = (cost: Int.max, dx: 0, dy: 0)
                for dy in max(-halfReach, centre.y - 4)...min(halfReach, centre.y + 4) {
                  for dx in max(-halfReach, centre.x - 4)...min(halfReach, centre.x + 4) {
                    var cost = 0
                    for y in 0..<halfSide {
                      let a = nowHalf.baseAddress! + (hy + y) * halfWidth + hx
                      let b = beforeHalf.baseAddress! + (hy + y - dy) * halfWidth + hx - dx
                      for x in 0..<halfSide { cost += abs(Int(a[x]) - Int(b[x])) }
                    }
                    if cost < best.cost { best = (cost, dx, dy) }
                  }
                }
                // Fine: 16x16 at full size around twice the coarse offset.
                func cost(_ dx: Int, _ dy: Int) -> Int {
                  var total = 0
                  for y in 0..<side {
                    let a = now.baseAddress! + (by + y) * width + bx
                    let b = before.baseAddress! + (by + y - dy) * width + bx - dx
                    for x in 0..<side { total += abs(Int(a[x]) - Int(b[x])) }
                  }
                  return total
                }
                var fine = (cost: Int.max, dx: 0, dy: 0)
                for dy in (2 * best.dy - 2)...(2 * best.dy + 2) where abs(dy) <= reach {
                  for dx in (2 * best.dx - 2)...(2 * best.dx + 2) where abs(dx) <= reach {
                    let c = cost(dx, dy)
                    if c < fine.cost { fine = (c, dx, dy) }
                  }
                }
                guard fine.cost < Int.max else { continue }
                // Sub-pixel: the vertex of the parabola through the cost either side.
                func vertex(_ minus: Int, _ centre: Int, _ plus: Int) -> Float {
                  let curvature = Float(minus - 2 * centre + plus)
                  return curvature > 0 ? max(-0.5, min(0.5, Float(minus - plus) / (2 * curvature))) : 0
                }
                let subX = abs(fine.dx) < reach ? vertex(cost(fine.dx - 1, fine.dy), fine.cost, cost(fine.dx + 1, fine.dy)) : 0
                let subY = abs(fine.dy) < reach ? vertex(cost(fine.dx, fine.dy - 1), fine.cost, cost(fine.dx, fine.dy + 1)) : 0
                dxs.append(Float(fine.dx) + subX)
                dys.append(Float(fine.dy) + subY)
                centres.append(Point2(Float(bx) + Float(side) / 2, Float(by) + Float(side) / 2))
              }
            }
          }
        }
      }
    }
    guard dxs.count >= 5 else { return nil }
    func median(_ values: [Float]) -> Float {
      let sorted = values.sorted()
      return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    let shift = Point2(median(dxs), median(dys))
    // The similarity (turn, scale, shift) that best maps the blocks' previous positions onto
    // their current ones, over the blocks that move with the head: first those near the median
    // (a turn spreads the blocks' shifts by a few pixels, a passing hand by more), then, twice,
    // those the fit explains to a pixel.
    func fit(_ blocks: [Int]) -> FaceMovement? {
      guard blocks.count >= 8 else { return nil }
      let now = blocks.map { centres[$0] }
      let before = blocks.map { Point2(centres[$0].x - dxs[$0], centres[$0].y - dys[$0]) }
      let pivotBefore = Point2.centroid(of: before), pivotNow = Point2.centroid(of: now)
      var dot: Float = 0, cross: Float = 0, norm: Float = 0
      for (p, q) in zip(now, before) {
        let (qx, qy) = (q.x - pivotBefore.x, q.y - pivotBefore.y), (px, py) = (p.x - pivotNow.x, p.y - pivotNow.y)
        dot += qx * px + qy * py
        cross += qx * py - qy * px
        norm += qx * qx + qy * qy
      }
      guard norm > 0 else { return nil }
      return FaceMovement(a: dot / norm, b: cross / norm, shift: Point2(pivotNow.x - pivotBefore.x, pivotNow.y - pivotBefore.y),
                          pivot: pivotBefore)
    }
    var movement = fit(dxs.indices.filter { abs(dxs[$0] - shift.x) <= 5 && abs(dys[$0] - shift.y) <= 5 })
    for _ in 0..<2 {
      guard let current = movement else { break }
      let explained = dxs.indices.filter { index in
        let moved = current.apply(Point2(centres[index].x - dxs[index], centres[index].y - dys[index]))
        return abs(moved.x - centres[index].x) <= 1 && abs(moved.y - centres[index].y) <= 1
      }
      guard let refined = fit(explained) else { break }
      movement = refined
    }
    return movement ?? FaceMovement(a: 1, b: 0, shift: shift, pivot: Point2.centroid(of: centres))
  }
}

/// A face's movement between two frames: a turn and scale ([a -b; b a]) about `pivot` (in the
/// previous frame), then `shift`.
public struct FaceMovement: Sendable, Equatable {
  public let a: Float
  public let b: Float
  public let shift: Point2
  public let pivot: Point2

  public init(a: Float, b: Float, shift: Point2, pivot: Point2) {
    self.a = a
    self.b = b
    self.shift = shift
    self.pivot = pivot
  }

  /// Where a point of the previous frame is now.
  public func apply(_ point: Point2) -> Point2 {
    let offset = turned(Point2(point.x - pivot.x, point.y - pivot.y))
    return Point2(pivot.x + offset.x + shift.x, pivot.y + offset.y + shift.y)
  }

  /// A vector of the previous frame turned and scaled (no shift).
  public func turned(_ vector: Point2) -> Point2 { Point2(a * vector.x - b * vector.y, b * vector.x + a * vector.y) }
}
