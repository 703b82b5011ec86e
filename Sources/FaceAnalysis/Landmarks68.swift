import Foundation

/// Helpers for the 68-point iBUG 300-W layout (dlib's and FaceFusion's 68 points).
public enum Landmarks68 {
  /// FaceFusion's convert_to_face_landmark_5: eye centres (means of 36-41 and 42-47), nose tip
  /// (30) and mouth corners (48, 54).
  public static func fivePoints(_ points: [Point2]) -> [Point2] {
    precondition(points.count == 68)
    func mean(_ range: Range<Int>) -> Point2 {
      Point2(range.map { points[$0].x }.reduce(0, +) / Float(range.count), range.map { points[$0].y }.reduce(0, +) / Float(range.count))
    }
    return [mean(36..<42), mean(42..<48), points[30], points[48], points[54]]
  }

  /// Indices of the outline used for a whole-face mask: the jaw (0-16) and the brows (26-17).
  public static let faceOutline: [Int] = Array(0...16) + Array((17...26).reversed())

  /// The jaw (0-16) and the forehead points of `withForehead` (77-68): an outline that holds
  /// both brows whole, so a mask edge never cuts through one (half a target brow above half a
  /// source brow reads as a double brow).
  public static let foreheadOutline: [Int] = Array(0...16) + Array((68...77).reversed())

  /// The 68 points plus ten forehead points (68-77), one above each brow point (17-26), moved
  /// away from the eyes perpendicular to the eye line by 0.42 of the distance between the eye
  /// centres: the band that holds the brows whatever the head's roll.
  public static func withForehead(_ points: [Point2]) -> [Point2] {
    precondition(points.count == 68)
    let five = fivePoints(points)
    let eyeX = five[1].x - five[0].x, eyeY = five[1].y - five[0].y
    let distance = max(1, hypotf(eyeX, eyeY))
    var upX = eyeY / distance, upY = -eyeX / distance
    // The perpendicular that points from the chin towards the brows.
    let browMidX = (points[19].x + points[24].x) / 2, browMidY = (points[19].y + points[24].y) / 2
    if upX * (browMidX - points[8].x) + upY * (browMidY - points[8].y) < 0 { upX = -upX; upY = -upY }
    let lift = 0.42 * distance
    return points + (17...26).map { Point2(points[$0].x + upX * lift, points[$0].y + upY * lift) }
  }

  /// Eye aspect ratio (Soukupová and Čech): the two lid-to-lid heights over twice the corner to
  /// corner width. About 0.25-0.35 for an open eye, under 0.15 for a closed one. `eye` 0 is
  /// points 36-41 (the image's left for a frontal face), 1 is points 42-47.
  public static func eyeAspectRatio(_ points: [Point2], eye: Int) -> Float {
    let p = Array(points[(36 + 6 * eye)..<(42 + 6 * eye)])
    return (p[1].distance(to: p[5]) + p[2].distance(to: p[4])) / max(1e-3, 2 * p[0].distance(to: p[3]))
  }

  /// Mouth aspect ratio: the three inner-lip gaps (61-67, 62-66, 63-65) over three times the
  /// inner corner to corner width (60-64). About 0 for closed lips, 0.3 and up for a laugh.
  public static func mouthAspectRatio(_ points: [Point2]) -> Float {
    let gaps = points[61].distance(to: points[67]) + points[62].distance(to: points[66]) + points[63].distance(to: points[65])
    return gaps / max(1e-3, 3 * points[60].distance(to: points[64]))
  }
}

/// Delaunay triangulation (Bowyer-Watson), used once on a reference shape so every face shares
/// one triangle topology for piecewise-affine warps.
public enum Delaunay {
  /// Triangles as index triples into `points`, counter-clockwise in image coordinates.
  public static func triangulate(_ points: [Point2]) -> [(Int, Int, Int)] {
    guard points.count >= 3 else { return [] }
    let xs = points.map { Double($0.x) }, ys = points.map { Double($0.y) }
    let minX = xs.min()!, maxX = xs.max()!, minY = ys.min()!, maxY = ys.max()!
    let span = max(maxX - minX, maxY - minY) * 20 + 1
    let midX = (minX + maxX) / 2, midY = (minY + maxY) / 2
    var vertices = zip(xs, ys).map { (x: $0, y: $1) }
    let n = vertices.count
    vertices += [(midX - span, midY - span), (midX + span, midY - span), (midX, midY + span)]
    var triangles: [(Int, Int, Int)] = [(n, n + 1, n + 2)]

    func circumcircleContains(_ t: (Int, Int, Int), _ p: (x: Double, y: Double)) -> Bool {
      let a = vertices[t.0], b = vertices[t.1], c = vertices[t.2]
      let ax = a.x - p.x, ay = a.y - p.y, bx = b.x - p.x, by = b.y - p.y, cx = c.x - p.x, cy = c.y - p.y
      let det = (ax * ax + ay * ay) * (bx * cy - cx * by) - (bx * bx + by * by) * (ax * cy - cx * ay)
        + (cx * cx + cy * cy) * (ax * by - bx * ay)
      let orientation = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
      return orientation > 0 ? det > 0 : det < 0
    }

    for index in 0..<n {
      let point = vertices[index]
      let bad = triangles.indices.filter { circumcircleContains(triangles[$0], point) }
      var edges: [(Int, Int)] = []
      for t in bad.map({ triangles[$0] }) {
        for edge in [(t.0, t.1), (t.1, t.2), (t.2, t.0)] {
          if let shared = edges.firstIndex(where: { $0 == (edge.1, edge.0) || $0 == edge }) {
            edges.remove(at: shared)
          } else {
            edges.append(edge)
          }
        }
      }
      for position in bad.sorted(by: >) { triangles.remove(at: position) }
      for edge in edges { triangles.append((edge.0, edge.1, index)) }
    }
    return triangles.filter { $0.0 < n && $0.1 < n && $0.2 < n }.map { t in
      let a = vertices[t.0], b = vertices[t.1], c = vertices[t.2]
      let orientation = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
      return orientation >= 0 ? t : (t.0, t.2, t.1)
    }
  }
}
