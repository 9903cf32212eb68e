import Checksums
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The checksum files a Maven repository keeps next to each file: `X.md5`, `X.sha1`, `X.sha256`, `X.sha512`.
///
/// Each holds the bare lowercase hex digest, no file name and no newline, as Maven's deploy writes it.
extension ChecksumAlgorithm {
    /// `.sha1`: the suffix of the checksum file.
    public var fileSuffix: String { ".\(rawValue)" }

    /// `SHA-1`: the name Maven's resolver uses (`-Daether.checksums.algorithms`).
    public var mavenName: String {
        switch self {
        case .md5: return "MD5"
        case .sha1: return "SHA-1"
        case .sha256: return "SHA-256"
        case .sha512: return "SHA-512"
        }
    }

    /// The algorithm whose checksum file ends `name` (`x.jar.sha256` -> sha256).
    public static func forChecksumFile(_ name: String) -> ChecksumAlgorithm? {
        allCases.first { name.hasSuffix($0.fileSuffix) && name.count > $0.fileSuffix.count }
    }
}

/// The four digests of one file (lowercase hex) and its size.
public struct MavenChecksums: Sendable, Hashable {
    public let md5: String
    public let sha1: String
    public let sha256: String
    public let sha512: String
    /// The number of bytes hashed.
    public let byteCount: Int64

    public subscript(algorithm: ChecksumAlgorithm) -> String {
        switch algorithm {
        case .md5: return md5
        case .sha1: return sha1
        case .sha256: return sha256
        case .sha512: return sha512
        }
    }

    /// The exact body of the checksum file for `algorithm`: the hex digest, nothing else.
    public func fileContents(_ algorithm: ChecksumAlgorithm) -> [UInt8] { Array(self[algorithm].utf8) }

    /// The digests of a file, read in chunks of `chunkSize` bytes (the file is never held in memory whole).
    public static func ofFile(atPath path: String, chunkSize: Int = 1 << 20) throws(FileReadError) -> MavenChecksums {
        var accumulator = ChecksumAccumulator()
        try FileChunks.forEach(path, chunkSize: chunkSize) { accumulator.update($0) }
        return accumulator.finalize()
    }

    /// The digests of bytes in memory.
    public static func of(_ bytes: [UInt8]) -> MavenChecksums {
        var accumulator = ChecksumAccumulator()
        accumulator.update(bytes)
        return accumulator.finalize()
    }
}

/// MD5, SHA-1, SHA-256 and SHA-512 in one pass over bytes fed in pieces, e.g. while an upload streams them.
///
/// A value type: feed it with `update`, then `finalize()` (which leaves it usable for more bytes).
public struct ChecksumAccumulator: Sendable {
    private var hasher = ContentHasher(Set(ChecksumAlgorithm.allCases))

    public init() {}

    /// Bytes fed so far.
    public var byteCount: Int64 { hasher.count }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(buffer) }
    public mutating func update(_ bytes: [UInt8]) { hasher.update(bytes) }
    public mutating func update(_ bytes: ArraySlice<UInt8>) { hasher.update(bytes) }
    public mutating func update(_ data: Data) { data.withUnsafeBytes { hasher.update($0) } }

    /// The digests of everything fed so far.
    public func finalize() -> MavenChecksums {
        let digests = hasher.finalize()
        return MavenChecksums(md5: digests[.md5]!, sha1: digests[.sha1]!, sha256: digests[.sha256]!,
                              sha512: digests[.sha512]!, byteCount: byteCount)
    }
}

/// A file that could not be read.
public struct FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot read \(path): \(reason)" }
}

/// Reads a file in fixed-size chunks with POSIX calls, reusing one buffer.
enum FileChunks {
    static func forEach(_ path: String, chunkSize: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(FileReadError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, chunkSize), alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { return }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// A small file whole (checksum files, poms), refusing anything over `limit` bytes.
    static func small(_ path: String, limit: Int = 16 << 20) throws(FileReadError) -> Data {
        var data = Data()
        try forEach(path, chunkSize: 64 << 10) { chunk in
            if data.count <= limit { data.append(contentsOf: chunk) }
        }
        guard data.count <= limit else {
            throw FileReadError(path: path, reason: "larger than \(limit >> 20) MiB, which is not a plausible text file")
        }
        return data
    }
}
