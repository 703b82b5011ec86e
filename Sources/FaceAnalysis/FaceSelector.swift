/// FaceFusion's `--face-selector-order`.
public enum FaceSelectorOrder: String, Sendable, CaseIterable, Codable {
  case leftRight = "left-right", rightLeft = "right-left", topBottom = "top-bottom", bottomTop = "bottom-top"
  case smallLarge = "small-large", largeSmall = "large-small", bestWorst = "best-worst", worstBest = "worst-best"
}

/// FaceFusion's `--face-selector-mode`.
public enum FaceSelectorMode: String, Sendable, CaseIterable, Codable {
  /// Every face, in the selector order.
  case many
  /// The first face in the selector order.
  case one
  /// Faces that look like the reference face (the one at `--reference-face-position` in the
  /// reference frame, in the selector order).
  case reference
}

public struct FaceSelectorOptions: Sendable, Equatable {
  public var mode: FaceSelectorMode
  public var order: FaceSelectorOrder
  public var referencePosition: Int
  /// Largest face distance ((1 - cosine) / 2) that still counts as the same person (FaceFusion: 0.3).
  public var referenceDistance: Float

  public init(mode: FaceSelectorMode = .many, order: FaceSelectorOrder = .largeSmall, referencePosition: Int = 0,
              referenceDistance: Float = 0.3) {
    self.mode = mode
    self.order = order
    self.referencePosition = referencePosition
    self.referenceDistance = referenceDistance
  }
}

public enum FaceSelector {
  public static func sorted(_ faces: [DetectedFace], by order: FaceSelectorOrder) -> [DetectedFace] {
    let key: (DetectedFace) -> Float
    var ascending = true
    switch order {
    case .leftRight: key = { $0.box.x1 }
    case .rightLeft: key = { $0.box.x1 }; ascending = false
    case .topBottom: key = { $0.box.y1 }
    case .bottomTop: key = { $0.box.y1 }; ascending = false
    case .smallLarge: key = { $0.box.area }
    case .largeSmall: key = { $0.box.area }; ascending = false
    case .bestWorst: key = { $0.score }; ascending = false
    case .worstBest: key = { $0.score }
    }
    // Stable: ties keep detection order.
    return faces.enumerated().sorted { a, b in
      let (ka, kb) = (key(a.element), key(b.element))
      return ka != kb ? (ascending ? ka < kb : ka > kb) : a.offset < b.offset
    }.map(\.element)
  }

  /// The target faces to process. `referenceFaces` are the faces of the reference frame (for a
  /// still image, the target itself); `embedding` is only called in reference mode.
  public static func select(_ targets: [DetectedFace], options: FaceSelectorOptions, referenceFaces: [DetectedFace],
                            embedding: (DetectedFace) throws -> FaceEmbedding) rethrows -> [DetectedFace] {
    let ordered = sorted(targets, by: options.order)
    switch options.mode {
    case .many:
      return ordered
    case .one:
      return Array(ordered.prefix(1))
    case .reference:
      let references = sorted(referenceFaces, by: options.order)
      guard !references.isEmpty else { return [] }
      let reference = try embedding(references[min(max(options.referencePosition, 0), references.count - 1)])
      return try ordered.filter { try embedding($0).distance(to: reference) < options.referenceDistance }
    }
  }
}
