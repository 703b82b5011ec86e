/// Follows faces from frame to frame so detection can run every k-th frame and keypoints stop
/// jittering. Detections are matched to tracks by box IoU (greedy, best first); a matched track's
/// box and keypoints move by exponential smoothing; between detections, and when a detection is
/// missed, each track carries on from its last position at its recent velocity (so a missed face
/// keeps being swapped instead of flashing the original); a track unseen for more than
/// `maxMisses` detections ends.
public struct FaceTracker: Sendable {
  public struct Options: Sendable, Equatable {
    /// Weight of the new detection in the smoothed position (1 = no smoothing).
    public var smoothing: Float
    public var minimumIoU: Float
    public var maxMisses: Int

    public init(smoothing: Float = 0.6, minimumIoU: Float = 0.3, maxMisses: Int = 2) {
      self.smoothing = smoothing
      self.minimumIoU = minimumIoU
      self.maxMisses = maxMisses
    }
  }

  struct Track {
    let id: Int
    var face: DetectedFace
    /// Per frame, from the centres at the last two detections.
    var velocity: Point2
    var misses: Int
    /// Centre at the last matched detection and the frames since then: with detection every
    /// k-th frame, velocity is the displacement over k frames divided by k.
    var anchor: Point2
    var framesSinceMatch: Int
  }

  public let options: Options
  private var tracks: [Track] = []
  private var nextID = 0

  public init(options: Options = Options()) { self.options = options }

  /// Feeds the detector's faces for this frame; returns the tracked faces (smoothed).
  public mutating func update(with detections: [DetectedFace]) -> [DetectedFace] {
    var unmatched = Array(detections.indices)
    var updated: [Track] = []
    let pairs = tracks.indices.flatMap { t in detections.indices.map { d in (t, d, tracks[t].face.box.intersectionOverUnion(detections[d].box)) } }
      .filter { $0.2 >= options.minimumIoU }.sorted { $0.2 > $1.2 }
    var usedTracks = Set<Int>()
    for (t, d, _) in pairs where !usedTracks.contains(t) && unmatched.contains(d) {
      usedTracks.insert(t)
      unmatched.removeAll { $0 == d }
      var track = tracks[t]
      track.face = Self.blend(track.face, detections[d], weight: options.smoothing)
      let now = centre(track.face.box), frames = Float(track.framesSinceMatch + 1)
      track.velocity = Point2((now.x - track.anchor.x) / frames, (now.y - track.anchor.y) / frames)
      track.anchor = now
      track.framesSinceMatch = 0
      track.misses = 0
      updated.append(track)
    }
    for t in tracks.indices where !usedTracks.contains(t) && tracks[t].misses < options.maxMisses {
      var track = tracks[t]
      track.misses += 1
      track.framesSinceMatch += 1
      track.face = Self.shifted(track.face, by: track.velocity)
      updated.append(track)
    }
    for d in unmatched {
      updated.append(Track(id: nextID, face: detections[d], velocity: Point2(0, 0), misses: 0, anchor: centre(detections[d].box),
                           framesSinceMatch: 0))
      nextID += 1
    }
    tracks = updated.sorted { $0.id < $1.id }
    return tracks.map(\.face)
  }

  /// The track of each face the last `update` or `predict` returned, in the same order: stable
  /// while a face is followed, so per-face results can be carried between detections.
  public var trackIDs: [Int] { tracks.map(\.id) }

  /// The faces followed now, as the last `update` or `predict` returned them.
  public var faces: [DetectedFace] { tracks.map(\.face) }

  /// The tracked faces for a frame without detection: each moved on by its velocity.
  public mutating func predict() -> [DetectedFace] {
    for index in tracks.indices {
      let shift = tracks[index].velocity
      tracks[index].face = Self.shifted(tracks[index].face, by: shift)
      tracks[index].framesSinceMatch += 1
    }
    return tracks.map(\.face)
  }

  static func blend(_ old: DetectedFace, _ new: DetectedFace, weight w: Float) -> DetectedFace {
    func mix(_ a: Float, _ b: Float) -> Float { a * (1 - w) + b * w }
    let box = BoundingBox(x1: mix(old.box.x1, new.box.x1), y1: mix(old.box.y1, new.box.y1),
                          x2: mix(old.box.x2, new.box.x2), y2: mix(old.box.y2, new.box.y2))
    let landmarks = old.landmarks.count == new.landmarks.count
      ? zip(old.landmarks, new.landmarks).map { Point2(mix($0.x, $1.x), mix($0.y, $1.y)) } : new.landmarks
    return DetectedFace(box: box, score: new.score, landmarks: landmarks)
  }

  static func shifted(_ face: DetectedFace, by shift: Point2) -> DetectedFace {
    DetectedFace(box: BoundingBox(x1: face.box.x1 + shift.x, y1: face.box.y1 + shift.y, x2: face.box.x2 + shift.x, y2: face.box.y2 + shift.y),
                 score: face.score, landmarks: face.landmarks.map { Point2($0.x + shift.x, $0.y + shift.y) })
  }
}

private func centre(_ box: BoundingBox) -> Point2 { Point2((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2) }
