import FaceAnalysis
import Foundation
import Imaging
import Models
import OnnxRuntime
import Processors
import Testing

@Suite(.serialized) struct EnhancerTests {
  @Test func tiledFrameEnhancementStitchesWithoutSeams() throws {
    // Nearest x2 stand-in with real_esrgan_x2's tiling (256 px tiles, 8 px overlap): the tiled,
    // stitched result must equal a nearest upscale of the whole frame, pixel for pixel.
    let session = try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: NeuralSwapperTests.model("real_esrgan_x2_nearest.onnx"))
    let enhancer = try FrameEnhancer(spec: try #require(ModelCatalog.spec(named: "real_esrgan_x2")), session: session)
    #expect(enhancer.tileSize == 256 && enhancer.overlap == 8 && enhancer.scale == 2)
    var frame = Image(width: 300, height: 250, channels: 3)
    for index in frame.pixels.indices { frame.pixels[index] = UInt8(truncatingIfNeeded: index &* 13 &+ index / 900) }
    let enhanced = try enhancer.enhance(frame: frame, blend: 100)
    #expect(enhanced.width == 600 && enhanced.height == 500)
    var mismatches = 0
    for y in 0..<500 {
      for x in 0..<600 {
        for k in 0..<3 where enhanced.pixels[(y * 600 + x) * 3 + k] != frame.pixels[((y / 2) * 300 + x / 2) * 3 + k] { mismatches += 1 }
      }
    }
    #expect(mismatches == 0)
    // At blend 80 the result sits between the bilinear upscale and the enhanced frame.
    let blended = try enhancer.enhance(frame: frame, blend: 80)
    let bilinear = frame.resizedBilinear(width: 600, height: 500)
    let index = (123 * 600 + 77) * 3
    let expected = Float(bilinear.pixels[index]) * 0.2 + Float(enhanced.pixels[index]) * 0.8
    #expect(abs(Float(blended.pixels[index]) - expected) <= 1)
  }

  @Test func faceEnhancerChangesTheFaceAndOnlyTheFace() throws {
    let f = try ClassicSwapperTests.fixture
    let session = try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: NeuralSwapperTests.model("gfpgan_1.4_negative.onnx"))
    let enhancer = try FaceEnhancer(spec: try #require(ModelCatalog.spec(named: "gfpgan_1.4")), session: session)
    let full = try enhancer.enhance(frame: f.target, landmarks: f.targetFace.landmarks, blend: 100)
    let partial = try enhancer.enhance(frame: f.target, landmarks: f.targetFace.landmarks, blend: 50)
    let nose = f.targetFace.landmarks[2]
    let offset = (Int(nose.y) * f.target.width + Int(nose.x)) * 3
    let original = Int(f.target.pixels[offset])
    // The stand-in inverts the face: at the nose, full blend gives about 255 - original, half blend about 127.
    #expect(abs(Int(full.pixels[offset]) - (255 - original)) <= 3)
    #expect(abs(Int(partial.pixels[offset]) - (original + (255 - original)) / 2) <= 3)
    // Far from the face nothing moves.
    #expect(Array(full.pixels[0..<300]) == Array(f.target.pixels[0..<300]))
  }
}
