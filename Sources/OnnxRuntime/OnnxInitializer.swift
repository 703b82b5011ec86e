import Foundation

/// Reads graph initializers straight from an .onnx file (a protobuf ModelProto), without the
/// onnx package. FaceFusion takes inswapper's identity projection ("emap") from the model's
/// last initializer; this is how we get the same matrix.
public enum OnnxInitializer {
  public struct Value: Sendable, Equatable {
    public let name: String
    public let dimensions: [Int]
    public let values: [Float]
  }

  /// The last initializer of the model's main graph, as float32.
  public static func last(inModelAt path: String) throws(OnnxRuntimeError) -> Value {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
      throw OnnxRuntimeError(.invalidInput, "cannot read \(path): \(error.localizedDescription)")
    }
    let result: Result<Value, OnnxRuntimeError> = data.withUnsafeBytes { raw in
      var model = ProtobufReader(raw[...])
      do throws(OnnxRuntimeError) {
        // ModelProto.graph = 7; GraphProto.initializer = 5.
        guard let graph = try model.lastField(7) else { throw OnnxRuntimeError(.invalidInput, "\(path) has no graph") }
        var graphReader = ProtobufReader(graph)
        guard let tensor = try graphReader.lastField(5) else { throw OnnxRuntimeError(.invalidInput, "\(path) has no initializers") }
        return .success(try decodeTensor(tensor))
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5 (fp16 bits), name = 8,
  /// raw_data = 9 (little-endian).
  static func decodeTensor(_ bytes: Slice<UnsafeRawBufferPointer>) throws(OnnxRuntimeError) -> Value {
    var reader = ProtobufReader(bytes)
    var dims: [Int] = [], dataType = 0, name = ""
    var floats: [Float] = [], halfs: [UInt16] = [], raw: Slice<UnsafeRawBufferPointer>?
    while let (field, wire) = try reader.nextKey() {
      switch (field, wire) {
      case (1, 0): dims.append(Int(try reader.varint()))
      case (1, 2): var packed = ProtobufReader(try reader.bytes()); while !packed.isAtEnd { dims.append(Int(try packed.varint())) }
      case (2, 0): dataType = Int(try reader.varint())
      case (4, 2):
        let payload = try reader.bytes()
        floats += stride(from: payload.startIndex, to: payload.endIndex - 3, by: 4).map { payload.loadUnaligned(fromByteOffset: $0 - payload.startIndex, as: Float.self) }
      case (5, 2): var packed = ProtobufReader(try reader.bytes()); while !packed.isAtEnd { halfs.append(UInt16(truncatingIfNeeded: try packed.varint())) }
      case (8, 2): name = String(decoding: try reader.bytes(), as: UTF8.self)
      case (9, 2): raw = try reader.bytes()
      default: try reader.skip(wire)
      }
    }
    let count = dims.reduce(1, *)
    var values: [Float]
    switch dataType {
    case 1:  // FLOAT
      if let raw { values = stride(from: 0, to: raw.count - 3, by: 4).map { raw.loadUnaligned(fromByteOffset: $0, as: Float.self) } } else { values = floats }
    case 10:  // FLOAT16
      if let raw {
        values = stride(from: 0, to: raw.count - 1, by: 2).map { Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: $0, as: UInt16.self))) }
      } else {
        values = halfs.map { Float(Float16(bitPattern: $0)) }
      }
    default:
      throw OnnxRuntimeError(.invalidInput, "initializer '\(name)' has unsupported data type \(dataType)")
    }
    guard values.count == count else {
      throw OnnxRuntimeError(.invalidInput, "initializer '\(name)' holds \(values.count) values for shape \(dims)")
    }
    return Value(name: name, dimensions: dims, values: values)
  }
}

/// Just enough protobuf wire-format reading to walk ONNX files.
struct ProtobufReader {
  private let buffer: Slice<UnsafeRawBufferPointer>
  private var position: Int

  init(_ buffer: Slice<UnsafeRawBufferPointer>) {
    self.buffer = buffer
    position = buffer.startIndex
  }

  var isAtEnd: Bool { position >= buffer.endIndex }

  mutating func varint() throws(OnnxRuntimeError) -> UInt64 {
    var value: UInt64 = 0, shift: UInt64 = 0
    while true {
      guard position < buffer.endIndex, shift < 64 else { throw OnnxRuntimeError(.invalidInput, "truncated protobuf varint") }
      let byte = buffer[position]
      position += 1
      value |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return value }
      shift += 7
    }
  }

  mutating func nextKey() throws(OnnxRuntimeError) -> (field: Int, wire: Int)? {
    guard !isAtEnd else { return nil }
    let key = try varint()
    return (Int(key >> 3), Int(key & 7))
  }

  mutating func bytes() throws(OnnxRuntimeError) -> Slice<UnsafeRawBufferPointer> {
    let length = Int(try varint())
    guard length >= 0, position + length <= buffer.endIndex else { throw OnnxRuntimeError(.invalidInput, "truncated protobuf field") }
    defer { position += length }
    return buffer[position..<(position + length)]
  }

  mutating func skip(_ wire: Int) throws(OnnxRuntimeError) {
    switch wire {
    case 0: _ = try varint()
    case 1: position += 8
    case 2: _ = try bytes()
    case 5: position += 4
    default: throw OnnxRuntimeError(.invalidInput, "unsupported protobuf wire type \(wire)")
    }
    guard position <= buffer.endIndex else { throw OnnxRuntimeError(.invalidInput, "truncated protobuf field") }
  }

  /// The payload of the last occurrence of a length-delimited field at this level.
  mutating func lastField(_ wanted: Int) throws(OnnxRuntimeError) -> Slice<UnsafeRawBufferPointer>? {
    var found: Slice<UnsafeRawBufferPointer>?
    while let (field, wire) = try nextKey() {
      if field == wanted, wire == 2 { found = try bytes() } else { try skip(wire) }
    }
    return found
  }
}
