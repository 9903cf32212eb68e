import Foundation
import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct DigestTests {
    @Test func knownVectors() {
        #expect(Digest.sha256([UInt8]()).description
            == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(Array("abc".utf8)).description
            == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // A non-contiguous sequence hashes the same as the array.
        #expect(Digest.sha256("abc".utf8.lazy.map { $0 }) == Digest.sha256(Array("abc".utf8)))
        #expect(Digest.sha256(Data("abc".utf8)) == Digest.sha256(Array("abc".utf8)))
    }

    @Test func largeInputMatchesIncrementalHash() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let digest = Digest.sha256(bytes)
        #expect(digest.algorithm == "sha256")
        #expect(digest.encoded.count == 64)
        #expect(digest.encoded == digest.encoded.lowercased())
        #expect(try Digest(parsing: digest.description) == digest)
    }

    @Test func parsesValidDigests() throws {
        let hex = String(repeating: "ab", count: 32)
        let digest = try Digest(parsing: "sha256:\(hex)")
        #expect(digest.algorithm == "sha256")
        #expect(digest.encoded == hex)
        let long = try Digest(parsing: "sha512:" + String(repeating: "0f", count: 64))
        #expect(long.algorithm == "sha512")
    }

    @Test(arguments: [
        ("", "expected 'sha256:<hex>'"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "expected 'sha256:<hex>'"),
        ("md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm 'md5'"),
        ("sha256:abc", "needs 64 hex characters, got 3"),
        ("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "lowercase hex"),
        ("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "lowercase hex"),
    ])
    func rejectsInvalidDigests(text: String, reason: String) {
        let error = #expect(throws: ReferenceError.self) {
            try Digest(parsing: text)
        }
        let message = error?.message ?? ""
        #expect(message.hasPrefix("digest '") && message.contains(reason), "\(message)")
    }

    @Test func codableAsString() throws {
        let digest = Digest.sha256(Array("x".utf8))
        let data = try JSONEncoder().encode([digest])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(digest)\"]")
        #expect(try JSONDecoder().decode([Digest].self, from: data) == [digest])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Digest].self, from: Data(#"["nope"]"#.utf8)) }
    }

    @Test func orderingAndShortForm() {
        let a = Digest.sha256(Array("a".utf8))
        let b = Digest.sha256(Array("b".utf8))
        #expect((a < b) == (a.encoded < b.encoded))
        #expect(a.short == "sha256:\(a.encoded.prefix(12))…")
    }
}
