import Checksums

/// A content digest `algorithm:encoded`, as used to address blobs and manifests.
///
/// See the "Digests" rules in the OCI image spec and their use in
/// https://github.com/opencontainers/distribution-spec/blob/main/spec.md (pulling and pushing blobs).
/// Only `sha256` and `sha512` are accepted; the encoded part must be lowercase hex of the right length.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The algorithm: `sha256` or `sha512`.
    public let algorithm: String
    /// The lowercase hex encoding of the hash.
    public let encoded: String

    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`.
    public init(parsing text: String) throws(ReferenceError) {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else {
            throw ReferenceError("digest '\(ReferenceError.clip(text))' is invalid: expected 'sha256:<hex>'")
        }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        let expectedLength: Int
        switch algorithm {
        case "sha256": expectedLength = 64
        case "sha512": expectedLength = 128
        default:
            throw ReferenceError("digest '\(ReferenceError.clip(text))' is invalid: unsupported algorithm '\(ReferenceError.clip(algorithm))' (expected sha256 or sha512)")
        }
        guard encoded.utf8.count == expectedLength else {
            throw ReferenceError("digest '\(ReferenceError.clip(text))' is invalid: \(algorithm) needs \(expectedLength) hex characters, got \(encoded.utf8.count)")
        }
        for byte in encoded.utf8 where !Self.isLowerHex(byte) {
            throw ReferenceError("digest '\(ReferenceError.clip(text))' is invalid: the encoded part must be lowercase hex")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    private init(trusted algorithm: String, encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The sha256 digest of `bytes`.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> Digest {
        Digest(trusted: "sha256", encoded: ContentHasher.sha256Hex(bytes))
    }

    /// A digest from a lowercase sha256 hex string computed by this process (not validated again).
    public static func sha256(hex: String) -> Digest {
        Digest(trusted: "sha256", encoded: hex)
    }

    /// `algorithm:encoded`.
    public var description: String { "\(algorithm):\(encoded)" }

    /// A short form for messages: `sha256:`, the first 12 hex characters and an ellipsis.
    public var short: String { "\(algorithm):\(encoded.prefix(12))…" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool {
        (lhs.algorithm, lhs.encoded) < (rhs.algorithm, rhs.encoded)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try Digest(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}

/// The sha256 digest of content that streams by, fed in pieces.
public struct Digester: Sendable {
    private var hasher = ContentHasher([.sha256])

    public init() {}

    public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(buffer) }
    public mutating func update(_ bytes: some Sequence<UInt8>) { hasher.update(bytes) }

    /// Bytes fed so far.
    public var count: Int64 { hasher.count }

    public func finalize() -> Digest {
        Digest.sha256(hex: Hex.lowercase(hasher.sha256Bytes()))
    }
}
