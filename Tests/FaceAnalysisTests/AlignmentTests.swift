import FaceAnalysis
import Imaging
import Models
import Testing

@Suite struct AlignmentTests {
  @Test(arguments: [(WarpTemplate.arcface_128, 128), (.arcface_112_v2, 112), (.ffhq_512, 512)])
  func alignedCropPutsTheKeypointsOnTheTemplate(template: WarpTemplate, size: Int) throws {
    let frame = try Fixtures.sample("grace_hopper.jpg")
    let face = try #require(try Fixtures.detector().detect(frame).first)
    let aligned = try #require(FaceAlignment.crop(frame, landmarks: face.landmarks, template: template, size: size))
    #expect(aligned.crop.width == size && aligned.crop.height == size)
    // Five points cannot all land exactly under a similarity; a frontal face lands within 4% of the crop.
    for (point, target) in zip(face.landmarks, template.points) {
      let mapped = aligned.transform.apply(x: Double(point.x), y: Double(point.y))
      #expect(abs(mapped.x - Double(target.x) * Double(size)) < 0.04 * Double(size))
      #expect(abs(mapped.y - Double(target.y) * Double(size)) < 0.04 * Double(size))
    }
    // Detecting again inside the 512 crop finds the face where the template says.
    if size == 512 {
      let again = try #require(try Fixtures.detector().detect(aligned.crop).first)
      #expect(abs(again.landmarks[2].x - template.points[2].x * 512) < 15)
      #expect(abs(again.landmarks[2].y - template.points[2].y * 512) < 15)
    }
  }
}
