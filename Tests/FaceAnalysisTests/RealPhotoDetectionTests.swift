import FaceAnalysis
import Imaging
import Testing

/// The offline SCRFD detector on the public-domain sample photos.
@Suite struct RealPhotoDetectionTests {
  /// Eyes above the nose, the nose above the mouth corners, left features left of right ones.
  func expectAnatomicalOrder(_ face: DetectedFace, sourceLocation: SourceLocation = #_sourceLocation) {
    let p = face.landmarks
    #expect(p.count == 5, sourceLocation: sourceLocation)
    guard p.count == 5 else { return }
    let (leftEye, rightEye, nose, leftMouth, rightMouth) = (p[0], p[1], p[2], p[3], p[4])
    #expect(leftEye.x < rightEye.x && leftMouth.x < rightMouth.x, sourceLocation: sourceLocation)
    #expect(max(leftEye.y, rightEye.y) < nose.y, sourceLocation: sourceLocation)
    #expect(nose.y < min(leftMouth.y, rightMouth.y), sourceLocation: sourceLocation)
    for point in p {
      #expect(point.x > face.box.x1 && point.x < face.box.x2 && point.y > face.box.y1 && point.y < face.box.y2,
              sourceLocation: sourceLocation)
    }
  }

  @Test func graceHopperHasExactlyOneFace() throws {
    let image = try Fixtures.sample("grace_hopper.jpg")
    let faces = try Fixtures.detector().detect(image)
    #expect(faces.count == 1)
    guard let face = faces.first else { return }
    #expect(face.score > 0.7)  // 0.78 here; glasses and a cap lower SCRFD-2.5G's confidence
    expectAnatomicalOrder(face)
    // The face sits in the upper middle of the 512x600 portrait.
    #expect(face.box.x1 > 100 && face.box.x2 < 420 && face.box.y1 > 50 && face.box.y2 < 400)
  }

  @Test func astronautHasExactlyOneFace() throws {
    let faces = try Fixtures.detector().detect(Fixtures.sample("astronaut.png"))
    #expect(faces.count == 1)
    if let face = faces.first { expectAnatomicalOrder(face) }
  }

  @Test func solvayConferenceHasAtLeast25Faces() throws {
    let faces = try Fixtures.detector().detect(Fixtures.sample("solvay_conference_1927.jpg"))
    #expect(faces.count >= 25)
    #expect(faces.count <= 29)  // 29 people are in the photo: more would be false positives
  }

  @Test func detectorAnglesFindARotatedFaceAndMapItBack() throws {
    let upright = try Fixtures.sample("grace_hopper.jpg")
    let reference = try #require(try Fixtures.detector().detect(upright).first)
    // Turn the photo a quarter clockwise: the face lies on its side and plain detection may miss it.
    let turned = upright.rotated(quarterTurns: 1)
    let faces = try Fixtures.detector(options: FaceDetectorOptions(angles: [0, 90, 180, 270])).detect(turned)
    #expect(faces.count == 1)
    guard let face = faces.first else { return }
    // Where the upright keypoints land on the turned image: (x, y) -> (H - y, x).
    let height = Float(upright.height)
    for (found, expected) in zip(face.landmarks, reference.landmarks) {
      #expect(abs(found.x - (height - expected.y)) < 6 && abs(found.y - expected.x) < 6)
    }
  }
}
