import COpenSSL
import Foundation

/// Streaming SHA-256 over the system's libcrypto (which uses the CPU's SHA instructions where
/// there are any). One hasher is used by one thread at a time.
public final class SHA256 {
  private let context: OpaquePointer

  public init() {
    // Allocation fails only when memory is exhausted; there is nothing sensible to do then.
    guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
      fatalError("libcrypto could not set up SHA-256")
    }
    self.context = context
  }

  deinit { EVP_MD_CTX_free(context) }

  public func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    EVP_DigestUpdate(context, base, bytes.count)
  }

  public func update(data: Data) { data.withUnsafeBytes { update($0) } }

  /// The 32-byte digest; the hasher is spent afterwards.
  public func finalize() -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    EVP_DigestFinal_ex(context, &digest, &length)
    return digest
  }

  /// The digest as 64 lowercase hex digits.
  public func hexDigest() -> String {
    let hex = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    text.reserveCapacity(64)
    for byte in finalize() { text += [hex[Int(byte >> 4)], hex[Int(byte & 15)]] }
    return String(decoding: text, as: UTF8.self)
  }

  public static func hex(of data: Data) -> String {
    let hasher = SHA256()
    hasher.update(data: data)
    return hasher.hexDigest()
  }
}
