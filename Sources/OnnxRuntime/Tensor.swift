import COnnxRuntime

/// Element types Swapline exchanges with models.
public enum TensorElementType: Sendable, Equatable {
  case float32, float16, int64, other(Int32)

  init(_ onnx: ONNXTensorElementDataType) {
    switch onnx {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: self = .float32
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: self = .float16
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: self = .int64
    default: self = .other(Int32(onnx.rawValue))
    }
  }

  var onnx: ONNXTensorElementDataType {
    switch self {
    case .float32: ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
    case .float16: ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16
    case .int64: ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64
    case .other(let raw): ONNXTensorElementDataType(rawValue: UInt32(raw))
    }
  }
}

/// A dense tensor that owns its buffer. Values are row-major (C order).
public struct Tensor: Sendable, Equatable {
  public enum Storage: Sendable, Equatable {
    case float32([Float])
    /// IEEE half floats as raw bit patterns (fp16 models such as inswapper_128_fp16).
    case float16([UInt16])
    case int64([Int64])
  }

  public let shape: [Int]
  public var storage: Storage

  public var elementCount: Int { shape.reduce(1, *) }

  public var elementType: TensorElementType {
    switch storage {
    case .float32: .float32
    case .float16: .float16
    case .int64: .int64
    }
  }

  public init(shape: [Int], floats: [Float]) {
    precondition(shape.reduce(1, *) == floats.count, "tensor shape \(shape) does not match \(floats.count) values")
    self.shape = shape
    self.storage = .float32(floats)
  }

  public init(shape: [Int], halfBits: [UInt16]) {
    precondition(shape.reduce(1, *) == halfBits.count, "tensor shape \(shape) does not match \(halfBits.count) values")
    self.shape = shape
    self.storage = .float16(halfBits)
  }

  public init(shape: [Int], int64s: [Int64]) {
    precondition(shape.reduce(1, *) == int64s.count, "tensor shape \(shape) does not match \(int64s.count) values")
    self.shape = shape
    self.storage = .int64(int64s)
  }

  /// The values as Float32, converting half floats and integers.
  public func floats() -> [Float] {
    switch storage {
    case .float32(let values): values
    case .float16(let bits): bits.map { Float(Float16(bitPattern: $0)) }
    case .int64(let values): values.map { Float($0) }
    }
  }

  /// Converts a float tensor to the element type a model input declares (float16 models).
  public func converted(to type: TensorElementType) -> Tensor {
    switch (storage, type) {
    case (.float32(let values), .float16):
      return Tensor(shape: shape, halfBits: values.map { Float16($0).bitPattern })
    case (.float16(let bits), .float32):
      return Tensor(shape: shape, floats: bits.map { Float(Float16(bitPattern: $0)) })
    default:
      return self
    }
  }
}

/// What a model declares for one input or output. Dynamic dimensions are -1.
public struct TensorInfo: Sendable, Equatable, CustomStringConvertible {
  public let name: String
  public let elementType: TensorElementType
  public let shape: [Int]

  public var description: String {
    "\(name) \(elementType) [\(shape.map { $0 < 0 ? "?" : String($0) }.joined(separator: ","))]"
  }
}
