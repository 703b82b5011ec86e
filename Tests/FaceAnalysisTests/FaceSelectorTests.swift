import FaceAnalysis
import Testing

@Suite struct FaceSelectorTests {
  // Three faces: A left/top/small/best, B middle, C right/bottom/large/worst.
  let a = DetectedFace(box: BoundingBox(x1: 0, y1: 0, x2: 10, y2: 10), score: 0.9, landmarks: [])
  let b = DetectedFace(box: BoundingBox(x1: 50, y1: 20, x2: 70, y2: 40), score: 0.8, landmarks: [])
  let c = DetectedFace(box: BoundingBox(x1: 100, y1: 50, x2: 140, y2: 90), score: 0.6, landmarks: [])

  @Test func allEightOrders() {
    let faces = [b, c, a]
    #expect(FaceSelector.sorted(faces, by: .leftRight) == [a, b, c])
    #expect(FaceSelector.sorted(faces, by: .rightLeft) == [c, b, a])
    #expect(FaceSelector.sorted(faces, by: .topBottom) == [a, b, c])
    #expect(FaceSelector.sorted(faces, by: .bottomTop) == [c, b, a])
    #expect(FaceSelector.sorted(faces, by: .smallLarge) == [a, b, c])
    #expect(FaceSelector.sorted(faces, by: .largeSmall) == [c, b, a])
    #expect(FaceSelector.sorted(faces, by: .bestWorst) == [a, b, c])
    #expect(FaceSelector.sorted(faces, by: .worstBest) == [c, b, a])
  }

  @Test func modesManyOneAndReference() throws {
    let faces = [a, b, c]
    #expect(FaceSelector.select(faces, options: FaceSelectorOptions(mode: .many), referenceFaces: faces) { _ in fatalError() } == [c, b, a])
    #expect(FaceSelector.select(faces, options: FaceSelectorOptions(mode: .one, order: .leftRight), referenceFaces: faces) { _ in fatalError() } == [a])
    // Identities: a and c are the same person (cos 0.8 -> distance 0.1), b is someone else.
    func identity(_ face: DetectedFace) -> FaceEmbedding {
      face == b ? FaceEmbedding(raw: [-0.6, 0.8]) : face == a ? FaceEmbedding(raw: [1, 0]) : FaceEmbedding(raw: [0.8, 0.6])
    }
    let reference = FaceSelectorOptions(mode: .reference, order: .leftRight, referencePosition: 0, referenceDistance: 0.3)
    #expect(FaceSelector.select(faces, options: reference, referenceFaces: faces, embedding: identity) == [a, c])
    var second = reference
    second.referencePosition = 1
    #expect(FaceSelector.select(faces, options: second, referenceFaces: faces, embedding: identity) == [b])
    #expect(abs(identity(a).distance(to: identity(c)) - 0.1) < 1e-6)
  }
}
