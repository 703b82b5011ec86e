import Foundation
import Imaging
import OnnxRuntime

/// Where detection time goes, in seconds (accumulated over angles and models).
public struct DetectionTimings: Sendable, Equatable {
  public var preprocess: Double = 0
  public var inference: Double = 0
  public var postprocess: Double = 0

  public init() {}

  public var total: Double { preprocess + inference + postprocess }
}

/// Finds faces with five keypoints, as FaceFusion's face_detector does: the frame is shrunk to
/// fit the detector size keeping its aspect (never enlarged), placed top-left on a zero canvas,
/// normalised per model family and fed in BGR channel order (OpenCV's), then decoded, mapped
/// back to frame pixels, run again per extra angle, and merged with NMS.
public struct FaceDetector: Sendable {
  public struct Backend: Sendable {
    public let family: FaceDetectorModel
    public let session: InferenceSession
    /// The model takes any input height and width (FaceFusion's SCRFD, the offline SCRFD after
    /// setup's scripts/make_scrfd_dynamic.py) and decodes by the input's own grid: the canvas is
    /// cut to the frame's aspect (rounded up to a multiple of 32) instead of a square, so a
    /// 640x360 frame costs a 640x384 run, 40% less than 640x640, at the same scale.
    public let fitsFrame: Bool

    public init(family: FaceDetectorModel, session: InferenceSession) {
      self.family = family
      self.session = session
      let shape = session.inputs.first?.shape ?? []
      fitsFrame = [.scrfd, .retinaface].contains(family) && shape.count == 4 && shape[2] <= 0 && shape[3] <= 0
    }
  }

  public let backends: [Backend]
  public let options: FaceDetectorOptions

  public init(backends: [Backend], options: FaceDetectorOptions) {
    self.backends = backends
    self.options = options
  }

  /// All faces in `image`, best score first.
  public func detect(_ image: Image) throws -> [DetectedFace] {
    var timings = DetectionTimings()
    return try detect(image, timings: &timings)
  }

  public func detect(_ image: Image, timings: inout DetectionTimings) throws -> [DetectedFace] {
    var clock = ContinuousClock.now
    let prepared = prepare(image)
    timings.preprocess += lap(&clock)
    return try detect(prepared, timings: &timings)
  }

  /// Every model input for one frame (each angle, each model), made ahead of the model runs so a
  /// video pipeline can prepare them on another thread than the one running inference.
  public struct PreparedFrame: Sendable {
    struct Input: Sendable {
      let turns: Int
      let backend: Int
      let tensor: Tensor
      let ratioX: Float
      let ratioY: Float
    }
    let inputs: [Input]
    let width: Int
    let height: Int
    /// The detector size the inputs were made for (`options.size`, or a video's coarse size).
    public let size: Int
  }

  /// Half the detector size, for a video's detections between full-size ones where every face
  /// followed is large (see SwapFrameProcessor); nil where a model takes only its fixed square
  /// (a smaller frame on the same canvas would cost the same).
  public var coarseSize: Int? {
    !backends.isEmpty && backends.allSatisfy(\.fitsFrame) && options.size >= 320 ? options.size / 2 : nil
  }

  /// `size`: the detector size to fit the frame to (default `options.size`).
  public func prepare(_ image: Image, size: Int? = nil) -> PreparedFrame {
    let size = size ?? options.size
    var inputs: [PreparedFrame.Input] = []
    for angle in options.angles {
      // FaceFusion's angles turn the frame counter-clockwise; rotated(quarterTurns:) turns clockwise.
      let turns = ((360 - angle % 360) % 360) / 90
      let rotated = turns == 0 ? image : image.rotated(quarterTurns: turns)
      for (index, backend) in backends.enumerated() {
        let prepared = Self.prepareInput(rotated, size: size, family: backend.family, fitToFrame: backend.fitsFrame)
        inputs.append(.init(turns: turns, backend: index, tensor: prepared.tensor, ratioX: prepared.ratioX, ratioY: prepared.ratioY))
      }
    }
    return PreparedFrame(inputs: inputs, width: image.width, height: image.height, size: size)
  }

  /// Runs the models on prepared inputs: decoding, un-rotation and NMS as `detect(_:)`.
  public func detect(_ prepared: PreparedFrame, timings: inout DetectionTimings) throws -> [DetectedFace] {
    var candidates: [DetectedFace] = []
    for input in prepared.inputs {
      let backend = backends[input.backend]
      var clock = ContinuousClock.now
      let outputs = try backend.session.run([backend.session.inputs[0].name: input.tensor])
      timings.inference += lap(&clock)
      let shape = input.tensor.shape
      let faces = try Self.decode(outputs, family: backend.family, width: shape[3], height: shape[2], scoreThreshold: options.scoreThreshold)
        .map { $0.scaled(x: input.ratioX, y: input.ratioY) }
      candidates += input.turns == 0 ? faces : faces.map { Self.unrotate($0, turns: input.turns, width: prepared.width, height: prepared.height) }
      timings.postprocess += lap(&clock)
    }
    let started = ContinuousClock.now
    let kept = nonMaximumSuppression(candidates, scoreThreshold: options.scoreThreshold, iouThreshold: options.nmsThreshold)
    timings.postprocess += (ContinuousClock.now - started).seconds
    return kept
  }

