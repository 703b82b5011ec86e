import Foundation
import Imaging
import Testing

/// `swapline detect --face-detector-model FAMILY` end to end for every family, on the detector stand-ins of
/// scripts/make_test_models.py linked under the zoo file names: the faces planted in each stand-in (its numpy
/// expectations in vendor/test-models/expectations.json, in 640 detector pixels) come back mapped onto an
/// 800x600 frame, which the detector sees shrunk to 640x480 on a 640x640 canvas, so every coordinate is
/// 1.25 times the detector's.
@Suite struct DetectorFamilyTests {
  struct Expected: Decodable {
    let box: [Float]
    let score: Float
    let landmarks: [[Float]]
  }

  typealias Report = CLITests.Report

  struct StandIn: Sendable, CustomTestStringConvertible {
    let family: String
    /// The file under vendor/test-models, also its key in expectations.json.
    let file: String
    /// The name the CLI looks for in --models-dir (scrfd: scrfd_2.5g before the offline scrfd_2.5g_kps).
    let zooName: String
    var testDescription: String { family }
  }

  static let standIns = [StandIn(family: "retinaface", file: "retinaface_10g_synthetic.onnx", zooName: "retinaface_10g.onnx"),
                         StandIn(family: "scrfd", file: "scrfd_2.5g_signature.onnx", zooName: "scrfd_2.5g.onnx"),
                         StandIn(family: "yolo_face", file: "yoloface_8n_synthetic.onnx", zooName: "yoloface_8n.onnx"),
                         StandIn(family: "yunet", file: "yunet_2023_mar_synthetic.onnx", zooName: "yunet_2023_mar.onnx")]
  static let landmarkNames = ["left_eye", "right_eye", "nose", "left_mouth", "right_mouth"]
  static let frameWidth = 800, frameHeight = 600

  let models: String
  let image: String
  let expectations: [String: [Expected]]

