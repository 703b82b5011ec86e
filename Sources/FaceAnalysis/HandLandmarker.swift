import Foundation
import Imaging
import OnnxRuntime

/// A square region of a frame turned by `rotation` (radians, clockwise on screen): MediaPipe's
/// hand ROI, in frame pixels. The crop's "up" is the direction from the wrist to the fingers.
public struct RotatedSquare: Sendable, Equatable {
  public var centre: Point2
  public var side: Float
  public var rotation: Float

  public init(centre: Point2, side: Float, rotation: Float) {
    self.centre = centre
    self.side = side
    self.rotation = rotation
  }

  /// Crop pixel -> frame pixel for a `size` x `size` crop of this square.
  func cropToFrame(size: Int) -> Imaging.AffineTransform {
    let scale: Double = Double(side) / Double(size), half: Double = Double(size) / 2
    let cosine: Double = Double(cos(rotation)) * scale, sine: Double = Double(sin(rotation)) * scale
    let tx: Double = Double(centre.x) - (cosine - sine) * half, ty: Double = Double(centre.y) - (sine + cosine) * half
    return Imaging.AffineTransform(a: cosine, b: -sine, tx: tx, c: sine, d: cosine, ty: ty)
  }

  /// MediaPipe's rotation for a hand whose wrist is at `wrist` and whose fingers point towards
  /// `knuckles`: 0 when they point straight up.
  static func rotation(from wrist: Point2, to knuckles: Point2) -> Float {
    let angle = Float.pi / 2 - atan2(-(knuckles.y - wrist.y), knuckles.x - wrist.x)
    return angle - 2 * Float.pi * ((angle + Float.pi) / (2 * Float.pi)).rounded(.down)
  }
}

/// A palm found by the detector: its box (frame pixels, axis-aligned), MediaPipe's seven palm
/// keypoints (0 wrist, 2 middle-finger knuckle, ...) and the score.
public struct PalmDetection: Sendable, Equatable {
  public let box: BoundingBox
  public let keypoints: [Point2]
  public let score: Float

  /// The square the hand landmarker looks at: the palm box turned to the wrist-knuckle axis,
  /// moved half its height towards the fingers and grown 2.6 times (MediaPipe's
  /// palm_detection_detection_to_roi).
  public var handRegion: RotatedSquare {
    let rotation = RotatedSquare.rotation(from: keypoints[0], to: keypoints[2])
    let height = box.height
    let centre = Point2((box.x1 + box.x2) / 2 + 0.5 * height * sin(rotation), (box.y1 + box.y2) / 2 - 0.5 * height * cos(rotation))
    return RotatedSquare(centre: centre, side: max(box.width, box.height) * 2.6, rotation: rotation)
  }
}

/// A hand's 21 points in frame pixels, MediaPipe's topology: 0 wrist; 1-4 thumb; 5-8, 9-12,
/// 13-16, 17-20 the index, middle, ring and little fingers from knuckle to tip.
public struct HandLandmarks: Sendable, Equatable {
  public let points: [Point2]
  /// The landmarker's hand presence (0...1); hands under 0.5 are dropped.
  public let presence: Float

  public init(points: [Point2], presence: Float) {
    self.points = points
    self.presence = presence
  }

