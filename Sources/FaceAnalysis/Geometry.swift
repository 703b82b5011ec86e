import Foundation

/// A point in image pixels (x to the right, y down; pixel corners at integer coordinates).
public struct Point2: Sendable, Equatable, Codable, CustomStringConvertible {
  public var x: Float
  public var y: Float

  public init(_ x: Float, _ y: Float) {
    self.x = x
    self.y = y
  }

  public var description: String { "(\(x), \(y))" }

  public func distance(to other: Point2) -> Float { hypotf(x - other.x, y - other.y) }

  /// The mean of the points (their centre of mass).
  public static func centroid(of points: some Collection<Point2>) -> Point2 {
    Point2(points.map(\.x).reduce(0, +) / Float(points.count), points.map(\.y).reduce(0, +) / Float(points.count))
  }
}

/// An axis-aligned box in image pixels, corners (x1, y1) top-left and (x2, y2) bottom-right.
public struct BoundingBox: Sendable, Equatable, Codable {
  public var x1: Float
  public var y1: Float
  public var x2: Float
  public var y2: Float

  public init(x1: Float, y1: Float, x2: Float, y2: Float) {
    // Normalised like FaceFusion's normalize_bounding_box: corners sorted.
    self.x1 = min(x1, x2)
    self.y1 = min(y1, y2)
    self.x2 = max(x1, x2)
    self.y2 = max(y1, y2)
  }

  public var width: Float { x2 - x1 }
  public var height: Float { y2 - y1 }
  public var area: Float { max(0, width) * max(0, height) }

  /// Intersection over union, as OpenCV's NMSBoxes computes it (no +1 pixel convention).
  public func intersectionOverUnion(_ other: BoundingBox) -> Float {
    let width = min(x2, other.x2) - max(x1, other.x1)
    let height = min(y2, other.y2) - max(y1, other.y1)
    guard width > 0, height > 0 else { return 0 }
    let intersection = width * height
    let union = area + other.area - intersection
    return union > 0 ? intersection / union : 0
  }

  /// The box around a set of points.
  public init(enclosing points: [Point2]) {
    let xs = points.map(\.x)
    let ys = points.map(\.y)
    self.init(x1: xs.min() ?? 0, y1: ys.min() ?? 0, x2: xs.max() ?? 0, y2: ys.max() ?? 0)
  }
}
