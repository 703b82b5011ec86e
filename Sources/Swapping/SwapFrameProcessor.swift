import FaceAnalysis
import Foundation
import Imaging
import Media
import OnnxRuntime
import Pipeline
import Processors
import Synchronization

/// A swap run's processors on one frame, split into model analysis and rendering (see
/// VideoFrameProcessor). Images use it the same way: analyse, then render.
/// @unchecked: the tracker and carried points are touched only by the analysis thread (the
/// pipeline's contract); everything else is immutable or atomic.
public final class SwapFrameProcessor: VideoFrameProcessor, @unchecked Sendable {
  /// Made on the decoding thread: the RGB frame and, on detection frames, the detector's inputs.
  /// @unchecked: handed from the decoding thread to the analysis thread, never shared.
  public struct Prepared: @unchecked Sendable {
    let rgb: Image
    /// The detector's full-size input (see detectsAtFullSize), and its coarse one (video).
    let detectorInput: FaceDetector.PreparedFrame?
    let coarseInput: FaceDetector.PreparedFrame?
    var detecting: Bool { detectorInput != nil || coarseInput != nil }
    /// The frame's luma, for measuring face motion (video with 68 points only).
    let grey: GreyFrame?
  }

  /// What render needs from analyse; computed on the analysis thread.
  /// @unchecked: handed from the analysis thread to the render thread, never shared.
  public struct Analysis: @unchecked Sendable {
    /// The frame's index in the video (0 for an image).
    public let index: Int
    let rgb: Image
    public let faces: [DetectedFace]
    /// 68 points per face for the classic swapper and area masks, else empty.
    let shapes: [[Point2]]
    /// 21 points per hand near a face, when hand occlusion is on.
    public let hands: [[Point2]]
    /// Per shape, how much of the target's eyes and mouth the classic swapper keeps, held
    /// steady along the track (video); empty: the swapper measures it per frame.
    var expressions: [KeptFeatures?] = []
  }

  /// The per-frame part of a run's configuration.
  public struct Settings: Sendable {
    var processors: [SwapConfiguration.ProcessorKind]
    var detectorInterval: Int
    var trackerSmoothing: Float
    var selector: FaceSelectorOptions
    var landmarkerScore: Float
    /// Whether frames are a video (tracking between detections) or independent images.
    var tracking: Bool
    /// Video: detection frames between full-size ones may run the detector at half size.
    var coarseDetection: Bool

    public init(_ configuration: SwapConfiguration, tracking: Bool) {
      processors = configuration.processors
      detectorInterval = configuration.video.detectorInterval
      trackerSmoothing = configuration.video.trackerSmoothing
      let selector = configuration.faceSelector
      self.selector = FaceSelectorOptions(mode: selector.mode, order: selector.order, referencePosition: selector.referencePosition,
                                          referenceDistance: selector.referenceDistance)
      landmarkerScore = configuration.faceLandmarker.score
      self.tracking = tracking
      coarseDetection = configuration.video.coarseDetection
    }
  }

  let settings: Settings
  public let detector: FaceDetector
  let recognizer: FaceRecognizer?
  public let predictor: ShapePredictor?
  /// Finds hands near faces (hand occlusion), or nil.
  public let hands: HandLandmarker?
  /// The processors in the configuration's order.
  let steps: [any FrameProcessorStep]
  /// The zoo swapper's plan, when the face swapper runs one (its landmarker is analysis work).
  public let neural: NeuralPlan?
  public let timer: StageTimer
  /// Model runs performed (for `swapline benchmark video`'s inference floor), when recording.
  public let runLog: ModelRunLog?
  /// Touched only by the analysis thread.
  private var tracker: FaceTracker
  /// A zoo landmarker's alignment points per track, from the last frame it ran on, with the
  /// tracked detector points of that frame: between detections the points move with the track
  /// instead of running the landmarker again. Touched only by the analysis thread.
  private var carriedAlignment: [Int: (points: [Point2], anchor: [Point2])] = [:]
  /// Steadies each track's 68 points (video only). Touched only by the analysis thread.
  private var shapeSmoother = ShapeSmoother()
  /// Per track, the classic swapper's kept share of the target's eyes and mouth on the last
  /// frame. Touched only by the analysis thread.
  private var heldExpression: [Int: KeptFeatures] = [:]
  /// The previous frame's luma in this chunk, for the smoother's face motion. Touched only by
  /// the analysis thread.
  private var previousGrey: GreyFrame?
  /// Follows hands from frame to frame (video only). Touched only by the analysis thread.
  private var handTracker: HandTracker?
  /// Frames analysed so far that had a face to process (a video without any gets a warning).
  public let framesWithFaces = Atomic<Int>(0)

