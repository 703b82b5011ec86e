import FaceAnalysis
import Foundation
import Media
import OnnxRuntime
import Pipeline

/// What one video run measured (`swap --run-report FILE`, read by `swapline benchmark video`):
/// stage times, every model's runs timed in the pipeline and alone (the inference floor), peak memory.
public struct RunReport: Codable, Sendable {
  public struct Model: Codable, Sendable {
    public var runs: Int
    /// Time the pipeline spent in the model's runs (concurrently with other stages).
    public var pipelineSeconds: Double
    /// The same runs re-timed one after another with nothing else running.
    public var aloneSeconds: Double
  }
  public var frames: Int
  public var width: Int
  public var height: Int
  /// From the first chunk claimed to the output published (models already loaded).
  public var videoSeconds: Double
  public var loadSeconds: Double
  public var intraOpThreads: Int
  /// The thread plan chosen from the measured stage costs (as `--profile` prints it).
  public var placement: String?
  public var stages: [String: Double]
  public var models: [String: Model]
  /// Zoo landmarker (2dfan4, peppa_wutz) runs: on detection frames only, carried between.
  public var landmarkerRuns: Int?
  public var floorSeconds: Double { models.values.reduce(0) { $0 + $1.aloneSeconds } }
  /// VmHWM of the swapline process (ffmpeg children not included).
  public var peakResidentBytes: Int
}

extension RunReport {
  /// Measures a finished run: the pipeline's model times against the same runs re-timed alone,
  /// stage times, the thread plan and peak memory.
  static func measure(processor: SwapFrameProcessor, pool: InferencePool, target: String, info: MediaInfo, frames: Range<Int>, videoSeconds: Double,
                      plan: ThreadPlan, costs: StageCosts?) throws -> RunReport {
    guard let log = processor.runLog else { throw SwapError.failure("the run did not record its model runs") }
    let timer = processor.timer
    let detectorPath = processor.detector.backends.first?.session.modelPath
    let pipelineDetect = pool.residentSessions.filter { $0.modelPath == detectorPath }.reduce(0.0) { $0 + $1.runs.seconds }
    // The "landmark" stage is dlib's 68 points, plus a zoo landmarker's runs where one is used.
    let landmarkerSeconds = processor.neural?.landmarker?.session.runs.seconds ?? 0
    let pipelineLandmarks = processor.predictor == nil ? 0 : max(0, timer.seconds("landmark") - landmarkerSeconds)
    let peak = currentPeakResidentBytes()
    let floor = try inferenceFloor(log: log, target: target, info: info, detector: processor.detector,
                                   predictor: processor.predictor, neural: processor.neural, range: frames)
    var models: [String: Model] = [
      "face_detector": .init(runs: floor["face_detector"]!.runs, pipelineSeconds: pipelineDetect, aloneSeconds: floor["face_detector"]!.seconds),
      "shape_predictor_68": .init(runs: floor["shape_predictor_68"]!.runs, pipelineSeconds: pipelineLandmarks,
                                  aloneSeconds: floor["shape_predictor_68"]!.seconds)]
    if let solo = floor["face_swapper"] {
      models["face_swapper"] = .init(runs: solo.runs, pipelineSeconds: processor.neural?.swapper.session.runs.seconds ?? 0, aloneSeconds: solo.seconds)
    }
    return RunReport(frames: frames.count, width: info.width, height: info.height, videoSeconds: videoSeconds,
                     loadSeconds: timer.seconds("load models"), intraOpThreads: pool.runtime.threading.intraOpThreads,
                     placement: plan.description(costs: costs),
                     stages: Dictionary(uniqueKeysWithValues: timer.report.map { ($0.stage, $0.milliseconds / 1000) }),
                     models: models, landmarkerRuns: log.landmarkerRuns.count, peakResidentBytes: peak)
  }

  /// The inference floor: every model run the pipeline performed, re-run alone in order on the
  /// same frames (decoded again, untimed) with the same thread settings, timing only the model.
  /// A zoo swapper's runs are re-run the same way (same frames, landmarks and source input,
  /// masks included), timing only the swapper model: its solo time, with every core.
  static func inferenceFloor(log: ModelRunLog, target: String, info: MediaInfo, detector: FaceDetector, predictor: ShapePredictor?, neural: NeuralPlan?,
                      range: Range<Int>) throws -> [String: (runs: Int, seconds: Double)] {
    let detections = Dictionary(grouping: log.detections, by: \.frame)
    let predictions = Dictionary(grouping: log.predictions, by: \.frame)
    let swaps = Dictionary(grouping: log.swaps, by: \.frame)
    var detect = (runs: 0, seconds: 0.0), landmarks = (runs: 0, seconds: 0.0), swapper = (runs: 0, seconds: 0.0)
    let reader = try FrameReader(path: target, info: info, start: range.lowerBound, count: range.count)
    var index = range.lowerBound
    while let frame = try reader.next() {
      defer { index += 1 }
      let rgb = frame.converted(toChannels: 3)
      for run in detections[index] ?? [] {
        var timings = DetectionTimings()
        _ = try detector.detect(detector.prepare(rgb, size: run.size), timings: &timings)
        detect.runs += 1
        detect.seconds += timings.inference
      }
      for prediction in predictions[index] ?? [] {
        let started = ContinuousClock.now
        _ = predictor?.predict(in: rgb, box: prediction.box)
        landmarks.runs += 1
        landmarks.seconds += (ContinuousClock.now - started).milliseconds / 1000
      }
      for swap in swaps[index] ?? [] {
        guard let neural else { break }
        let before = neural.swapper.session.runs
        _ = try neural.swapper.swap(frame: rgb, landmarks: swap.landmarks, source: swap.source, pixelBoost: neural.boost,
                                    masks: neural.masks, landmarks68: swap.landmarks68)
        let after = neural.swapper.session.runs
        swapper.runs += after.count - before.count
        swapper.seconds += after.seconds - before.seconds
      }
    }
    var floor = ["face_detector": detect, "shape_predictor_68": landmarks]
    if neural != nil { floor["face_swapper"] = swapper }
    return floor
  }
}

/// Peak resident set of this process (VmHWM), in bytes.
public func currentPeakResidentBytes() -> Int {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
    let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
  else { return 0 }
  return kilobytes * 1024
}