  init() throws {
    models = try CLITests.modelsFolder(Self.standIns.map { ("vendor/test-models/" + $0.file, $0.zooName) })
    image = CLITests.temporaryDirectory() + "/plain.png"
    try ImageIO.write(Image(width: Self.frameWidth, height: Self.frameHeight, channels: 3, fill: 90), to: image)
    let path = CLITests.root + "/vendor/test-models/expectations.json"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIFixtureError("\(path) missing: run `make setup-dev` (scripts/make_test_models.py)")
    }
    expectations = try JSONDecoder().decode([String: [Expected]].self, from: data)
  }

  struct CLIFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  /// FaceFusion's mapping back from detector pixels: the frame is shrunk by min(640 / h, 640 / w) to whole
  /// pixels (truncated), and coordinates are multiplied by original / shrunk size on each axis.
  static var ratio: (x: Float, y: Float) {
    let scale = min(640 / Double(frameHeight), 640 / Double(frameWidth))
    let width = Int(Double(frameWidth) * scale), height = Int(Double(frameHeight) * scale)
    return (Float(frameWidth) / Float(width), Float(frameHeight) / Float(height))
  }

  /// Expected faces in frame pixels.
  func expected(_ key: String) throws -> [Expected] {
    let (rx, ry) = Self.ratio
    return try #require(expectations[key], "no \(key) in expectations.json: rerun scripts/make_test_models.py").map {
      Expected(box: [$0.box[0] * rx, $0.box[1] * ry, $0.box[2] * rx, $0.box[3] * ry], score: $0.score,
               landmarks: $0.landmarks.map { [$0[0] * rx, $0[1] * ry] })
    }
  }

  func detect(_ family: String, _ extra: [String] = []) throws -> Report {
    let result = try CLITests.swapline(["detect", image, "--json", "--face-detector-model", family, "--models-dir", models] + extra)
    #expect(result.status == 0, "\(family): \(result.stderr)")
    let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    #expect(report.width == Self.frameWidth && report.height == Self.frameHeight)
    return report
  }

  /// Same faces in the same order (best score first): scores to 1e-4, boxes and keypoints to a pixel.
  func compare(_ faces: [Report.Face], _ expected: [Expected], _ label: String) {
    #expect(faces.count == expected.count, "\(label): \(faces.map(\.score)) vs \(expected.map(\.score))")
    for (index, (face, want)) in zip(faces, expected).enumerated() {
      #expect(abs(face.score - want.score) < 1e-4, "\(label) face \(index): score \(face.score) vs \(want.score)")
      #expect(zip(face.box, want.box).allSatisfy { abs($0 - $1) <= 1 }, "\(label) face \(index): box \(face.box) vs \(want.box)")
      for (name, point) in zip(Self.landmarkNames, want.landmarks) {
        let got = face.landmarks[name] ?? []
        #expect(got.count == 2 && abs(got[0] - point[0]) <= 1 && abs(got[1] - point[1]) <= 1,
                "\(label) face \(index) \(name): \(got) vs \(point)")
      }
    }
  }

  static func iou(_ a: [Float], _ b: [Float]) -> Float {
    let width = min(a[2], b[2]) - max(a[0], b[0]), height = min(a[3], b[3]) - max(a[1], b[1])
    let intersection = width > 0 && height > 0 ? width * height : 0
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection
    return union > 0 ? intersection / union : 0
  }

  /// Each family alone: the stand-in's planted faces (NMS 0.4 within the model), on the 800x600 frame, and the
  /// model file used is the one under the zoo name.
  @Test(arguments: standIns)
  func eachFamilyFindsItsPlantedFaces(standIn: StandIn) throws {
    let report = try detect(standIn.family)
    #expect(report.models.map { ($0 as NSString).lastPathComponent } == [standIn.zooName])
    compare(report.faces, try expected(standIn.file), standIn.family)
  }

  /// many = retinaface + scrfd + yolo_face (FaceFusion's; yunet is not part of it even when present), all their
  /// candidates merged by one NMS at IoU 0.1.
  @Test func manyMergesTheFamiliesWithOneTightNMS() throws {
    let report = try detect("many")
    #expect(report.models.map { ($0 as NSString).lastPathComponent } == ["retinaface_10g.onnx", "scrfd_2.5g.onnx", "yoloface_8n.onnx"])
    // The generator's numpy merge of the three stand-ins' raw candidates.
    compare(report.faces, try expected("many"), "many")

    // The same from the per-family CLI results: greedy NMS at 0.1 over their union, best score first. (Equal to
    // merging the raw candidates for these stand-ins: nothing a family's own NMS removed survives at 0.1.)
    let perFamily = try ["retinaface", "scrfd", "yolo_face"].flatMap { try detect($0).faces }
    var merged: [Report.Face] = []
    for face in perFamily.sorted(by: { $0.score > $1.score }) where merged.allSatisfy({ Self.iou($0.box, face.box) <= 0.1 }) {
      merged.append(face)
    }
    #expect(report.faces.map(\.score) == merged.map(\.score))
    #expect(zip(report.faces, merged).allSatisfy { zip($0.box, $1.box).allSatisfy { abs($0 - $1) < 1e-3 } })

    let retina = try expected("retinaface_10g_synthetic.onnx"), scrfd = try expected("scrfd_2.5g_signature.onnx")
    let yolo = try expected("yoloface_8n_synthetic.onnx"), yunet = try expected("yunet_2023_mar_synthetic.onnx")
    func matches(_ box: [Float]) -> [Report.Face] { report.faces.filter { Self.iou($0.box, box) > 0.5 } }
    // Overlapping planted faces collapse to the best one: retinaface's 0.88 near copy of YOLOFace's 0.9 face,
    // and SCRFD's 0.75 face under retinaface's 0.8 one (IoU 0.23: kept by each model's own NMS 0.4).
    let nearCopy = try #require(retina.first { abs($0.score - 0.88) < 1e-4 })
    let overlapped = try #require(scrfd.first { abs($0.score - 0.75) < 1e-4 })
    let over = try #require(retina.first { abs($0.score - 0.8) < 1e-4 })
    #expect(Self.iou(nearCopy.box, yolo[0].box) > 0.8 && Self.iou(overlapped.box, over.box) > 0.1)
    #expect(matches(nearCopy.box).count == 1 && abs(matches(nearCopy.box)[0].score - yolo[0].score) < 1e-4)
    #expect(!report.faces.contains { abs($0.score - overlapped.score) < 1e-4 })
    #expect(report.faces.contains { abs($0.score - over.score) < 1e-4 && Self.iou($0.box, over.box) > 0.99 })
    // Distinct planted faces all appear, each once.
    let distinct = [retina[0], retina[3], scrfd[0], yolo[1]]
    for face in distinct {
      #expect(matches(face.box).count == 1 && abs(matches(face.box)[0].score - face.score) < 1e-4, "\(face.box) missing")
    }
    #expect(report.faces.count == 6)
    // YuNet's faces are not looked for.
    for face in yunet { #expect(matches(face.box).isEmpty, "yunet face \(face.box) in many") }
  }

  /// --face-detector-score keeps the planted faces at or above it (RetinaFace keeps score >= threshold).
  @Test func detectorScoreFiltersTheRetinafaceStandIn() throws {
    let all = try expected("retinaface_10g_synthetic.onnx")
    for threshold: Float in [0.7, 0.9] {
      let report = try detect("retinaface", ["--face-detector-score", String(threshold)])
      let kept = all.filter { $0.score >= threshold }
      #expect(!kept.isEmpty && kept.count < all.count)
      compare(report.faces, kept, "retinaface at \(threshold)")
      #expect(report.faces.allSatisfy { $0.score >= threshold })
    }
    // At 0.25 the planted 0.3 face comes in too (stride 32, row 2, column 15, second anchor: anchor (480, 64) and
    // box distances of one stride, all keypoints on the anchor), last; the 0.65 near duplicate still loses to NMS.
    let (rx, ry) = Self.ratio
    let low = Expected(box: [448 * rx, 32 * ry, 512 * rx, 96 * ry], score: 0.3, landmarks: Array(repeating: [480 * rx, 64 * ry], count: 5))
    compare(try detect("retinaface", ["--face-detector-score", "0.25"]).faces, all + [low], "retinaface at 0.25")
  }
}
