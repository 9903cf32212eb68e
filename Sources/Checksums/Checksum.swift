import Crypto

/// A hash algorithm whose lowercase hex digest names or protects content: sha256 and sha512 for OCI
/// digests and the ledger, md5 and sha1 alongside them for Maven's checksum files.
public enum ChecksumAlgorithm: String, Sendable, CaseIterable, Codable, Comparable {
    case md5, sha1, sha256, sha512

    public static func < (lhs: ChecksumAlgorithm, rhs: ChecksumAlgorithm) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Characters of the hex digest.
    public var hexLength: Int {
        switch self {
        case .md5: 32
        case .sha1: 40
        case .sha256: 64
        case .sha512: 128
        }
    }
}

/// Incremental hashing of one or several algorithms in a single pass, for content that streams by
/// (a file being uploaded, a blob being downloaded) and is never held whole in memory.
public struct ContentHasher: Sendable {
    private var md5: Insecure.MD5?
    private var sha1: Insecure.SHA1?
    private var sha256: SHA256?
    private var sha512: SHA512?
    /// Bytes fed so far.
    public private(set) var count: Int64 = 0

    public init(_ algorithms: Set<ChecksumAlgorithm> = [.sha256]) {
        if algorithms.contains(.md5) { md5 = Insecure.MD5() }
        if algorithms.contains(.sha1) { sha1 = Insecure.SHA1() }
        if algorithms.contains(.sha256) { sha256 = SHA256() }
        if algorithms.contains(.sha512) { sha512 = SHA512() }
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        md5?.update(bufferPointer: buffer)
        sha1?.update(bufferPointer: buffer)
        sha256?.update(bufferPointer: buffer)
        sha512?.update(bufferPointer: buffer)
        count += Int64(buffer.count)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// The lowercase hex digest of every algorithm this hasher was made for.
    public func finalize() -> [ChecksumAlgorithm: String] {
        var digests: [ChecksumAlgorithm: String] = [:]
        if let md5 { digests[.md5] = md5.finalize().withUnsafeBytes(Hex.encode) }
        if let sha1 { digests[.sha1] = sha1.finalize().withUnsafeBytes(Hex.encode) }
        if let sha256 { digests[.sha256] = sha256.finalize().withUnsafeBytes(Hex.encode) }
        if let sha512 { digests[.sha512] = sha512.finalize().withUnsafeBytes(Hex.encode) }
        return digests
    }

    /// The raw sha256 of what was fed (the hasher must include sha256).
    public func sha256Bytes() -> [UInt8] {
        guard let sha256 else { preconditionFailure("this hasher was not made for sha256") }
        return Array(sha256.finalize())
    }

    /// sha256 of `bytes` in one call, as raw bytes.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = ContentHasher([.sha256])
        hasher.update(bytes)
        return hasher.sha256Bytes()
    }

    /// sha256 of `bytes` in one call, as lowercase hex.
    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        Hex.lowercase(sha256(bytes))
    }
}
