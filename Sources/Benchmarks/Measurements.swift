import FaceAnalysis
import Foundation
import Imaging
import OnnxRuntime

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
public func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  guard !sorted.isEmpty else { return 0 }
  return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Milliseconds `body` took.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
  let started = ContinuousClock.now
  try body()
  let elapsed = (ContinuousClock.now - started).components
  return Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
}

/// CPU time of the calling thread.
public func threadCPUSeconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Detection latency from Swift against the same ONNX session run alone on the same prepared
/// tensor, interleaved in one run so machine noise hits both alike; the difference is what our
/// pre/post-processing costs.
public struct DetectionLatency: Sendable {
  /// Milliseconds per timed iteration.
  public var full: [Double] = []
  public var bare: [Double] = []
  /// Summed over the timed iterations, in seconds.
  public var stages = DetectionTimings()
  public var faces = 0

  /// `iterations` timed rounds after `warmup` untimed ones, on one backend at one angle.
  public static func measure(_ detector: FaceDetector, on picture: Image, size: Int, iterations: Int, warmup: Int) throws -> DetectionLatency {
    let backend = detector.backends[0]
    let prepared = FaceDetector.prepareInput(picture, size: size, family: backend.family, fitToFrame: backend.fitsFrame)
    let inputName = backend.session.inputs[0].name
    var result = DetectionLatency()
    for iteration in 0..<(warmup + iterations) {
      var timings = DetectionTimings()
      var faces = 0
      let full = try milliseconds { faces = try detector.detect(picture, timings: &timings).count }
      let bare = try milliseconds { _ = try backend.session.run([inputName: prepared.tensor]) }
      result.faces = faces
      guard iteration >= warmup else { continue }
      result.full.append(full)
      result.bare.append(bare)
      result.stages.preprocess += timings.preprocess
      result.stages.inference += timings.inference
      result.stages.postprocess += timings.postprocess
    }
    return result
  }
}

/// Throughput of the image kernels on a real photo, in megapixels per second of output.
public enum KernelThroughput {
  public struct Result: Sendable {
    public let kernel: String
    /// Median milliseconds of one run.
    public let milliseconds: Double
    public let megapixelsPerSecond: Double
  }

  /// Each kernel once untimed, then `iterations` timed runs.
  public static func measure(_ picture: Image, iterations: Int) -> [Result] {
    let fit = min(640.0 / Double(picture.width), 640.0 / Double(picture.height))
    let (smallWidth, smallHeight) = (Int(Double(picture.width) * fit), Int(Double(picture.height) * fit))
    let angle = 10.0 * Double.pi / 180
    let tilt = AffineTransform(a: cos(angle), b: -sin(angle), tx: 200, c: sin(angle), d: cos(angle), ty: -150)
    // A slightly turned square around the picture's centre (half its shorter side) as the face
    // crop, so the paste-back region lies inside the picture whatever its size.
    let scale = 512 / (0.5 * Double(min(picture.width, picture.height)))
    let (centreX, centreY) = (Double(picture.width) / 2, Double(picture.height) / 2)
    let crop = AffineTransform(a: scale, b: 0.15 * scale, tx: 256 - scale * (centreX + 0.15 * centreY),
                               c: -0.15 * scale, d: scale, ty: 256 - scale * (-0.15 * centreX + centreY))
    let frameMask = Mask(width: picture.width, height: picture.height, fill: 0.5)
    let faceCrop = picture.warpedAffine(crop, width: 512, height: 512)
    let cropMask = Mask.box(width: 512, height: 512)
    let kernels: [(String, Int, () -> Void)] = [
      ("resize bilinear to 640", smallWidth * smallHeight, { _ = picture.resizedBilinear(width: smallWidth, height: smallHeight) }),
      ("resize area to 640", smallWidth * smallHeight, { _ = picture.resizedArea(width: smallWidth, height: smallHeight) }),
      ("resize bilinear x2 up", picture.width * picture.height * 4,
       { _ = picture.resizedBilinear(width: picture.width * 2, height: picture.height * 2) }),
      ("rotate quarter turn", picture.width * picture.height, { _ = picture.rotated(quarterTurns: 1) }),
      ("warp affine full frame (10 degrees)", picture.width * picture.height,
       { _ = picture.warpedAffine(tilt, width: picture.width, height: picture.height) }),
      ("warp affine 512x512 face crop", 512 * 512, { _ = picture.warpedAffine(crop, width: 512, height: 512) }),
      ("gaussian blur 512x512 mask (sigma 32, box 0.5)", 512 * 512, { _ = Mask.box(width: 512, height: 512, blur: 0.5) }),
      ("gaussian blur full-frame mask (sigma 8)", picture.width * picture.height, { _ = frameMask.gaussianBlurred(sigma: 8) }),
      ("paste back 512x512 crop (warp + blend)", 512 * 512, { _ = picture.pastingBack(faceCrop, mask: cropMask, transform: crop) }),
      ("detector input 640 (resize + planar float)", 640 * 640, { _ = FaceDetector.prepareInput(picture, size: 640, family: .scrfd) }),
    ]
    return kernels.map { name, outputPixels, body in
      body()
      let ms = median((0..<iterations).map { _ in milliseconds(body) })
      return Result(kernel: name, milliseconds: ms, megapixelsPerSecond: Double(outputPixels) / 1e6 / (ms / 1000))
    }
  }
}
