import Foundation

/// JSON text for the API's responses: sorted keys by byte order, no locale. Foundation's
/// `JSONSerialization` with `.sortedKeys` sorts through ICU collation and took a third of a
/// status request's CPU under load (docs/BENCHMARKS.md, "HTTP API").
enum JSONText {
  static func data(_ value: Any) -> Data { Data(bytes(value)) }

  static func string(_ value: Any) -> String { String(decoding: bytes(value), as: UTF8.self) }

  static func bytes(_ value: Any) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(512)
    write(value, into: &out)
    return out
  }

  private static func write(_ value: Any, into out: inout [UInt8]) {
    switch value {
    case let raw as RawJSON: out.append(contentsOf: raw.text.utf8)
    case let text as String: writeString(text, into: &out)
    case let flag as Bool: out.append(contentsOf: (flag ? "true" : "false").utf8)
    case let number as Int: out.append(contentsOf: String(number).utf8)
    case let number as Int64: out.append(contentsOf: String(number).utf8)
    case let number as Int32: out.append(contentsOf: String(number).utf8)
    case let number as Double: out.append(contentsOf: (number.isFinite ? String(number) : "null").utf8)
    case let number as Float: out.append(contentsOf: (number.isFinite ? String(number) : "null").utf8)
    case let object as [String: Any]:
      out.append(UInt8(ascii: "{"))
      for (index, key) in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        writeString(key, into: &out)
        out.append(UInt8(ascii: ":"))
        write(object[key]!, into: &out)
      }
      out.append(UInt8(ascii: "}"))
    case let list as [Any]:
      out.append(UInt8(ascii: "["))
      for (index, element) in list.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        write(element, into: &out)
      }
      out.append(UInt8(ascii: "]"))
    default:
      out += Array("null".utf8)  // NSNull, and nothing else is put in a response
    }
  }

  private static func writeString(_ text: String, into out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
      case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
      case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
      case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
      case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
      case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}

/// JSON text already made (a job's stored options), put into a response as it is.
struct RawJSON {
  let text: String
}
