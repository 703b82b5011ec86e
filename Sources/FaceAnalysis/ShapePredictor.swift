import Foundation
import Imaging

/// dlib's shape predictor (Kazemi & Sullivan's ensemble of regression trees), read from dlib's
/// own `.dat` files and evaluated by our code. With `shape_predictor_68_face_landmarks.dat`
/// it returns the 68 iBUG 300-W points, the same order as FaceFusion's 68-point landmarks.
public struct ShapePredictor: Sendable {
  struct Split {
    let first: Int32
    let second: Int32
    let threshold: Float
  }

  struct Tree {
    let splits: [Split]
    /// Leaf displacement vectors, `leafCount x shapeValues`, flattened.
    let leaves: [Float]
  }

  /// The mean shape in box-normalised coordinates (0...1 across the face box), x0 y0 x1 y1 ...
  let initialShape: [Float]
  let cascades: [[Tree]]
  /// Per cascade: for each feature pixel, the shape point it hangs off and its offset.
  let anchors: [[Int32]]
  let offsets: [[Float]]

  public var pointCount: Int { initialShape.count / 2 }

  /// The model's mean shape in face-box units (0...1): a neutral frontal reference shape.
  public var meanShape: [Point2] { (0..<pointCount).map { Point2(initialShape[$0 * 2], initialShape[$0 * 2 + 1]) } }