  init(settings: Settings, detector: FaceDetector, recognizer: FaceRecognizer?, predictor: ShapePredictor?, hands: HandLandmarker? = nil,
       steps: [any FrameProcessorStep], timer: StageTimer, runLog: ModelRunLog? = nil) {
    self.hands = hands
    handTracker = hands.map(HandTracker.init)
    self.runLog = runLog
    self.settings = settings
    self.detector = detector
    self.recognizer = recognizer
    self.predictor = predictor
    self.steps = steps
    neural = steps.lazy.compactMap { ($0 as? FaceSwapperStep)?.neural }.first
    self.timer = timer
    tracker = FaceTracker(options: .init(smoothing: settings.trackerSmoothing))
  }

  public var swapping: Bool { settings.processors.contains(.faceSwapper) }
  public var needsFaces: Bool { steps.contains { type(of: $0).needsFaces } }
  var context: ProcessorContext { ProcessorContext(timer: timer, runLog: runLog) }
  /// dlib's 68 points per face: the classic swapper's shapes, or a zoo swapper's area masks.
  public var needsShapes: Bool { swapping && predictor != nil && (neural == nil || neural!.masks.types.contains(.area)) }

  /// The inference pool's resident bytes and evictions (for metrics).
  public var poolCounters: () -> (Int64, Int) = { (0, 0) }

  public func beginChunk(at frame: Int) {
    tracker = FaceTracker(options: .init(smoothing: settings.trackerSmoothing))
    carriedAlignment = [:]
    shapeSmoother.reset()
    heldExpression = [:]
    previousGrey = nil
    handTracker?.reset()
  }

  /// Whether the detector runs on this frame: the first of each chunk (so chunks are
  /// independent), then every `detectorInterval`-th.
  func detects(position: Int) -> Bool { !settings.tracking || position % settings.detectorInterval == 0 }

  /// In video, while every face followed is at least `coarseFaceSide` pixels and no hand is
  /// near one, the detector runs at half its size (`FaceDetector.coarseSize`; such a face is then
  /// 64 px or more in its input, well inside what SCRFD finds reliably): a quarter of the
  /// compute. Always the same scale while it lasts, so the boxes the 68 points start from do not
  /// jump between scales; under a hand the points are least sure, and the full-size box the
  /// steadiest start (the footage clip's stability measure: 1.40x with hands at full size, a
  /// frame at 3.3x with them coarse). Every `fullDetectionEvery`-th detection frame (and the
  /// chunk's first) also runs at full size, for new faces only: a new small face is found within
  /// that many detections.
  static let fullDetectionEvery = 4
  static let coarseFaceSide: Float = 128

  /// Whether a detection frame also gets the full-size input: the chunk's first, then every
  /// `fullDetectionEvery`-th detection frame, or every one when coarse detection is off.
  func detectsAtFullSize(position: Int) -> Bool {
    coarseSize == nil || position % (settings.detectorInterval * Self.fullDetectionEvery) == 0
  }

  /// The coarse detector size for this run, or nil (images, the option off, a fixed-size model).
  var coarseSize: Int? { settings.tracking && settings.coarseDetection ? detector.coarseSize : nil }

  public func prepare(_ frame: Image, index: Int, position: Int) throws -> Prepared {
    let rgb = frame.converted(toChannels: 3)
    // Timed only on detection frames, as before coarse inputs: other frames prepare nothing.
    let (input, coarse): (FaceDetector.PreparedFrame?, FaceDetector.PreparedFrame?) = needsFaces && detects(position: position)
      ? timer.measure("prepare") {
        (detectsAtFullSize(position: position) ? detector.prepare(rgb) : nil, position > 0 ? coarseSize.map { detector.prepare(rgb, size: $0) } : nil)
      }
      : (nil, nil)
    // Made here, on the decode thread: the analysis thread is the one that sets the pace.
    let grey = settings.tracking && needsShapes && settings.trackerSmoothing < 1 ? GreyFrame(rgb) : nil
    return Prepared(rgb: rgb, detectorInput: input, coarseInput: coarse, grey: grey)
  }

