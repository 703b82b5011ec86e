import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime
import Pipeline
import Processors
import Synchronization

/// `swapline swap`'s processors on one frame, split into model analysis and rendering (see
/// VideoFrameProcessor). Images use it the same way: analyse, then render.
final class SwapFrameProcessor: VideoFrameProcessor, @unchecked Sendable {
  /// Made on the decoding thread: the RGB frame and, on detection frames, the detector's inputs.
  struct Prepared: @unchecked Sendable {
    let rgb: Image
    let detectorInput: FaceDetector.PreparedFrame?
  }

  /// What render needs from analyse; computed on the analysis thread.
  struct Analysis: @unchecked Sendable {
    let rgb: Image
    let faces: [DetectedFace]
    /// 68 points per face for the classic swapper and area masks, else empty.
    let shapes: [[Point2]]
  }

  struct Settings {
    var processors: [String]
    var detectorInterval: Int
    var trackerSmoothing: Float
    var selector: FaceSelectorOptions
    var weight: Float
    var landmarkerScore: Float
    var maskBlur: Float
    var faceEnhancerBlend: Int
    var frameEnhancerBlend: Int
    /// Whether frames are a video (tracking between detections) or independent images.
    var tracking: Bool
  }

  let settings: Settings
  let detector: FaceDetector
  let recognizer: FaceRecognizer?
  let sourceFace: (image: Image, shape: [Point2])?
  let neural: Swap.NeuralPlan?
  let predictor: ShapePredictor?
  let faceEnhancer: FaceEnhancer?
  let frameEnhancer: FrameEnhancer?
  let timer: StageTimer
  /// Model runs performed (for `swapline benchmark video`'s inference floor), when recording.
  let runLog: ModelRunLog?
  /// Touched only by the analysis thread.
  private var tracker: FaceTracker
  /// Frames analysed so far that had a face to process (a video without any gets a warning).
  let framesWithFaces = Atomic<Int>(0)

  init(settings: Settings, detector: FaceDetector, recognizer: FaceRecognizer?, sourceFace: (image: Image, shape: [Point2])?,
       neural: Swap.NeuralPlan?, predictor: ShapePredictor?, faceEnhancer: FaceEnhancer?, frameEnhancer: FrameEnhancer?,
       timer: StageTimer, runLog: ModelRunLog? = nil) {
    self.runLog = runLog
    self.settings = settings
    self.detector = detector
    self.recognizer = recognizer
    self.sourceFace = sourceFace
    self.neural = neural
    self.predictor = predictor
    self.faceEnhancer = faceEnhancer
    self.frameEnhancer = frameEnhancer
    self.timer = timer
    tracker = FaceTracker(options: .init(smoothing: settings.trackerSmoothing))
  }

  var swapping: Bool { settings.processors.contains("face_swapper") }
  var needsFaces: Bool { settings.processors.contains("face_swapper") || settings.processors.contains("face_enhancer") }

  /// The inference pool's resident bytes and evictions (for metrics).
  var poolCounters: () -> (Int64, Int) = { (0, 0) }

  func beginChunk(at frame: Int) {
    tracker = FaceTracker(options: .init(smoothing: settings.trackerSmoothing))
  }

  /// Whether the detector runs on this frame: the first of each chunk (so chunks are
  /// independent), then every `detectorInterval`-th.
  func detects(position: Int) -> Bool { !settings.tracking || position % settings.detectorInterval == 0 }

  func prepare(_ frame: Image, index: Int, position: Int) throws -> Prepared {
    let rgb = frame.converted(toChannels: 3)
    let input = needsFaces && detects(position: position) ? timer.measure("prepare") { detector.prepare(rgb) } : nil
    return Prepared(rgb: rgb, detectorInput: input)
  }

  /// For a single image: prepare and analyse on the calling thread.
  func analyse(_ image: Image) throws -> Analysis {
    try analyse(image, prepared: prepare(image, index: 0, position: 0), index: 0)
  }

