import Digests

/// Container-level metadata: EXIF orientation on read, text (our provenance label) on write.
/// Written by hand over the PNG chunk, JPEG segment and RIFF layouts because the codecs'
/// simple APIs do not expose them.
enum Metadata {
  // MARK: EXIF orientation

  /// The EXIF orientation (1-8) stored in the file, 1 when absent or unreadable.
  static func exifOrientation(_ bytes: [UInt8], format: ImageFormat) -> Int {
    let tiff: ArraySlice<UInt8>?
    switch format {
    case .jpeg:
      tiff = jpegSegments(bytes).first { $0.marker == 0xE1 && $0.payload.starts(with: exifHeader) }
        .map { $0.payload.dropFirst(exifHeader.count) }
    case .png:
      tiff = pngChunks(bytes).first { $0.type == "eXIf" }?.data
    case .webp:
      tiff = riffChunks(bytes).first { $0.fourCC == "EXIF" }.map { $0.data.starts(with: exifHeader) ? $0.data.dropFirst(6) : $0.data }
    }
    guard let tiff, let value = tiffOrientation(tiff), (1...8).contains(value) else { return 1 }
    return value
  }

  static let exifHeader: [UInt8] = Array("Exif".utf8) + [0, 0]

  /// Reads tag 0x0112 of IFD0 from a TIFF block; nil when the block is malformed.
  static func tiffOrientation(_ block: ArraySlice<UInt8>) -> Int? {
    let tiff = Array(block)
    guard tiff.count >= 8 else { return nil }
    let little: Bool
    switch (tiff[0], tiff[1]) {
    case (0x49, 0x49): little = true
    case (0x4D, 0x4D): little = false
    default: return nil
    }
    func u16(_ at: Int) -> Int? {
      guard at >= 0, at + 2 <= tiff.count else { return nil }
      return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
    }
    func u32(_ at: Int) -> Int? {
      guard let high = u16(little ? at + 2 : at), let low = u16(little ? at : at + 2) else { return nil }
      return high << 16 | low
    }
    guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd), count < 1000 else { return nil }
    for entry in 0..<count {
      let offset = ifd + 2 + entry * 12
      guard let tag = u16(offset) else { return nil }
      if tag == 0x0112 { return u16(offset + 8) }
    }
    return nil
  }

  // MARK: Container walking

  struct JPEGSegment {
    let marker: UInt8
    let start: Int  // index of the 0xFF
    let payload: ArraySlice<UInt8>
  }

  /// Marker segments before the image data (stops at start-of-scan).
  static func jpegSegments(_ bytes: [UInt8]) -> [JPEGSegment] {
    var segments: [JPEGSegment] = []
    var position = 2
    while position + 4 <= bytes.count, bytes[position] == 0xFF {
      let marker = bytes[position + 1]
      if marker == 0xDA || marker == 0xD9 { break }
      let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
      guard length >= 2, position + 2 + length <= bytes.count else { break }
      segments.append(JPEGSegment(marker: marker, start: position, payload: bytes[(position + 4)..<(position + 2 + length)]))
      position += 2 + length
    }
    return segments
  }

  struct PNGChunk {
    let type: String
    let start: Int
    let data: ArraySlice<UInt8>
  }

  static func pngChunks(_ bytes: [UInt8]) -> [PNGChunk] {
    var chunks: [PNGChunk] = []
    var position = 8
    while position + 12 <= bytes.count {
      let length = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
      guard length >= 0, position + 12 + length <= bytes.count else { break }
      let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
      chunks.append(PNGChunk(type: type, start: position, data: bytes[(position + 8)..<(position + 8 + length)]))
      if type == "IEND" { break }
      position += 12 + length
    }
    return chunks
  }

  struct RIFFChunk {
    let fourCC: String
    let data: ArraySlice<UInt8>
    /// The whole chunk including header and padding.
    let raw: ArraySlice<UInt8>
  }

  static func riffChunks(_ bytes: [UInt8]) -> [RIFFChunk] {
    var chunks: [RIFFChunk] = []
    var position = 12
    while position + 8 <= bytes.count {
      let size = Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8 | Int(bytes[position + 6]) << 16 | Int(bytes[position + 7]) << 24
      guard position + 8 + size <= bytes.count else { break }
      let padded = min(bytes.count, position + 8 + size + (size & 1))
      chunks.append(RIFFChunk(fourCC: String(decoding: bytes[position..<(position + 4)], as: UTF8.self),
                              data: bytes[(position + 8)..<(position + 8 + size)], raw: bytes[position..<padded]))
      position = padded
    }
    return chunks
  }

  // MARK: Writing text

  static func embed(_ entries: [(key: String, value: String)], in bytes: [UInt8], format: ImageFormat, hasAlpha: Bool) -> [UInt8] {
    switch format {
    case .png:
      // After the signature (8 bytes) and IHDR (25 bytes): readers see text before image data.
      var chunks: [UInt8] = []
      for (key, value) in entries {
        let latin1 = value.unicodeScalars.allSatisfy { $0.value < 256 } && key.unicodeScalars.allSatisfy { $0.value < 128 }
        if latin1 {
          chunks += pngChunk("tEXt", Array(key.utf8) + [0] + value.unicodeScalars.map { UInt8($0.value) })
        } else {
          chunks += pngChunk("iTXt", Array(key.utf8) + [0, 0, 0, 0, 0] + Array(value.utf8))
        }
      }
      return Array(bytes[0..<33]) + chunks + Array(bytes[33...])
    case .jpeg:
      // After SOI and a JFIF APP0 if there is one.
      var insertAt = 2
      if let first = jpegSegments(bytes).first, first.marker == 0xE0 { insertAt = first.start + 4 + first.payload.count }
      var segments: [UInt8] = []
      for (key, value) in entries {
        segments += jpegSegment(0xFE, Array("\(key)=\(value)".utf8).prefix(65_533))
      }
      segments += jpegSegment(0xE1, Array("http://ns.adobe.com/xap/1.0/".utf8) + [0] + xmpPacket(entries))
      return Array(bytes[0..<insertAt]) + segments + Array(bytes[insertAt...])
    case .webp:
      return webpWithXMP(bytes, xmp: xmpPacket(entries), hasAlpha: hasAlpha)
    }
  }

  static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    return bigEndian32(UInt32(data.count)) + typeBytes + data + bigEndian32(CRC32.checksum(typeBytes + data))
  }

  static func jpegSegment(_ marker: UInt8, _ payload: some Collection<UInt8>) -> [UInt8] {
    let length = payload.count + 2
    return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
  }

  /// Rebuilds a simple (VP8/VP8L) WebP as an extended one (VP8X) carrying an XMP chunk.
  static func webpWithXMP(_ bytes: [UInt8], xmp: [UInt8], hasAlpha: Bool) -> [UInt8] {
    var chunks = riffChunks(bytes)
    var width = 0, height = 0
    if let vp8x = chunks.first(where: { $0.fourCC == "VP8X" }) {
      let d = Array(vp8x.data)
      width = (Int(d[4]) | Int(d[5]) << 8 | Int(d[6]) << 16) + 1
      height = (Int(d[7]) | Int(d[8]) << 8 | Int(d[9]) << 16) + 1
      chunks.removeAll { $0.fourCC == "VP8X" || $0.fourCC == "XMP " }
    } else if let info = try? ImageIO.headerSize(bytes, format: .webp) {
      (width, height) = info
    }
    let alpha = hasAlpha || chunks.contains { $0.fourCC == "ALPH" }
    let flags: UInt8 = 0x04 | (alpha ? 0x10 : 0)
    var body: [UInt8] = Array("WEBP".utf8)
    body += riffChunk("VP8X", [flags, 0, 0, 0] + little24(width - 1) + little24(height - 1))
    for chunk in chunks { body += chunk.raw }
    body += riffChunk("XMP ", xmp)
    return Array("RIFF".utf8) + little32(UInt32(body.count)) + body
  }

  static func riffChunk(_ fourCC: String, _ data: [UInt8]) -> [UInt8] {
    Array(fourCC.utf8) + little32(UInt32(data.count)) + data + (data.count % 2 == 1 ? [0] : [])
  }

  static func xmpPacket(_ entries: [(key: String, value: String)]) -> [UInt8] {
    let attributes = entries.map { " swapline:\(xmpName($0.key))=\"\(xmlEscape($0.value))\"" }.joined()
    let packet = "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
      + "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
      + "<rdf:Description rdf:about=\"\" xmlns:swapline=\"https://swapline.dev/ns/1.0/\"\(attributes)/>"
      + "</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    return Array(packet.utf8)
  }

  /// XMP property names must be XML names: other characters become '_'.
  static func xmpName(_ key: String) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    let name = String(key.map { allowed.contains($0) ? $0 : "_" })
    return name.first.map { $0.isLetter || $0 == "_" } == true ? name : "_" + name
  }

  static func xmlEscape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  static func xmlUnescape(_ text: String) -> String {
    text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
      .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
  }

  // MARK: Reading text

  static func readText(_ bytes: [UInt8], format: ImageFormat) -> [String: String] {
    var result: [String: String] = [:]
    switch format {
    case .png:
      for chunk in pngChunks(bytes) where chunk.type == "tEXt" || chunk.type == "iTXt" {
        let data = Array(chunk.data)
        guard let separator = data.firstIndex(of: 0) else { continue }
        let key = String(decoding: data[..<separator], as: UTF8.self)
        if chunk.type == "tEXt" {
          result[key] = String(String.UnicodeScalarView(data[(separator + 1)...].map { Unicode.Scalar($0) }))
        } else {
          // keyword \0 flag method language \0 translated \0 text
          var position = separator + 3
          for _ in 0..<2 { position = (data[position...].firstIndex(of: 0) ?? data.count - 1) + 1 }
          result[key] = String(decoding: data[min(position, data.count)...], as: UTF8.self)
        }
      }
    case .jpeg:
      for segment in jpegSegments(bytes) {
        if segment.marker == 0xFE {
          let text = String(decoding: segment.payload, as: UTF8.self)
          if let equals = text.firstIndex(of: "=") { result[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
        } else if segment.marker == 0xE1, segment.payload.starts(with: Array("http://ns.adobe.com/xap/1.0/".utf8)) {
          result.merge(parseXMP(String(decoding: segment.payload, as: UTF8.self))) { existing, _ in existing }
        }
      }
    case .webp:
      for chunk in riffChunks(bytes) where chunk.fourCC == "XMP " {
        result.merge(parseXMP(String(decoding: chunk.data, as: UTF8.self))) { existing, _ in existing }
      }
    }
    return result
  }

  /// Our own properties (swapline:NAME="value") from an XMP packet.
  static func parseXMP(_ xml: String) -> [String: String] {
    var result: [String: String] = [:]
    var rest = xml[...]
    while let start = rest.range(of: " swapline:") {
      rest = rest[start.upperBound...]
      guard let equals = rest.range(of: "=\""), let close = rest[equals.upperBound...].firstIndex(of: "\"") else { break }
      let name = String(rest[..<equals.lowerBound])
      result[name] = xmlUnescape(String(rest[equals.upperBound..<close]))
      rest = rest[close...]
    }
    return result
  }

  static func bigEndian32(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
  }

  static func little32(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
  }

  static func little24(_ value: Int) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF)]
  }
}