  /// The square to look at in the next video frame (MediaPipe's hand_landmark_landmarks_to_roi):
  /// the palm and lower fingers' box in the hand's own orientation, moved a little towards the
  /// fingers and doubled.
  public var nextRegion: RotatedSquare {
    let partial = [0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18].map { points[$0] }
    let knuckles = Point2.centroid(of: [Point2.centroid(of: [points[5], points[13]]), points[9]])
    let rotation = RotatedSquare.rotation(from: points[0], to: knuckles)
    let cosine = cos(-rotation), sine = sin(-rotation)
    // The points' box in the hand's frame (rotated by -rotation about the origin), its centre
    // turned back.
    let turned = partial.map { Point2($0.x * cosine - $0.y * sine, $0.x * sine + $0.y * cosine) }
    let box = BoundingBox(enclosing: turned)
    let middle = Point2((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2)
    let centre = Point2(middle.x * cos(rotation) - middle.y * sin(rotation), middle.x * sin(rotation) + middle.y * cos(rotation))
    let shifted = Point2(centre.x + 0.1 * box.height * sin(rotation), centre.y - 0.1 * box.height * cos(rotation))
    return RotatedSquare(centre: shifted, side: max(box.width, box.height) * 2, rotation: rotation)
  }
}

/// MediaPipe's hands (Apache-2.0): the full palm detector (192 px, SSD with 2016 anchors) and
/// the full hand landmarker (224 px, 21 points), converted to ONNX at setup by
/// scripts/convert_mediapipe_hands.py with TFLite's own layout (NHWC RGB in 0...1). Used to
/// keep hands that cross a face out of the swap.
public struct HandLandmarker: Sendable {
  public static let palmDetectorName = "palm_detection_full"
  public static let landmarkerName = "hand_landmark_full"
  static let palmSize = 192, landmarkSize = 224

  let palmSession: InferenceSession
  let landmarkSession: InferenceSession
  /// Minimum palm score after the sigmoid. Lower than MediaPipe's 0.5: a hand across a face
  /// often scores 0.3-0.5, and the landmarker's own presence score rejects what is not a hand.
  public var palmScore: Float = 0.3

  public init(palmDetector: InferenceSession, landmarker: InferenceSession) {
    palmSession = palmDetector
    landmarkSession = landmarker
  }

  /// Anchor centres in the 192 px input, unit scale (MediaPipe's SsdAnchorsCalculator with fixed
  /// anchor size: strides 8, 16, 16, 16; two anchors per layer and cell; layers of one stride
  /// share their cells).
  static let anchors: [Point2] = {
    var centres: [Point2] = []
    for (stride, perCell) in [(8, 2), (16, 6)] {
      let cells = HandLandmarker.palmSize / stride
      for y in 0..<cells {
        for x in 0..<cells {
          let centre = Point2((Float(x) + 0.5) / Float(cells), (Float(y) + 0.5) / Float(cells))
          centres.append(contentsOf: repeatElement(centre, count: perCell))
        }
      }
    }
    return centres
  }()

  /// RGB values / 255, NHWC.
  static func input(_ crop: Image) -> [Float] {
    let rgb = crop.channels == 3 ? crop : crop.converted(toChannels: 3)
    return rgb.pixels.map { Float($0) * (1 / 255) }
  }

