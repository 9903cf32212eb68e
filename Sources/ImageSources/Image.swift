import OCIRegistry

/// A blob of an image (its config or a layer) with its bytes in memory.
public struct ImageBlob: Sendable, Equatable {
    public let mediaType: String
    public let digest: Digest
    public let bytes: [UInt8]

    public init(mediaType: String, bytes: [UInt8]) {
        self.mediaType = mediaType
        self.bytes = bytes
        self.digest = Digest.sha256(bytes)
    }

    /// The descriptor JSON object for this blob, as used in a manifest.
    var descriptorJSON: String {
        #"{"mediaType":"\#(mediaType)","digest":"\#(digest)","size":\#(bytes.count)}"#
    }
}

/// A single-platform image: a manifest, its config and its layers.
///
/// See the image manifest spec: https://github.com/opencontainers/image-spec/blob/main/manifest.md
public struct Image: Sendable, Equatable {
    public let manifest: [UInt8]
    public let manifestMediaType: String
    public let manifestDigest: Digest
    public let config: ImageBlob
    public let layers: [ImageBlob]

    public init(manifest: [UInt8], manifestMediaType: String, config: ImageBlob, layers: [ImageBlob]) {
        self.manifest = manifest
        self.manifestMediaType = manifestMediaType
        self.manifestDigest = Digest.sha256(manifest)
        self.config = config
        self.layers = layers
    }

    /// Every blob the manifest references, config first.
    public var blobs: [ImageBlob] { [config] + layers }
}

/// Where an image to push comes from.
public protocol ImageSource: Sendable {
    /// A short human description, e.g. "built-in placeholder".
    var name: String { get }
    func load() async throws -> Image
}
