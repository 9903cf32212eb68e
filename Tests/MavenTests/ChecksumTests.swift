import Foundation
import Checksums
import Maven
import Testing
import TestSupport

@Suite struct ChecksumTests {
    @Test func knownVectors() {
        // FIPS 180 / RFC 1321 test vectors for "abc".
        let abc = MavenChecksums.of(Array("abc".utf8))
        #expect(abc.md5 == "900150983cd24fb0d6963f7d28e17f72")
        #expect(abc.sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(abc.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(abc.sha512 == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(abc.byteCount == 3)
        #expect(abc.fileContents(.sha1) == Array("a9993e364706816aba3e25717850c26c9cd0d89d".utf8))
    }

    /// A file of several chunks, hashed by reading in odd-sized chunks, by feeding pieces and by coreutils.
    @Test func streamingMatchesCoreutilsOnAMultiChunkFile() async throws {
        let directory = try TempDirectory.create(prefix: "checksums")
        defer { directory.remove() }
        var bytes = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 12345)
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for index in bytes.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        let path = directory.file("big.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let fromFile = try MavenChecksums.ofFile(atPath: path, chunkSize: 65_537)
        var fed = ChecksumAccumulator()
        var offset = 0
        var piece = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            fed.update(bytes[offset..<end])
            offset = end
            piece = piece * 3 + 7
        }
        #expect(fed.byteCount == Int64(bytes.count))
        #expect(fed.finalize() == fromFile)
        #expect(fromFile.byteCount == Int64(bytes.count))

        for algorithm in ChecksumAlgorithm.allCases {
            let tool = "\(algorithm.rawValue)sum"
            let result = try await ChildProcess.run(executable: tool, arguments: [path],
                                                    environment: ChildProcess.inheritedEnvironment())
            #expect(result.succeeded, "\(tool): \(result)")
            let word = result.stdout.split(separator: " ").first.map(String.init)
            #expect(word == fromFile[algorithm], "\(algorithm)")
        }
    }

    @Test func unreadableFileNamesThePath() {
        #expect(throws: FileReadError(path: "/nonexistent/x.jar", reason: "No such file or directory")) {
            try MavenChecksums.ofFile(atPath: "/nonexistent/x.jar")
        }
    }

    @Test func algorithmsKnowTheirFilesAndMavenNames() {
        #expect(ChecksumAlgorithm.forChecksumFile("greeter-1.0.0.jar.sha256") == .sha256)
        #expect(ChecksumAlgorithm.forChecksumFile("greeter-1.0.0.jar.sha1") == .sha1)
        #expect(ChecksumAlgorithm.forChecksumFile("greeter-1.0.0.jar") == nil)
        #expect(ChecksumAlgorithm.forChecksumFile(".md5") == nil)
        #expect(ChecksumAlgorithm.allCases.map(\.mavenName) == ["MD5", "SHA-1", "SHA-256", "SHA-512"])
    }
}
