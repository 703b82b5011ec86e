import Foundation
import Models
import Testing

@Suite struct CatalogTests {
  @Test func namesAndFilesAreUnique() {
    let names = ModelCatalog.all.map(\.name)
    #expect(Set(names).count == names.count)
    #expect(Set(ModelCatalog.all.map(\.fileName)).count == names.count)
  }

  @Test func theZooIsCompleteWithFaceFusionsNames() {
    let required = ["retinaface_10g", "scrfd_2.5g", "yoloface_8n", "yunet_2023_mar", "2dfan4", "peppa_wutz", "fan_68_5",
                    "arcface_w600k_r50", "inswapper_128", "inswapper_128_fp16", "hyperswap_1a_256", "hyperswap_1b_256",
                    "hyperswap_1c_256", "simswap_256", "simswap_unofficial_512", "ghost_1_256", "ghost_2_256", "ghost_3_256",
                    "crossface_ghost", "crossface_simswap", "crossface_hififace", "blendswap_256", "uniface_256",
                    "hififace_unofficial_256", "xseg_1", "xseg_2", "xseg_3", "bisenet_resnet_18", "bisenet_resnet_34",
                    "gfpgan_1.4", "codeformer", "gpen_bfr_512", "real_esrgan_x2", "real_esrgan_x4"]
    for name in required { #expect(ModelCatalog.spec(named: name) != nil, "\(name) missing") }
  }

  @Test func everySwapperHasItsContractAndCompanions() {
    for spec in ModelCatalog.specs(role: .faceSwapper) {
      #expect(spec.contract?.template != nil, "\(spec.name) has no template")
      #expect(spec.swapperType != nil)
      for companion in spec.companions { #expect(ModelCatalog.spec(named: companion)?.role == .identityConverter) }
    }
    let inswapper = ModelCatalog.spec(named: "inswapper_128")!
    #expect(inswapper.contract == InputContract(width: 128, height: 128, template: .arcface_128))
    #expect(inswapper.licence.commercialUse == false)
    #expect(ModelCatalog.spec(named: "simswap_256")!.contract?.mean == [0.485, 0.456, 0.406])
    #expect(ModelCatalog.spec(named: "real_esrgan_x4")!.scale == 4)
  }

  @Test func everyModelHasALicenceAndTheOfflinePackHasHashes() {
    for spec in ModelCatalog.all { #expect(!spec.licence.identifier.isEmpty) }
    let pack = ModelCatalog.offlinePack
    #expect(pack.map(\.name) == ["scrfd_2.5g_kps", "shape_predictor_68_face_landmarks", "dlib_face_recognition_resnet_model_v1",
                                 "palm_detection_full", "hand_landmark_full"])
    for spec in pack { #expect(spec.sha256?.count == 64 && spec.isOfflinePack && spec.defaultBaseURL == nil) }
    #expect(ModelCatalog.spec(named: "yoloface_8n")!.defaultBaseURL?.absoluteString.hasSuffix("/models-3.0.0/") == true)
  }

  @Test func templatesHaveFivePointsInsideTheUnitSquare() {
    for template in WarpTemplate.allCases {
      #expect(template.points.count == 5)
      #expect(template.points.allSatisfy { (0...1).contains($0.x) && (0...1).contains($0.y) })
      #expect(template.points[0].x < template.points[1].x)
    }
  }

  @Test func modelsDirectoryResolutionOrder() throws {
    let cwd = NSTemporaryDirectory() + "swapline-cwd-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
    let env = ["SWAPLINE_MODELS_DIR": "/env/models"]
    #expect(ModelsDirectory.resolve(explicit: "/cli", environment: env, currentDirectory: cwd, home: "/home/u") == "/cli")
    #expect(ModelsDirectory.resolve(explicit: nil, environment: env, currentDirectory: cwd, home: "/home/u") == "/env/models")
    #expect(ModelsDirectory.resolve(explicit: nil, environment: [:], currentDirectory: cwd, home: "/home/u") == "/home/u/.local/share/swapline/models")
    #expect(ModelsDirectory.resolve(explicit: nil, environment: ["XDG_DATA_HOME": "/xdg"], currentDirectory: cwd, home: "/h") == "/xdg/swapline/models")
    try FileManager.default.createDirectory(atPath: cwd + "/models", withIntermediateDirectories: true)
    #expect(ModelsDirectory.resolve(explicit: nil, environment: [:], currentDirectory: cwd, home: "/home/u") == cwd + "/models")
  }
}
