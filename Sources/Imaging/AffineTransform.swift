/// A 2-D affine map `(x, y) -> (a*x + b*y + tx, c*x + d*y + ty)` in pixel coordinates
/// (OpenCV's 2x3 matrix convention: pixel centres at integer coordinates).
public struct AffineTransform: Sendable, Equatable, CustomStringConvertible {
  public var a, b, tx: Double
  public var c, d, ty: Double

  public init(a: Double, b: Double, tx: Double, c: Double, d: Double, ty: Double) {
    self.a = a
    self.b = b
    self.tx = tx
    self.c = c
    self.d = d
    self.ty = ty
  }

  public static let identity = AffineTransform(a: 1, b: 0, tx: 0, c: 0, d: 1, ty: 0)

  public func apply(x: Double, y: Double) -> (x: Double, y: Double) {
    (a * x + b * y + tx, c * x + d * y + ty)
  }

  public var determinant: Double { a * d - b * c }

  /// The inverse map; nil when the transform is singular.
  public var inverted: AffineTransform? {
    let det = determinant
    guard abs(det) > 1e-12 else { return nil }
    let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
    return AffineTransform(a: ia, b: ib, tx: -(ia * tx + ib * ty), c: ic, d: id, ty: -(ic * tx + id * ty))
  }

  /// `self` after `first`: points go through `first`, then through `self`.
  public func concatenating(after first: AffineTransform) -> AffineTransform {
    AffineTransform(a: a * first.a + b * first.c, b: a * first.b + b * first.d, tx: a * first.tx + b * first.ty + tx,
                    c: c * first.a + d * first.c, d: c * first.b + d * first.d, ty: c * first.tx + d * first.ty + ty)
  }

  /// Least-squares similarity (rotation, uniform scale, translation; 4 degrees of freedom)
  /// mapping `source` points onto `target` points, closed form. FaceFusion fits its 5-point
  /// alignment with cv2.estimateAffinePartial2D (RANSAC threshold 100 px, so every point is an
  /// inlier for a face): the same model and, with all inliers, the same least-squares solution.
  public static func similarity(from source: [(x: Double, y: Double)], to target: [(x: Double, y: Double)]) -> AffineTransform? {
    guard source.count == target.count, source.count >= 2 else { return nil }
    let n = Double(source.count)
    let sourceX = source.map(\.x).reduce(0, +) / n, sourceY = source.map(\.y).reduce(0, +) / n
    let targetX = target.map(\.x).reduce(0, +) / n, targetY = target.map(\.y).reduce(0, +) / n
    var dot = 0.0, cross = 0.0, norm = 0.0
    for (p, q) in zip(source, target) {
      let px = p.x - sourceX, py = p.y - sourceY, qx = q.x - targetX, qy = q.y - targetY
      dot += px * qx + py * qy
      cross += px * qy - py * qx
      norm += px * px + py * py
    }
    guard norm > 1e-12 else { return nil }
    let scaleCos = dot / norm, scaleSin = cross / norm
    return AffineTransform(a: scaleCos, b: -scaleSin, tx: targetX - (scaleCos * sourceX - scaleSin * sourceY),
                           c: scaleSin, d: scaleCos, ty: targetY - (scaleSin * sourceX + scaleCos * sourceY))
  }

  public var description: String { "[\(a) \(b) \(tx); \(c) \(d) \(ty)]" }
}
