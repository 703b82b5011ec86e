import Foundation
import Testing
@testable import ObjectStorage
import Digests

/// AWS's published Signature Version 4 examples: the generic test suite (aws-sig-v4-test-suite,
/// service "service") and the S3 documentation's worked examples. Each expected signature is AWS's.
struct SigV4Tests {
  static let suite = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1", service: "service")
  static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)   // 20150830T123600Z
  static let s3 = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                              region: "us-east-1")
  static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)      // 20130524T000000Z
  static let host = "examplebucket.s3.amazonaws.com"

  @Test func dateStampsAndSigningKey() {
    #expect(SigV4Signer.stamps(Self.suiteDate) == ("20150830", "20150830T123600Z"))
    #expect(Secrets.hex(Self.suite.signingKey(day: "20150830")) == "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75")
  }

  @Test(arguments: [
    // (name, method, path, query, signature)
    ("get-vanilla", "GET", "/", [(String, String)](), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("get-vanilla-query-order-key-case", "GET", "/", [("Param2", "value2"), ("Param1", "value1")], "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ("get-utf8", "GET", "/%E1%88%B4", [], "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    ("post-vanilla", "POST", "/", [], "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
  ])
  func awsTestSuite(name: String, method: String, path: String, query: [(String, String)], expected: String) {
    let signature = Self.suite.sign(method: method, path: path, query: query,
                                    headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                                    payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
    #expect(signature.signature == expected, "\(name)\n\(signature.canonicalRequest)")
    #expect(signature.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=\(expected)")
  }

  @Test func s3GetObjectWithRange() {
    let signature = Self.s3.sign(method: "GET", path: "/test.txt", query: [],
                                 headers: [("Host", Self.host), ("Range", "bytes=0-9"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
                                           ("x-amz-date", "20130524T000000Z")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: Self.s3Date)
    #expect(signature.signedHeaders == "host;range;x-amz-content-sha256;x-amz-date")
    #expect(signature.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
  }

  @Test func s3PutObjectWithStorageClassAndEncodedKey() {
    let hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"   // "Welcome to Amazon S3."
    #expect(Secrets.hex(Secrets.sha256("Welcome to Amazon S3.")) == hash)
    #expect(SigV4Signer.encode("/test$file.text", keepSlash: true) == "/test%24file.text")
    let signature = Self.s3.sign(method: "PUT", path: "/test%24file.text", query: [],
                                 headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Host", Self.host), ("x-amz-content-sha256", hash),
                                           ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                 payloadHash: hash, date: Self.s3Date)
    #expect(signature.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
  }

  @Test(arguments: [
    ([("lifecycle", "")], "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    ([("max-keys", "2"), ("prefix", "J")], "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
  ])
  func s3BucketRequestsSignTheirQuery(query: [(String, String)], expected: String) {
    let signature = Self.s3.sign(method: "GET", path: "/", query: query,
                                 headers: [("Host", Self.host), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: Self.s3Date)
    #expect(signature.signature == expected)
  }

  @Test func s3PresignedGet() {
    let query = Self.s3.presignedQuery(method: "GET", host: Self.host, path: "/test.txt", expires: 86400, date: Self.s3Date)
    #expect(SigV4Signer.canonicalQuery(query).contains("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"))
    #expect(query.last! == ("X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
  }

  @Test func encodingKeepsOnlyUnreservedCharacters() {
    #expect(SigV4Signer.encode("a b+c/d~e_f.g-h=é", keepSlash: false) == "a%20b%2Bc%2Fd~e_f.g-h%3D%C3%A9")
    #expect(SigV4Signer.canonicalQuery([("b", "2"), ("a", "1"), ("A", "0"), ("a", "0")]) == "A=0&a=0&a=1&b=2")
  }
}
