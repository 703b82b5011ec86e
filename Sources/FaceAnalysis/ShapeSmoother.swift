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
    let centre = Point2.centroid(of: points)
    let offsets = points.flatMap { [$0.x - centre.x, $0.y - centre.y] }
    guard var state = tracks[track] else {
      tracks[track] = Track(centre: [Filtered(value: centre.x, rate: 0), Filtered(value: centre.y, rate: 0)],
                            offsets: offsets.map { Filtered(value: $0, rate: 0) }, input: centre)
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
    // The head moves as a whole: its centre may move faster before the filter opens.
    state.centre[0] = step(state.centre[0], to: centre.x, scale: scale, gain: speedGain * 2)
    state.centre[1] = step(state.centre[1], to: centre.y, scale: scale, gain: speedGain * 2)
    for index in offsets.indices {
      state.offsets[index] = step(state.offsets[index], to: offsets[index], scale: scale, gain: speedGain)
    }
    state.input = centre
    tracks[track] = state
    return (0..<68).map { Point2(state.centre[0].value + state.offsets[2 * $0].value, state.centre[1].value + state.offsets[2 * $0 + 1].value) }
  }

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