  /// For a single image: prepare and analyse on the calling thread.
  public func analyse(_ image: Image) throws -> Analysis {
    try analyse(image, prepared: prepare(image, index: 0, position: 0), index: 0)
  }

  public func analyse(_ frame: Image, prepared: Prepared, index: Int) throws -> Analysis {
    let rgb = prepared.rgb
    guard needsFaces else { return Analysis(index: index, rgb: rgb, faces: [], shapes: [], hands: []) }
    let detected: [DetectedFace]
    let detecting = prepared.detecting
    if detecting {
      let faces = try timer.measure("detect") { try detect(rgb, prepared: prepared, index: index) }
      detected = settings.tracking ? tracker.update(with: faces) : faces
    } else {
      detected = tracker.predict()
    }
    var faces = try timer.measure("select") {
      try FaceSelector.select(detected, options: settings.selector, referenceFaces: detected) { face in
        try recognizer!.embedding(of: rgb, landmarks: face.landmarks)
      }
    }
    if swapping, let neural, let landmarker = neural.landmarker {
      let tracks = settings.tracking ? tracker.trackIDs : []
      for face in faces.indices {
        let track = settings.tracking ? detected.firstIndex(of: faces[face]).map { tracks[$0] } : nil
        let tracked = faces[face].landmarks
        if !detecting, let track, let carried = carriedAlignment[track], carried.anchor.count == tracked.count, !tracked.isEmpty {
          // Between detections: the points move as the track moved since the landmarker ran.
          let count = Float(tracked.count)
          let dx = zip(tracked, carried.anchor).reduce(0) { $0 + $1.0.x - $1.1.x } / count
          let dy = zip(tracked, carried.anchor).reduce(0) { $0 + $1.0.y - $1.1.y } / count
          faces[face].landmarks = carried.points.map { Point2($0.x + dx, $0.y + dy) }
          continue
        }
        let sixtyEight = try timer.measure("landmark") { try landmarker.landmarks(in: rgb, box: faces[face].box) }
        runLog?.landmarked(frame: index)
        faces[face].landmarks = FaceLandmarker.alignmentPoints(detector: tracked, landmarks: sixtyEight, threshold: settings.landmarkerScore)
        if let track { carriedAlignment[track] = (faces[face].landmarks, tracked) }
      }
    }
    // Hands first: a face they cover gets its 68 points steadied harder.
    var hands: [[Point2]] = []
    if swapping, !faces.isEmpty, handTracker != nil {
      // Images search every time; video searches on detection frames and follows in between.
      if !settings.tracking { handTracker!.reset() }
      hands = try timer.measure("hands") {
        try handTracker!.update(frame: rgb, faces: faces.map(\.box), searching: detecting, everyScale: !settings.tracking).map(\.points)
      }
    }
    let trackIDs = settings.tracking ? tracker.trackIDs : []
    let shapes = needsShapes
      ? faces.map { face -> [Point2] in
        runLog?.predicted(frame: index, box: face.box)
        let shape = timer.measure("landmark") { predictor!.predict(in: rgb, box: face.box) }
        guard settings.tracking, settings.trackerSmoothing < 1, let position = detected.firstIndex(of: face) else { return shape }
        let motion = timer.measure("motion") { () -> FaceMovement? in
          guard let previousGrey, let grey = prepared.grey else { return nil }
          // The fresh points' move since the last frame is the search's starting guess.
          let guess = shapeSmoother.lastCentre(track: trackIDs[position]).map {
            let now = Point2.centroid(of: shape)
            return Point2(now.x - $0.x, now.y - $0.y)
          } ?? Point2(0, 0)
          return FaceMotion.movement(from: previousGrey, to: grey, box: face.box, guess: guess)
        }
        return shapeSmoother.smooth(shape, track: trackIDs[position], occluded: !hands.isEmpty, motion: motion)
      } : []
    if prepared.grey != nil { previousGrey = prepared.grey }
    if settings.tracking && needsShapes { shapeSmoother.keep(tracks: Set(trackIDs)) }
    let expressions = settings.tracking ? heldExpressions(shapes: shapes, faces: faces, detected: detected, trackIDs: trackIDs, hands: hands) : []
    if !faces.isEmpty { framesWithFaces.add(1, ordering: .relaxed) }
    return Analysis(index: index, rgb: rgb, faces: faces, shapes: shapes, hands: hands, expressions: expressions)
  }

