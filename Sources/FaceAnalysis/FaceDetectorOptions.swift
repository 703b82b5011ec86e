/// FaceFusion's `--face-detector-model` choices.
public enum FaceDetectorModel: String, Sendable, CaseIterable, Codable {
  /// retinaface + scrfd + yolo_face together, merged with a tight NMS (FaceFusion's "many").
  case many
  case retinaface
  case scrfd
  case yoloFace = "yolo_face"
  case yunet

  /// The model families this choice runs.
  public var families: [FaceDetectorModel] {
    self == .many ? [.retinaface, .scrfd, .yoloFace] : [self]
  }

  /// Catalog names of the model files that implement a family, preferred first. The SCRFD
  /// family also runs on the offline pack's InsightFace SCRFD-2.5G-kps export.
  public var catalogNames: [String] {
    switch self {
    case .many: []
    case .retinaface: ["retinaface_10g"]
    case .scrfd: ["scrfd_2.5g", "scrfd_2.5g_kps"]
    case .yoloFace: ["yoloface_8n"]
    case .yunet: ["yunet_2023_mar"]
    }
  }

  /// Input pixel normalisation FaceFusion applies for the family.
  var normalisation: (offset: Float, scale: Float) {
    switch self {
    case .retinaface, .scrfd, .many: (127.5, 1 / 128)  // (x - 127.5) / 128
    case .yoloFace: (0, 1 / 255)                      // x / 255
    case .yunet: (0, 1)                               // raw 0-255
    }
  }

  /// Sizes FaceFusion offers per family (YOLOFace and YuNet are exported at 640 only).
  public var supportedSizes: [Int] {
    switch self {
    case .yoloFace, .yunet: [640]
    default: [160, 320, 480, 512, 640, 768, 960, 1024]
    }
  }
}

/// Options of the face detector stage, with FaceFusion's names and defaults.
public struct FaceDetectorOptions: Sendable, Equatable {
  /// `--face-detector-model`. Our default is scrfd because the offline pack carries it
  /// (FaceFusion defaults to yolo_face, which needs a download).
  public var model: FaceDetectorModel
  /// `--face-detector-size`, the square side of the detector input (default 640).
  public var size: Int
  /// `--face-detector-score`: minimum confidence (default 0.5).
  public var scoreThreshold: Float
  /// `--face-detector-angles`: extra passes on the image rotated by these degrees (0/90/180/270).
  public var angles: [Int]

  public init(model: FaceDetectorModel = .scrfd, size: Int = 640, scoreThreshold: Float = 0.5, angles: [Int] = [0]) {
    self.model = model
    self.size = size
    self.scoreThreshold = scoreThreshold
    self.angles = angles.isEmpty ? [0] : angles
  }

  /// FaceFusion's NMS IoU threshold: tighter when several models or angles can find the same face twice.
  public var nmsThreshold: Float {
    if model == .many { return 0.1 }
    switch angles.count {
    case 2: return 0.3
    case 3: return 0.2
    case 4...: return 0.1
    default: return 0.4
    }
  }
}