  func analyse(_ frame: Image, prepared: Prepared, index: Int) throws -> Analysis {
    let rgb = prepared.rgb
    guard needsFaces else { return Analysis(rgb: rgb, faces: [], shapes: []) }
    let detected: [DetectedFace]
    if let input = prepared.detectorInput {
      runLog?.detected(frame: index)
      var timings = DetectionTimings()
      let faces = try timer.measure("detect") { try detector.detect(input, timings: &timings) }
      detected = settings.tracking ? tracker.update(with: faces) : faces
    } else {
      detected = tracker.predict()
    }
    var faces = try timer.measure("select") {
      try FaceSelector.select(detected, options: settings.selector, referenceFaces: detected) { face in
        do { return try recognizer!.embedding(of: rgb, landmarks: face.landmarks) } catch { throw CLIError.failure("\(error)") }
      }
    }
    if swapping, let neural, let landmarker = neural.landmarker {
      for index in faces.indices {
        let sixtyEight = try timer.measure("landmark") { try landmarker.landmarks(in: rgb, box: faces[index].box) }
        faces[index].landmarks = FaceLandmarker.alignmentPoints(detector: faces[index].landmarks, landmarks: sixtyEight,
                                                                threshold: settings.landmarkerScore)
      }
    }
    let needsShapes = swapping && (neural == nil || neural!.masks.types.contains(.area))
    let shapes = needsShapes && predictor != nil
      ? faces.map { face -> [Point2] in
        runLog?.predicted(frame: index, box: face.box)
        return timer.measure("landmark") { predictor!.predict(in: rgb, box: face.box) }
      } : []
    if !faces.isEmpty { framesWithFaces.add(1, ordering: .relaxed) }
    return Analysis(rgb: rgb, faces: faces, shapes: shapes)
  }

  func render(_ frame: Image, analysis: Analysis) throws -> Image {
    var result = frame
    let faces = analysis.faces
    for processor in settings.processors {
      switch processor {
      case "face_swapper" where !faces.isEmpty:
        result = try swapFaces(in: result, analysis: analysis)
      case "face_enhancer" where !faces.isEmpty:
        for face in faces {
          result = try timer.measure("enhance") {
            try faceEnhancer!.enhance(frame: result, landmarks: face.landmarks, blend: settings.faceEnhancerBlend, maskBlur: settings.maskBlur)
          }
        }
      case "frame_enhancer":
        result = try timer.measure("enhance") { try frameEnhancer!.enhance(frame: result, blend: settings.frameEnhancerBlend) }
      default:
        break
      }
    }
    return result
  }

  /// The face_swapper step: the classic swapper on the 68 points, or a zoo swapper.
  private func swapFaces(in frame: Image, analysis: Analysis) throws -> Image {
    var result = frame
    guard let neural else {
      let swapper = ClassicFaceSwapper(referenceShape: predictor!.meanShape)
      for shape in analysis.shapes {
        result = swapper.swap(source: sourceFace!.image, sourceShape: sourceFace!.shape, target: result, targetShape: shape, timing: timer).image
      }
      return result
    }
    for (index, face) in analysis.faces.enumerated() {
      let source: Tensor
      if let recognizer = neural.recognizer, let identity = neural.identity {
        let targetIdentity = try timer.measure("embed") { try recognizer.embedding(of: analysis.rgb, landmarks: face.landmarks) }
        source = try neural.swapper.sourceIdentity(source: identity, target: targetIdentity, weight: settings.weight)
      } else {
        source = neural.sourceImage!
      }
      result = try neural.swapper.swap(frame: result, landmarks: face.landmarks, source: source, pixelBoost: neural.boost,
                                       masks: neural.masks, landmarks68: analysis.shapes.isEmpty ? nil : analysis.shapes[index], timing: timer)
    }
    return result
  }
}

/// Which model runs a video run performed: detector runs by frame, 68-point predictions by frame
/// and box. Small (a few entries per frame); read after the run.
final class ModelRunLog: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var detections: [Int] = []
  private(set) var predictions: [(frame: Int, box: BoundingBox)] = []

  func detected(frame: Int) { lock.withLock { detections.append(frame) } }
  func predicted(frame: Int, box: BoundingBox) { lock.withLock { predictions.append((frame, box)) } }
}
