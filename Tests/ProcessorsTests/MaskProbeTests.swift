import Foundation
import Imaging
import OnnxRuntime
import Processors
import Testing

/// Occluder and parser input conventions, on probe stand-ins (scripts/make_test_models.py) fed a crop
/// whose left and right halves are different colours. FaceFusion's face_masker.py:
/// create_occlusion_mask feeds xseg the crop resized to 256, NHWC, in OpenCV's BGR channel order, / 255;
/// create_region_mask feeds bisenet the crop resized to 512, RGB planes, (x / 255 - mean) / std with
/// ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), and keeps the pixels whose arg-max
/// class is a chosen region; both masks are then blurred (sigma 5) and mapped (clip(0.5, 1) - 0.5) x 2.
@Suite struct MaskProbeTests {
  static func session(_ file: String) throws -> InferenceSession {
    try InferenceSession(runtime: NeuralSwapperTests.runtime, modelPath: NeuralSwapperTests.model(file))
  }

  /// A 256 x 256 crop: `left` in columns 0-127, `right` in 128-255 (RGB).
  static func halves(left: [UInt8], right: [UInt8]) -> Image {
    var crop = Image(width: 256, height: 256, channels: 3)
    for y in 0..<256 {
      for x in 0..<256 {
        for k in 0..<3 { crop.pixels[(y * 256 + x) * 3 + k] = x < 128 ? left[k] : right[k] }
      }
    }
    return crop
  }

  /// The mean mask value over each half's interior (32 px from the edges and the seam).
  static func halfMeans(_ mask: Mask) -> (left: Float, right: Float) {
    func mean(_ xs: Range<Int>) -> Float {
      var total: Float = 0, count = 0
      for y in 32..<224 { for x in xs { total += mask[x, y]; count += 1 } }
      return total / Float(count)
    }
    return (mean(32..<96), mean(160..<224))
  }

  @Test func probesHaveTheZooSignatures() throws {
    let xseg = try Self.session("xseg_1_probe.onnx"), parser = try Self.session("bisenet_resnet_34_probe.onnx")
    #expect(xseg.inputs.map(\.shape) == [[1, 256, 256, 3]] && xseg.outputs.map(\.shape) == [[1, 256, 256, 1]])
    #expect(parser.inputs.map(\.shape) == [[1, 3, 512, 512]] && parser.outputs.map(\.shape) == [[1, 19, 512, 512]])
    #expect(xseg.inputs[0].name == "input" && parser.inputs[0].name == "input")
  }

  /// The xseg probe's mask is its input channel 0, which is blue / 255 under FaceFusion's feed. Left:
  /// pure blue, 1 -> kept. Right: red 255, blue 100 -> 0.39, which the feathering maps to 0 (it would be
  /// 255 -> 1 without the / 255, and red 1 -> 1 in RGB order).
  @Test func occlusionReadsBlueFirstOverTwoFiftyFive() throws {
    let crop = Self.halves(left: [0, 0, 255], right: [255, 0, 100])
    let mask = try FaceMasker.occlusion(crop, occluders: [try Self.session("xseg_1_probe.onnx")])
    let means = Self.halfMeans(mask)
    #expect(means.left > 0.999 && means.right < 0.001, "\(means)")
  }

  /// The bisenet probe's skin logit is its input plane 0 against a background logit of -2: skin where
  /// (red / 255 - 0.485) / 0.229 > -2, i.e. red 8 (-1.98) is skin and red 6 (-2.02) is not. The right
  /// half's blue 255 would be skin if the planes were fed in BGR order; another mean or std (green's, or
  /// 0.5 / 0.5) moves the threshold past one of the halves.
  @Test func regionReadsRedFirstWithImageNetNormalisation() throws {
    let crop = Self.halves(left: [8, 0, 0], right: [6, 0, 255])
    let mask = try FaceMasker.region(crop, parser: try Self.session("bisenet_resnet_34_probe.onnx"), regions: [.skin])
    let means = Self.halfMeans(mask)
    #expect(means.left > 0.999 && means.right < 0.001, "\(means)")
    // Background (class 0) is never a kept region: with only the nose kept, nothing is.
    let none = Self.halfMeans(try FaceMasker.region(crop, parser: try Self.session("bisenet_resnet_34_probe.onnx"), regions: [.nose]))
    #expect(none.left < 0.001 && none.right < 0.001, "\(none)")
  }
}
