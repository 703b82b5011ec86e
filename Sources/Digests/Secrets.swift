import COpenSSL
import Foundation

/// HMAC-SHA256, random secrets and constant-time comparison, from the system's libcrypto.
public enum Secrets {
  /// HMAC-SHA256 of `message` under `key` (32 bytes).
  public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    _ = key.withUnsafeBufferPointer { keyBytes in
      message.withUnsafeBufferPointer { messageBytes in
        HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count), messageBytes.baseAddress, messageBytes.count, &digest, &length)
      }
    }
    return digest
  }

  /// `count` bytes from the operating system's cryptographic generator.
  public static func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    // RAND_bytes fails only when the system has no entropy source; a secret must not be weak.
    guard RAND_bytes(&bytes, Int32(count)) == 1 else { fatalError("libcrypto has no entropy source for secrets") }
    return bytes
  }

  /// Random bytes as URL-safe base64 without padding (for keys and ids).
  public static func randomToken(bytes: Int) -> String {
    Data(randomBytes(bytes)).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  /// Equal bytes, in time that depends only on the length (a key's hash must not leak how
  /// many leading bytes matched).
  public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0 } }
  }

  public static func sha256(_ text: String) -> [UInt8] {
    let hasher = SHA256()
    hasher.update(data: Data(text.utf8))
    return hasher.finalize()
  }

  public static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

  public static func bytes(hex: String) -> [UInt8]? {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var result = [UInt8]()
    for index in stride(from: 0, to: digits.count, by: 2) {
      guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
      result.append(byte)
    }
    return result
  }
}