  /// The faces on a detection frame: at the coarse size while every face followed is large, no
  /// hand is followed, and it finds them all, with the full-size run's new faces where there is
  /// one; otherwise (no face followed yet, a small one, a hand, one missed) at full size.
  private func detect(_ rgb: Image, prepared: Prepared, index: Int) throws -> [DetectedFace] {
    var timings = DetectionTimings()
    func run(_ input: FaceDetector.PreparedFrame) throws -> [DetectedFace] {
      runLog?.detected(frame: index, size: input.size)
      return try detector.detect(input, timings: &timings)
    }
    let followed = tracker.faces
    if let coarse = prepared.coarseInput, !followed.isEmpty, handTracker?.isFollowing != true,
       followed.allSatisfy({ min($0.box.width, $0.box.height) >= Self.coarseFaceSide }) {
      var faces = try run(coarse)
      if faces.count >= followed.count {
        if let full = prepared.detectorInput {
          let coarseBoxes = faces.map(\.box)
          faces += try run(full).filter { face in !coarseBoxes.contains { $0.intersectionOverUnion(face.box) > 0.3 } }
        }
        return faces
      }
    }
    return try run(prepared.detectorInput ?? detector.prepare(rgb))
  }

  /// The classic swapper's kept share of each target face's eyes and mouth, held along its
  /// track (ClassicFaceSwapper.held).
  private func heldExpressions(shapes: [[Point2]], faces: [DetectedFace], detected: [DetectedFace], trackIDs: [Int], hands: [[Point2]])
    -> [KeptFeatures?] {
    guard let sourceShape = steps.lazy.compactMap({ ($0 as? FaceSwapperStep)?.classicSource?.shape }).first,
          shapes.count == faces.count else { return [] }
    var live = Set<Int>()
    let held = zip(shapes, faces).map { shape, face -> KeptFeatures? in
      guard let position = detected.firstIndex(of: face), position < trackIDs.count else { return nil }
      let track = trackIDs[position]
      live.insert(track)
      // What the expression asks, and, where a hand covers an eye or the mouth, all of it.
      var measured = ClassicFaceSwapper.expressionKept(source: sourceShape, target: shape)
      let covered = ClassicFaceSwapper.covered(by: hands, shape: shape)
      measured.eyes = zip(measured.eyes, covered.eyes).map { max($0, $1) }
      if shapeSmoother.holdsMisfitEyes(track: track) { measured.eyes = [1, 1] }
      measured.lips = covered.lips
      let kept = ClassicFaceSwapper.held(measured, after: heldExpression[track])
      heldExpression[track] = kept
      return kept
    }
    heldExpression = heldExpression.filter { live.contains($0.key) }
    return held
  }

  public func render(_ frame: Image, analysis: Analysis) throws -> Image {
    let context = context
    return try steps.reduce(frame) { result, step in
      type(of: step).needsFaces && analysis.faces.isEmpty ? result : try step.process(result, analysis: analysis, context: context)
    }
  }