  /// Palms inside `region` (a square of the frame; outside the frame reads as black, as
  /// MediaPipe pads), after MediaPipe's weighted non-maximum suppression.
  public func palms(in frame: Image, region: BoundingBox) throws -> [PalmDetection] {
    let side = max(region.width, region.height)
    guard side >= 8 else { return [] }
    let scale = Float(Self.palmSize) / side
    let toCrop = Imaging.AffineTransform(a: Double(scale), b: 0, tx: Double(-region.x1 * scale), c: 0, d: Double(scale), ty: Double(-region.y1 * scale))
    let crop = frame.warpedAffine(toCrop, width: Self.palmSize, height: Self.palmSize, border: .constant(0))
    let outputs = try palmSession.run([palmSession.inputs[0].name: Tensor(shape: [1, Self.palmSize, Self.palmSize, 3], floats: Self.input(crop))])
    guard outputs.count >= 2 else { throw OnnxRuntimeError(.invalidInput, "the palm detector returned \(outputs.count) outputs, expected 2") }
    let raw = outputs[0].floats(), logits = outputs[1].floats()
    let anchors = Self.anchors
    guard raw.count == anchors.count * 18, logits.count == anchors.count else {
      throw OnnxRuntimeError(.invalidInput, "the palm detector returned \(raw.count) box values for \(anchors.count) anchors")
    }
    let size = Float(Self.palmSize)
    var candidates: [PalmDetection] = []
    for index in anchors.indices {
      let score = 1 / (1 + exp(-min(max(logits[index], -100), 100)))
      guard score >= palmScore else { continue }
      let values = raw[(index * 18)..<(index * 18 + 18)].map { $0 / size }
      let base = values.startIndex, anchor = anchors[index]
      // Normalised to the crop, then into the frame.
      func frame(_ x: Float, _ y: Float) -> Point2 { Point2(region.x1 + x * side, region.y1 + y * side) }
      let centre = Point2(values[base] + anchor.x, values[base + 1] + anchor.y)
      let halfWidth = values[base + 2] / 2, halfHeight = values[base + 3] / 2
      let topLeft = frame(centre.x - halfWidth, centre.y - halfHeight), bottomRight = frame(centre.x + halfWidth, centre.y + halfHeight)
      let keypoints = (0..<7).map { frame(values[base + 4 + 2 * $0] + anchor.x, values[base + 5 + 2 * $0] + anchor.y) }
      candidates.append(PalmDetection(box: BoundingBox(x1: topLeft.x, y1: topLeft.y, x2: bottomRight.x, y2: bottomRight.y),
                                      keypoints: keypoints, score: score))
    }
    return Self.weightedSuppression(candidates, threshold: 0.3)
  }

  /// MediaPipe's WEIGHTED non-maximum suppression: each kept palm is the score-weighted mean of
  /// the candidates overlapping the best remaining one.
  static func weightedSuppression(_ candidates: [PalmDetection], threshold: Float) -> [PalmDetection] {
    var remaining = candidates.sorted { $0.score > $1.score }
    var kept: [PalmDetection] = []
    while let best = remaining.first {
      let overlapping = remaining.filter { best.box.intersectionOverUnion($0.box) > threshold }
      remaining.removeAll { best.box.intersectionOverUnion($0.box) > threshold }
      if overlapping.isEmpty { remaining.removeFirst(); kept.append(best); continue }
      let total = overlapping.reduce(0) { $0 + $1.score }
      func mean(_ value: (PalmDetection) -> Float) -> Float { overlapping.reduce(0) { $0 + value($1) * $1.score } / total }
      let box = BoundingBox(x1: mean { $0.box.x1 }, y1: mean { $0.box.y1 }, x2: mean { $0.box.x2 }, y2: mean { $0.box.y2 })
      let keypoints = best.keypoints.indices.map { k in Point2(mean { $0.keypoints[k].x }, mean { $0.keypoints[k].y }) }
      kept.append(PalmDetection(box: box, keypoints: keypoints, score: best.score))
    }
    return kept
  }

  /// The 21 points of the hand in `region`, or nil when the landmarker sees no hand there.
  public func landmarks(in frame: Image, region: RotatedSquare) throws -> HandLandmarks? {
    let size = Self.landmarkSize
    let cropToFrame = region.cropToFrame(size: size)
    guard region.side >= 4, let frameToCrop = cropToFrame.inverted else { return nil }
    let crop = frame.warpedAffine(frameToCrop, width: size, height: size, border: .constant(0))
    let inputs = [landmarkSession.inputs[0].name: Tensor(shape: [1, size, size, 3], floats: Self.input(crop))]
    let outputs = try landmarkSession.run(inputs, outputNames: ["landmarks", "presence"])
    let rows = outputs[0].floats(), presence = outputs[1].floats().first ?? 0
    guard rows.count >= 63 else { throw OnnxRuntimeError(.invalidInput, "the hand landmarker returned \(rows.count) values, expected 63") }
    guard presence >= 0.5 else { return nil }
    let points = (0..<21).map { index -> Point2 in
      let mapped = cropToFrame.apply(x: Double(rows[index * 3]), y: Double(rows[index * 3 + 1]))
      return Point2(Float(mapped.x), Float(mapped.y))
    }
    return HandLandmarks(points: points, presence: presence)
  }
}

/// Hands near faces through a video chunk, MediaPipe's way: palms are searched around each face
/// on detection frames, and a hand found once is followed from its own points frame to frame
/// (the landmarker alone) until it leaves. State comes from the chunk's own frames only, so a
/// resumed chunk finds the same hands.
public struct HandTracker: Sendable {
  public let landmarker: HandLandmarker
  /// The regions to look at in the next frame, one per followed hand.
  private var following: [RotatedSquare] = []
  /// Searches so far in this chunk (video searches one scale at a time, in turn), and the
  /// detection frames seen.
  private var searches = 0, detections = 0

