import Foundation

/// Reader for dlib's portable serialisation format, written from dlib's documented encoding:
/// integers are a control byte (low nibble = byte count, 0x80 = negative) followed by that many
/// little-endian magnitude bytes; floats are an (int64 mantissa, int16 exponent) pair of such
/// integers meaning mantissa * 2^exponent, with exponents 32000/32001/32002 for +inf/-inf/NaN;
/// containers are a length followed by their elements; matrices are rows and columns (negative
/// in the newer format) followed by the elements row by row.
struct DlibDeserializer {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// Borrowed: valid only inside the `withUnsafeBytes` scope that made the reader (a whole model
  /// is read this way without copying it, from a memory-mapped file).
  private let bytes: UnsafeRawBufferPointer
  private(set) var position = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  var isAtEnd: Bool { position >= bytes.count }

  mutating func integer() throws -> Int64 {
    guard position < bytes.count else { throw Failure(description: "unexpected end of file at byte \(position)") }
    let control = bytes[position]
    let count = Int(control & 0x0F)
    guard count >= 1, count <= 8, position + 1 + count <= bytes.count, control & 0x70 == 0 else {
      throw Failure(description: "bad integer encoding 0x\(String(control, radix: 16)) at byte \(position)")
    }
    var magnitude: UInt64 = 0
    if position + 9 <= bytes.count {
      // One unaligned little-endian load, masked to the byte count (the model is 100 MB of these).
      let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 1, as: UInt64.self))
      magnitude = count == 8 ? word : word & ((1 << (UInt64(count) * 8)) - 1)
    } else {
      for index in stride(from: count, through: 1, by: -1) {
        magnitude = magnitude << 8 | UInt64(bytes[position + index])
      }
    }
    position += 1 + count
    let value = Int64(bitPattern: magnitude)
    return control & 0x80 != 0 ? -value : value
  }

  mutating func unsignedCount(limit: Int = 100_000_000) throws -> Int {
    let value = try integer()
    guard value >= 0, value <= limit else { throw Failure(description: "implausible count \(value) at byte \(position)") }
    return Int(value)
  }

  mutating func float() throws -> Float {
    let mantissa = try integer()
    let exponent = try integer()
    switch exponent {
    case 32000: return .infinity
    case 32001: return -.infinity
    case 32002: return .nan
    default:
      // ldexp on a float mantissa, as dlib converts back (the rounding matters for parity).
      return Foundation.scalbn(Float(mantissa), Int(exponent))
    }
  }

  /// A dlib column vector (matrix<float,0,1>) of floats.
  mutating func floatColumn() throws -> [Float] {
    var column: [Float] = []
    _ = try appendFloatColumn(to: &column)
    return column
  }

  /// Appends a column vector's floats to `array` (no intermediate array); returns their count.
  mutating func appendFloatColumn(to array: inout [Float]) throws -> Int {
    let rows = abs(try integer()), columns = abs(try integer())
    guard columns == 1 || rows == 0 else { throw Failure(description: "expected a column vector, got \(rows)x\(columns)") }
    guard rows <= Int64(bytes.count - position) else { throw Failure(description: "column of \(rows) floats runs past the end") }
    for _ in 0..<Int(rows) { array.append(try float()) }
    return Int(rows)
  }
}
