import HTTPTransport
import OCI

/// A blob of an image (its config or a layer): its descriptor, and where its bytes come from.
///
/// See the descriptor in the image spec: https://github.com/opencontainers/image-spec/blob/main/descriptor.md
public struct ImageBlob: Sendable, Equatable {
    public let mediaType: String
    public let digest: Digest
    public let size: Int64
    public let content: BlobContent

    /// A blob held in memory; its digest and size are computed here.
    public init(mediaType: String, bytes: [UInt8]) {
        self.mediaType = mediaType
        self.digest = Digest.sha256(bytes)
        self.size = Int64(bytes.count)
        self.content = .bytes(bytes)
    }

    /// A blob whose digest and size are already known (read from a manifest), with its content elsewhere.
    public init(mediaType: String, digest: Digest, size: Int64, content: BlobContent) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.content = content
    }

    /// The bytes of a blob held in memory (the placeholder's); nil when they are read from a file.
    public var inMemoryBytes: [UInt8]? {
        if case .bytes(let bytes) = content { return bytes }
        return nil
    }

    /// The descriptor JSON object for this blob, as used in a manifest.
    var descriptorJSON: String {
        #"{"mediaType":"\#(mediaType)","digest":"\#(digest)","size":\#(size)}"#
    }

    public static func == (lhs: ImageBlob, rhs: ImageBlob) -> Bool {
        lhs.mediaType == rhs.mediaType && lhs.digest == rhs.digest && lhs.size == rhs.size
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
    /// The config's labels (`config.Labels`), e.g. `org.opencontainers.image.source`.
    public let labels: [String: String]

    public init(manifest: [UInt8], manifestMediaType: String, config: ImageBlob, layers: [ImageBlob],
                labels: [String: String] = [:]) {
        self.manifest = manifest
        self.manifestMediaType = manifestMediaType
        self.manifestDigest = Digest.sha256(manifest)
        self.config = config
        self.layers = layers
        self.labels = labels
    }

    /// Every blob the manifest references, config first.
    public var blobs: [ImageBlob] { [config] + layers }
}