  public init(landmarker: HandLandmarker) { self.landmarker = landmarker }

  /// Whether a hand was found in the last frame (and is followed into the next).
  public var isFollowing: Bool { !following.isEmpty }

  public mutating func reset() {
    following = []
    searches = 0
    detections = 0
  }

  /// The squares palms are searched in around a face: 1.2 to 3.5 face-widths wide, centred on
  /// the face or lower (hands rise from below). The palm detector is brittle for a hand seen
  /// from the back across a face: it finds it in one of these squares and misses it in the
  /// next, so a still searches them all and a video one per search, in turn (a hand found once
  /// is followed from its own points).
  static let searchScales: [(side: Float, drop: Float)] = [3, 1.5, 2.5, 1.2, 2, 3.5].flatMap { side in
    [Float(0.25), 0, 0.5].map { (side: Float(side), drop: $0) }
  }

  public static func searchRegion(around face: BoundingBox, scale: Int = 0) -> BoundingBox {
    let (factor, drop) = searchScales[scale % searchScales.count]
    let side = max(face.width, face.height) * factor
    let x = (face.x1 + face.x2) / 2, y = (face.y1 + face.y2) / 2 + face.height * drop
    return BoundingBox(x1: x - side / 2, y1: y - side / 2, x2: x + side / 2, y2: y + side / 2)
  }

  /// The hands in this frame. `searching`: also look for new palms around `faces`; `everyScale`:
  /// at every search scale (a still image, a chunk's first search), else at the next scale in
  /// turn (video: a hand found once is followed, so a few frames' delay costs little and each
  /// frame stays cheap).
  public mutating func update(frame: Image, faces: [BoundingBox], searching: Bool, everyScale: Bool = false) throws -> [HandLandmarks] {
    var hands: [HandLandmarks] = []
    for region in following {
      if let hand = try landmarker.landmarks(in: frame, region: region) { hands.append(hand) }
    }
    // While a hand is followed, new palms are looked for on every fourth search only (a second
    // hand is rare; the search is most of the cost).
    let searchingNow = searching && (everyScale || following.isEmpty || detections % 4 == 0)
    if searching { detections += 1 }
    if searchingNow {
      // The first search of a chunk looks everywhere: a hand already over the face when the
      // chunk starts is found at once.
      let scales = everyScale || searches == 0 ? Array(Self.searchScales.indices) : [searches % Self.searchScales.count]
      searches += 1
      for face in faces {
        for palm in try scales.flatMap({ try landmarker.palms(in: frame, region: Self.searchRegion(around: face, scale: $0)) }) {
          // A palm inside a hand already followed is that hand.
          let known = hands.contains { hand in
            let box = BoundingBox(enclosing: hand.points)
            let centre = Point2((palm.box.x1 + palm.box.x2) / 2, (palm.box.y1 + palm.box.y2) / 2)
            return centre.x >= box.x1 && centre.x <= box.x2 && centre.y >= box.y1 && centre.y <= box.y2
          }
          if !known, let hand = try landmarker.landmarks(in: frame, region: palm.handRegion) { hands.append(hand) }
        }
      }
    }
    following = hands.map(\.nextRegion)
    return hands
  }
}