  /// Each side's model time for one frame, measured once on a grey frame of the video's size
  /// with a face-sized box in the middle (doubling as the models' warm-up). Detection and zoo
  /// landmarks count once per detector interval, as they run. nil when the render side runs no
  /// model (the classic swapper): there is nothing to weigh, analysis sets the pace.
  public func measureCosts(width: Int, height: Int) throws -> StageCosts? {
    // The classic swapper alone runs no model when rendering: analysis sets the pace.
    guard steps.contains(where: { !($0 is FaceSwapperStep) }) || neural != nil else { return nil }
    let grey = Image(width: width, height: height, channels: 3, fill: 128)
    let side = Float(min(width, height)) / 2
    let box = BoundingBox(x1: Float(width) / 2 - side / 2, y1: Float(height) / 2 - side / 2, x2: Float(width) / 2 + side / 2,
                          y2: Float(height) / 2 + side / 2)
    // Where a frontal face's eyes, nose and mouth corners sit in its box.
    let five = [(0.34, 0.42), (0.66, 0.42), (0.5, 0.58), (0.37, 0.74), (0.63, 0.74)]
      .map { Point2(box.x1 + Float($0.0) * side, box.y1 + Float($0.1) * side) }
    func seconds(_ body: () throws -> Void) rethrows -> Double {
      let started = ContinuousClock.now
      try body()
      return (ContinuousClock.now - started).milliseconds / 1000
    }
    let interval = Double(settings.tracking ? settings.detectorInterval : 1)
    var analysis = 0.0, render = 0.0
    if needsFaces {
      analysis += try seconds { _ = try detector.detect(grey) } / interval
      if swapping, let landmarker = neural?.landmarker { analysis += try seconds { _ = try landmarker.landmarks(in: grey, box: box) } / interval }
      if settings.selector.mode == .reference, let recognizer { analysis += try seconds { _ = try recognizer.embedding(of: grey, landmarks: five) } }
      if needsShapes { analysis += seconds { _ = predictor!.predict(in: grey, box: box) } }
      if swapping, let hands { analysis += try seconds { _ = try hands.palms(in: grey, region: HandTracker.searchRegion(around: box)) } / interval }
    }
    let context = context
    for step in steps { render += try seconds { try step.rehearse(grey: grey, five: five, context: context) } }
    return StageCosts(analysis: analysis, render: render)
  }
}

/// Which model runs a video run performed: detector runs by frame, 68-point predictions by frame
/// and box, zoo landmarker runs by frame, and each swap with its inputs (so `benchmark video` can
/// re-time them alone). Small (a few entries per frame); read after the run.
/// @unchecked: every field is read and written under `lock`.
public final class ModelRunLog: @unchecked Sendable {
  public struct Swap {
    public let frame: Int
    public let landmarks: [Point2]
    public let landmarks68: [Point2]?
    public let source: Tensor
  }

  private let lock = NSLock()
  /// Detector runs: the frame and the detector size (a video's coarse runs are smaller).
  public private(set) var detections: [(frame: Int, size: Int)] = []
  public private(set) var predictions: [(frame: Int, box: BoundingBox)] = []
  public private(set) var landmarkerRuns: [Int] = []
  public private(set) var swaps: [Swap] = []

  public init() {}

  func detected(frame: Int, size: Int) { lock.withLock { detections.append((frame, size)) } }
  func predicted(frame: Int, box: BoundingBox) { lock.withLock { predictions.append((frame, box)) } }
  func landmarked(frame: Int) { lock.withLock { landmarkerRuns.append(frame) } }
  func swapped(_ swap: Swap) { lock.withLock { swaps.append(swap) } }
}

/// Time per named stage, accumulated over every thread, in first-seen order (`--profile`).
/// Video stages run concurrently, so their sum can exceed the wall time.
/// @unchecked: `totals` and `order` are touched only under `lock`.
public final class StageTimer: StageTiming, @unchecked Sendable {
  private let lock = NSLock()
  private var totals: [String: Double] = [:]
  private var order: [String] = []

  public init() {}

  public func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
    let started = ContinuousClock.now
    defer {
      let elapsed = (ContinuousClock.now - started).milliseconds
      lock.lock()
      if totals[stage] == nil { order.append(stage) }
      totals[stage, default: 0] += elapsed
      lock.unlock()
    }
    return try body()
  }

  public func add(_ stage: String, seconds: Double) {
    lock.lock()
    if totals[stage] == nil { order.append(stage) }
    totals[stage, default: 0] += seconds * 1000
    lock.unlock()
  }

  /// Seconds spent in `stage` so far (0 if it never ran).
  public func seconds(_ stage: String) -> Double {
    lock.lock()
    defer { lock.unlock() }
    return (totals[stage] ?? 0) / 1000
  }

  public var report: [(stage: String, milliseconds: Double)] {
    lock.lock()
    defer { lock.unlock() }
    return order.map { ($0, totals[$0]!) }
  }
}
