import Foundation

/// Incremental CRC-32 (IEEE): PNG's chunk checksum, zlib's, and FaceFusion's `.hash` files.
public struct CRC32: Sendable {
  static let table: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  private var state: UInt32 = 0xFFFF_FFFF

  public init() {}

  public mutating func update(_ data: some DataProtocol) {
    var crc = state
    Self.table.withUnsafeBufferPointer { table in
      for region in data.regions {
        for byte in region { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
      }
    }
    state = crc
  }

  public var value: UInt32 { state ^ 0xFFFF_FFFF }

  /// The checksum of `bytes` in one go (a PNG chunk's).
  public static func checksum(_ bytes: some DataProtocol) -> UInt32 {
    var crc = CRC32()
    crc.update(bytes)
    return crc.value
  }
}