  /// The detector input tensor [1, 3, size, size] (or, `fitToFrame`, the fitted frame's size
  /// rounded up to multiples of 32, at most `size`) and the factors mapping its pixels back to
  /// the frame.
  public static func prepareInput(_ image: Image, size: Int, family: FaceDetectorModel,
                                  fitToFrame: Bool = false) -> (tensor: Tensor, ratioX: Float, ratioY: Float) {
    var fitted = image
    if image.width > size || image.height > size {
      let scale = min(Double(size) / Double(image.height), Double(size) / Double(image.width))
      fitted = image.resizedBilinear(width: max(1, Int(Double(image.width) * scale)),
                                     height: max(1, Int(Double(image.height) * scale)))
    }
    func canvas(_ side: Int) -> Int { fitToFrame ? min(size, max(32, (side + 31) / 32 * 32)) : size }
    let (canvasWidth, canvasHeight) = (canvas(fitted.width), canvas(fitted.height))
    let (offset, scale) = family.normalisation
    let plane = canvasWidth * canvasHeight
    // The zero canvas is normalised too, exactly as FaceFusion pads before normalising.
    var values = [Float](repeating: (0 - offset) * scale, count: 3 * plane)
    let channels = fitted.channels
    values.withUnsafeMutableBufferPointer { out in
      fitted.pixels.withUnsafeBufferPointer { pixels in
        let blue = out.baseAddress!, green = blue + plane, red = green + plane
        for y in 0..<fitted.height {
          var source = y * fitted.width * channels
          let row = y * canvasWidth
          for x in 0..<fitted.width {
            // Planes in B, G, R order (FaceFusion feeds OpenCV's BGR frames).
            red[row + x] = (Float(pixels[source]) - offset) * scale
            green[row + x] = (Float(pixels[source + 1]) - offset) * scale
            blue[row + x] = (Float(pixels[source + 2]) - offset) * scale
            source += channels
          }
        }
      }
    }
    return (Tensor(shape: [1, 3, canvasHeight, canvasWidth], floats: values),
            Float(image.width) / Float(fitted.width), Float(image.height) / Float(fitted.height))
  }

  /// Decodes one model's outputs (in the model's output order, as FaceFusion indexes them).
  public static func decode(_ outputs: [Tensor], family: FaceDetectorModel, width: Int, height: Int,
                             scoreThreshold: Float) throws -> [DetectedFace] {
    func require(_ count: Int) throws {
      guard outputs.count >= count else {
        throw OnnxRuntimeError(.invalidInput, "\(family.rawValue) detector expects \(count) outputs, model has \(outputs.count)")
      }
    }
    switch family {
    case .retinaface, .scrfd, .many:
      try require(9)
      let flat = outputs.map { $0.floats() }
      return DetectorDecoding.anchorDistance(
        scores: Array(flat[0..<3]), boxes: Array(flat[3..<6]), keypoints: Array(flat[6..<9]),
        inputWidth: width, inputHeight: height, scoreThreshold: scoreThreshold)
    case .yoloFace:
      try require(1)
      let output = outputs[0]
      guard output.shape.count == 3, output.shape[1] == 20 else {
        throw OnnxRuntimeError(.invalidInput, "yolo_face output must be [1, 20, N], got \(output.shape)")
      }
      return DetectorDecoding.yoloFace(output: output.floats(), candidates: output.shape[2], scoreThreshold: scoreThreshold)
    case .yunet:
      try require(12)
      let flat = outputs.map { $0.floats() }
      return DetectorDecoding.yunet(
        classScores: Array(flat[0..<3]), objectness: Array(flat[3..<6]), boxes: Array(flat[6..<9]),
        keypoints: Array(flat[9..<12]), inputWidth: width, inputHeight: height, scoreThreshold: scoreThreshold)
    }
  }

  /// Maps a face found on the frame turned `turns` quarter turns clockwise back onto the upright
  /// frame of `width` x `height`. Undoes one quarter turn at a time: a point (u, v) on the turned
  /// image came from (v, h - u) on the image before the turn, whose height is h.
  static func unrotate(_ face: DetectedFace, turns: Int, width: Int, height: Int) -> DetectedFace {
    func back(_ point: Point2) -> Point2 {
      var point = point
      for step in stride(from: turns, to: 0, by: -1) {
        let previousHeight = Float((step - 1) % 2 == 0 ? height : width)
        point = Point2(point.y, previousHeight - point.x)
      }
      return point
    }
    let corners = [Point2(face.box.x1, face.box.y1), Point2(face.box.x2, face.box.y1),
                   Point2(face.box.x2, face.box.y2), Point2(face.box.x1, face.box.y2)].map(back)
    return DetectedFace(box: BoundingBox(enclosing: corners), score: face.score, landmarks: face.landmarks.map(back))
  }
}

extension DetectedFace {
  func scaled(x: Float, y: Float) -> DetectedFace {
    DetectedFace(box: BoundingBox(x1: box.x1 * x, y1: box.y1 * y, x2: box.x2 * x, y2: box.y2 * y), score: score,
                 landmarks: landmarks.map { Point2($0.x * x, $0.y * y) })
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

private func lap(_ clock: inout ContinuousClock.Instant) -> Double {
  let now = ContinuousClock.now
  defer { clock = now }
  return (now - clock).seconds
}
