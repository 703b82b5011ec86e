import FaceAnalysis
import Testing

@Suite struct FaceTrackerTests {
  func face(x: Float, y: Float = 100, size: Float = 80, jitter: Float = 0) -> DetectedFace {
    DetectedFace(box: BoundingBox(x1: x, y1: y, x2: x + size, y2: y + size), score: 0.9,
                 landmarks: [Point2(x + 25 + jitter, y + 30), Point2(x + 55 - jitter, y + 30), Point2(x + 40, y + 45),
                             Point2(x + 28, y + 60), Point2(x + 52, y + 60)])
  }

  @Test func smoothingDampsKeypointJitter() {
    var tracker = FaceTracker()
    var raw: [Float] = [], smoothed: [Float] = []
    for frame in 0..<40 {
      let jitter: Float = frame % 2 == 0 ? 3 : -3  // a static face whose eye estimate flickers by 6 px
      let detection = face(x: 100, jitter: jitter)
      raw.append(detection.landmarks[0].x)
      smoothed.append(tracker.update(with: [detection])[0].landmarks[0].x)
    }
    func swing(_ values: [Float]) -> Float { zip(values.dropFirst(), values).map { abs($0 - $1) }.reduce(0, +) / Float(values.count - 1) }
    #expect(swing(Array(smoothed.suffix(20))) < 0.5 * swing(Array(raw.suffix(20))))
  }

  @Test func predictionCarriesMotionBetweenDetections() {
    var tracker = FaceTracker(options: .init(smoothing: 1))
    _ = tracker.update(with: [face(x: 100)])
    _ = tracker.update(with: [face(x: 104)])
    let predicted = tracker.predict()
    #expect(predicted.count == 1 && abs(predicted[0].box.x1 - 108) < 1e-4)
  }

  @Test func velocityIsPerFrameWhenDetectingEveryKthFrame() {
    var tracker = FaceTracker(options: .init(smoothing: 1))
    _ = tracker.update(with: [face(x: 100)])
    _ = tracker.predict()  // frame 1: no detection, no velocity yet
    _ = tracker.update(with: [face(x: 104)])  // frame 2: moved 4 px over 2 frames
    #expect(abs(tracker.predict()[0].box.x1 - 106) < 1e-4)
  }

  @Test func aMissedDetectionKeepsTheFaceUntilTheTrackEnds() {
    var tracker = FaceTracker(options: .init(maxMisses: 1))
    _ = tracker.update(with: [face(x: 100), face(x: 400)])
    // The face at 400 is missed once: it is still returned (no flash of the original face).
    let missed = tracker.update(with: [face(x: 101)])
    #expect(missed.count == 2 && missed.contains { abs($0.box.x1 - 400) < 1e-4 })
    #expect(tracker.update(with: [face(x: 102), face(x: 401)]).count == 2)  // and is matched again
    _ = tracker.update(with: [face(x: 103)])
    _ = tracker.update(with: [face(x: 104)])  // second miss in a row: the track ends
    #expect(tracker.predict().count == 1)
  }
}