  public init(contentsOf path: String) throws {
    // Mapped, not read: the 100 MB file is parsed in place instead of copied twice.
    guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
      throw DlibDeserializer.Failure(description: "cannot read shape predictor \(path)")
    }
    do {
      self = try data.withUnsafeBytes { try ShapePredictor(reading: $0) }
    } catch {
      throw DlibDeserializer.Failure(description: "\(path) is not a dlib shape predictor: \(error)")
    }
  }

  init(bytes: [UInt8]) throws {
    self = try bytes.withUnsafeBytes { try ShapePredictor(reading: $0) }
  }

  private init(reading bytes: UnsafeRawBufferPointer) throws {
    var reader = DlibDeserializer(bytes)
    guard try reader.integer() == 1 else { throw DlibDeserializer.Failure(description: "unsupported shape_predictor version") }
    initialShape = try reader.floatColumn()
    let shapeValues = initialShape.count
    guard shapeValues > 0, shapeValues % 2 == 0 else { throw DlibDeserializer.Failure(description: "empty initial shape") }

    var cascades: [[Tree]] = []
    for _ in 0..<(try reader.unsignedCount(limit: 1000)) {
      var trees: [Tree] = []
      let treeCount = try reader.unsignedCount(limit: 100_000)
      trees.reserveCapacity(treeCount)
      for _ in 0..<treeCount {
        let splitCount = try reader.unsignedCount(limit: 1 << 20)
        var splits: [Split] = []
        splits.reserveCapacity(splitCount)
        for _ in 0..<splitCount {
          let first = try reader.integer(), second = try reader.integer()
          splits.append(Split(first: Int32(first), second: Int32(second), threshold: try reader.float()))
        }
        let leafCount = try reader.unsignedCount(limit: 1 << 21)
        guard leafCount == splitCount + 1 else { throw DlibDeserializer.Failure(description: "tree has \(splitCount) splits, \(leafCount) leaves") }
        var leaves: [Float] = []
        leaves.reserveCapacity(leafCount * shapeValues)
        for _ in 0..<leafCount {
          let count = try reader.appendFloatColumn(to: &leaves)
          guard count == shapeValues else { throw DlibDeserializer.Failure(description: "leaf size \(count) != \(shapeValues)") }
        }
        trees.append(Tree(splits: splits, leaves: leaves))
      }
      cascades.append(trees)
    }
    var anchors: [[Int32]] = []
    for _ in 0..<(try reader.unsignedCount(limit: 1000)) {
      anchors.append(try (0..<(try reader.unsignedCount())).map { _ in
        let index = try reader.integer()
        guard index >= 0, index < Int64(shapeValues / 2) else { throw DlibDeserializer.Failure(description: "anchor \(index) out of range") }
        return Int32(index)
      })
    }
    var offsets: [[Float]] = []
    for _ in 0..<(try reader.unsignedCount(limit: 1000)) {
      let count = try reader.unsignedCount()
      var flat: [Float] = []
      flat.reserveCapacity(count * 2)
      for _ in 0..<count { flat += [try reader.float(), try reader.float()] }
      offsets.append(flat)
    }
    guard cascades.count == anchors.count, anchors.count == offsets.count,
      zip(anchors, offsets).allSatisfy({ $0.count * 2 == $1.count })
    else { throw DlibDeserializer.Failure(description: "cascade tables disagree in size") }
    for (cascade, pixels) in zip(cascades, anchors) {
      for tree in cascade where tree.splits.contains(where: { Int($0.first) >= pixels.count || Int($0.second) >= pixels.count }) {
        throw DlibDeserializer.Failure(description: "split refers to a missing feature pixel")
      }
    }
    self.cascades = cascades
    self.anchors = anchors
    self.offsets = offsets
  }

  /// The shape inside `box` (dlib rectangle semantics: inclusive integer corners). Pixel
  /// intensities are dlib's (r + g + b) / 3; coordinates are returned unrounded (dlib rounds
  /// to whole pixels).
  public func predict(in image: Image, left: Int, top: Int, right: Int, bottom: Int) -> [Point2] {
    var shape = initialShape
    let width = image.width, height = image.height, channels = image.channels
    let spanX = Float(right - left), spanY = Float(bottom - top)
    var features = [Float](repeating: 0, count: anchors.first?.count ?? 0)
    image.pixels.withUnsafeBufferPointer { pixels in
      for (level, cascade) in cascades.enumerated() {
        // Similarity from the mean shape to the current one (rotation + scale only matter).
        let (m00, m01, m10, m11) = Self.similarityMatrix(from: initialShape, to: shape)
        let levelAnchors = anchors[level], levelOffsets = offsets[level]
        if features.count != levelAnchors.count { features = [Float](repeating: 0, count: levelAnchors.count) }
        for index in 0..<levelAnchors.count {
          let anchor = Int(levelAnchors[index])
          let dx = levelOffsets[index * 2], dy = levelOffsets[index * 2 + 1]
          let u = m00 * dx + m01 * dy + shape[anchor * 2]
          let v = m10 * dx + m11 * dy + shape[anchor * 2 + 1]
          let x = Int((Float(left) + u * spanX + 0.5).rounded(.down))
          let y = Int((Float(top) + v * spanY + 0.5).rounded(.down))
          if x >= 0, y >= 0, x < width, y < height {
            let offset = (y * width + x) * channels
            features[index] = Float((Int(pixels[offset]) + Int(pixels[offset + 1]) + Int(pixels[offset + 2])) / 3)
          } else {
            features[index] = 0
          }
        }
        // Raw buffers: 500 trees a level, each adding a 136-value leaf (array subscripts with
        // their checks cost more than the additions).
        shape.withUnsafeMutableBufferPointer { shape in
          features.withUnsafeBufferPointer { features in
            for tree in cascade {
              tree.splits.withUnsafeBufferPointer { splits in
                var node = 0
                while node < splits.count {
                  let split = splits[node]
                  node = features[Int(split.first)] - features[Int(split.second)] > split.threshold ? 2 * node + 1 : 2 * node + 2
                }
                let leafStart = (node - splits.count) * shape.count
                tree.leaves.withUnsafeBufferPointer { leaves in
                  let leaf = leaves.baseAddress! + leafStart
                  for value in 0..<shape.count { shape[value] += leaf[value] }
                }
              }
            }
          }
        }
      }
    }
    return (0..<pointCount).map { Point2(Float(left) + shape[$0 * 2] * spanX, Float(top) + shape[$0 * 2 + 1] * spanY) }
  }

  /// The shape inside a detector's box (rounded to dlib's integer rectangle).
  public func predict(in image: Image, box: BoundingBox) -> [Point2] {
    predict(in: image, left: Int(box.x1.rounded()), top: Int(box.y1.rounded()), right: Int(box.x2.rounded()),
            bottom: Int(box.y2.rounded()))
  }

  /// The 2x2 part of the least-squares similarity taking shape `from` onto shape `to`.
  static func similarityMatrix(from: [Float], to: [Float]) -> (Float, Float, Float, Float) {
    let count = from.count / 2
    var meanFromX: Double = 0, meanFromY: Double = 0, meanToX: Double = 0, meanToY: Double = 0
    for point in 0..<count {
      meanFromX += Double(from[point * 2]); meanFromY += Double(from[point * 2 + 1])
      meanToX += Double(to[point * 2]); meanToY += Double(to[point * 2 + 1])
    }
    let n = Double(count)
    meanFromX /= n; meanFromY /= n; meanToX /= n; meanToY /= n
    var dot: Double = 0, cross: Double = 0, norm: Double = 0
    for point in 0..<count {
      let px = Double(from[point * 2]) - meanFromX, py = Double(from[point * 2 + 1]) - meanFromY
      let qx = Double(to[point * 2]) - meanToX, qy = Double(to[point * 2 + 1]) - meanToY
      dot += px * qx + py * qy
      cross += px * qy - py * qx
      norm += px * px + py * py
    }
    guard norm > 0 else { return (1, 0, 0, 1) }
    let a = Float(dot / norm), b = Float(cross / norm)
    return (a, -b, b, a)
  }
}
