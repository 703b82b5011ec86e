import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime

/// FaceFusion's `--face-mask-types`.
public enum FaceMaskType: String, Sendable, CaseIterable, Codable {
  case box, occlusion, region, area
}

/// FaceFusion's `--face-mask-areas`: 68-point subsets whose convex hull is kept.
public enum FaceMaskArea: String, Sendable, CaseIterable, Codable {
  case upperFace = "upper-face", lowerFace = "lower-face", mouth

  public var landmarkIndices: [Int] {
    switch self {
    case .upperFace: [0, 1, 2, 31, 32, 33, 34, 35, 14, 15, 16, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17]
    case .lowerFace: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 35, 34, 33, 32, 31]
    case .mouth: Array(48...67)
    }
  }
}

/// FaceFusion's `--face-mask-regions`: BiSeNet face-parsing classes that are kept.
public enum FaceMaskRegion: String, Sendable, CaseIterable, Codable {
  case skin, leftEyebrow = "left-eyebrow", rightEyebrow = "right-eyebrow", leftEye = "left-eye", rightEye = "right-eye"
  case glasses, nose, mouth, upperLip = "upper-lip", lowerLip = "lower-lip"

  public var classIndex: Int {
    switch self {
    case .skin: 1
    case .leftEyebrow: 2
    case .rightEyebrow: 3
    case .leftEye: 4
    case .rightEye: 5
    case .glasses: 6
    case .nose: 10
    case .mouth: 11
    case .upperLip: 12
    case .lowerLip: 13
    }
  }
}

/// Mask settings and the models they need.
public struct FaceMaskOptions: Sendable {
  public var types: Set<FaceMaskType>
  public var blur: Float
  public var padding: (top: Int, right: Int, bottom: Int, left: Int)
  public var areas: [FaceMaskArea]
  public var regions: [FaceMaskRegion]
  /// XSeg occluders (several: per-pixel minimum, FaceFusion's "many").
  public var occluders: [InferenceSession]
  public var parser: InferenceSession?

  public init(types: Set<FaceMaskType> = [.box], blur: Float = 0.3, padding: (top: Int, right: Int, bottom: Int, left: Int) = (0, 0, 0, 0),
              areas: [FaceMaskArea] = FaceMaskArea.allCases, regions: [FaceMaskRegion] = FaceMaskRegion.allCases,
              occluders: [InferenceSession] = [], parser: InferenceSession? = nil) {
    self.types = types
    self.blur = blur
    self.padding = padding
    self.areas = areas
    self.regions = regions
    self.occluders = occluders
    self.parser = parser
  }
}

/// Builds FaceFusion's crop masks and combines them by per-pixel minimum. Occlusion and region
/// masks are what keep a hand or scarf over the face visible after a swap.
public enum FaceMasker {
  /// The combined mask for a face crop. `landmarks68` (crop pixels) are needed for area masks.
  public static func mask(for crop: Image, options: FaceMaskOptions, landmarks68: [Point2]?) throws -> Mask {
    var masks: [Mask] = []
    if options.types.contains(.box) {
      masks.append(Mask.box(width: crop.width, height: crop.height, blur: options.blur, padding: options.padding))
    }
    if options.types.contains(.occlusion) {
      guard !options.occluders.isEmpty else { throw OnnxRuntimeError(.invalidInput, "occlusion mask needs an xseg model") }
      masks.append(try occlusion(crop, occluders: options.occluders))
    }
    if options.types.contains(.region) {
      guard let parser = options.parser else { throw OnnxRuntimeError(.invalidInput, "region mask needs a bisenet model") }
      masks.append(try region(crop, parser: parser, regions: options.regions))
    }
    if options.types.contains(.area), let landmarks68 {
      masks.append(area(width: crop.width, height: crop.height, landmarks68: landmarks68, areas: options.areas))
    }
    // No mask type at all: the whole crop.
    guard let first = masks.first else { return Mask(width: crop.width, height: crop.height, fill: 1) }
    return masks.dropFirst().reduce(first) { $0.minimum($1) }
  }

  /// XSeg: NHWC, BGR / 255 at the model's size; 1 = face, 0 = occluder.
  public static func occlusion(_ crop: Image, occluders: [InferenceSession]) throws -> Mask {
    var combined: Mask?
    for session in occluders {
      let shape = session.inputs[0].shape
      let side = shape.count == 4 && shape[1] > 0 ? shape[1] : 256
      let resized = crop.resizedBilinear(width: side, height: side)
      var values = [Float](repeating: 0, count: side * side * 3)
      for index in 0..<(side * side) {
        for channel in 0..<3 { values[index * 3 + channel] = Float(resized.pixels[index * resized.channels + 2 - channel]) / 255 }
      }
      let output = try session.run([session.inputs[0].name: Tensor(shape: [1, side, side, 3], floats: values)])[0].floats()
      let mask = Mask(width: side, height: side, values: output.prefix(side * side).map { min(max($0, 0), 1) })
        .resized(width: crop.width, height: crop.height)
      combined = combined.map { $0.minimum(mask) } ?? mask
    }
    return combined!.faceFusionFeathered()
  }

  /// BiSeNet: RGB ImageNet-normalised NCHW at 512; pixels whose arg-max class is kept become 1.
  public static func region(_ crop: Image, parser: InferenceSession, regions: [FaceMaskRegion]) throws -> Mask {
    let shape = parser.inputs[0].shape
    let side = shape.count == 4 && shape[2] > 0 ? shape[2] : 512
    let input = FaceAnalysis.PlanarTensor.rgb(crop.resizedBilinear(width: side, height: side),
                                              mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    let output = try parser.run([parser.inputs[0].name: input])[0]
    let classes = output.shape.count == 4 ? output.shape[1] : 19
    let logits = output.floats(), plane = side * side
    let kept = Set(regions.map(\.classIndex))
    var values = [Float](repeating: 0, count: plane)
    for index in 0..<plane {
      var best = 0, bestValue = -Float.infinity
      for label in 0..<classes where logits[label * plane + index] > bestValue {
        best = label
        bestValue = logits[label * plane + index]
      }
      values[index] = kept.contains(best) ? 1 : 0
    }
    return Mask(width: side, height: side, values: values).resized(width: crop.width, height: crop.height).faceFusionFeathered()
  }

  /// Convex hull of the chosen 68-point subsets, filled.
  public static func area(width: Int, height: Int, landmarks68: [Point2], areas: [FaceMaskArea]) -> Mask {
    let points = areas.flatMap(\.landmarkIndices).map { landmarks68[$0] }
    let hull = convexHull(points.map { Point2($0.x.rounded(.towardZero), $0.y.rounded(.towardZero)) })
    var plane = Plane(width: width, height: height)
    fill(hull, into: &plane, value: 1)
    return Mask(width: width, height: height, values: plane.data).faceFusionFeathered()
  }

  /// Andrew's monotone chain.
  static func convexHull(_ points: [Point2]) -> [Point2] {
    let sorted = points.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
    guard sorted.count > 2 else { return sorted }
    func cross(_ o: Point2, _ a: Point2, _ b: Point2) -> Float { (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x) }
    var lower: [Point2] = [], upper: [Point2] = []
    for point in sorted {
      while lower.count >= 2, cross(lower[lower.count - 2], lower[lower.count - 1], point) <= 0 { lower.removeLast() }
      lower.append(point)
    }
    for point in sorted.reversed() {
      while upper.count >= 2, cross(upper[upper.count - 2], upper[upper.count - 1], point) <= 0 { upper.removeLast() }
      upper.append(point)
    }
    return Array(lower.dropLast() + upper.dropLast())
  }
}
