import OCI

/// A platform as an index entry or a config names it: `linux/amd64`, `linux/arm64/v8`.
///
/// See https://github.com/opencontainers/image-spec/blob/main/image-index.md (`platform`).
public struct Platform: Sendable, Hashable, CustomStringConvertible {
    public let os: String
    public let architecture: String
    public let variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Parses `os/arch[/variant]`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// BuildKit's attestations and other non-runnable entries carry `unknown/unknown`.
    public var isUnknown: Bool { os == "unknown" && architecture == "unknown" }

    /// Whether this platform is what a filter entry asks for (a filter without variant matches every variant).
    public func matches(_ filter: Platform) -> Bool {
        os == filter.os && architecture == filter.architecture && (filter.variant == nil || filter.variant == variant)
    }
}

/// An image index (or Docker manifest list) with its children, each a manifest or another index.
///
/// See https://github.com/opencontainers/image-spec/blob/main/image-index.md .
public struct ImageIndex: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let platform: Platform?
        public let annotations: [String: String]
        public let child: ImageArtifact
    }

    public let manifest: [UInt8]
    public let manifestMediaType: String
    public let manifestDigest: Digest
    public let entries: [Entry]

    public init(manifest: [UInt8], manifestMediaType: String, entries: [Entry]) {
        self.manifest = manifest
        self.manifestMediaType = manifestMediaType
        self.manifestDigest = Digest.sha256(manifest)
        self.entries = entries
    }
}

/// What gets pushed to a tag: one image, or an index of them.
public indirect enum ImageArtifact: Sendable, Equatable {
    case image(Image)
    case index(ImageIndex)

    public var manifest: [UInt8] {
        switch self {
        case .image(let image): image.manifest
        case .index(let index): index.manifest
        }
    }

    public var manifestMediaType: String {
        switch self {
        case .image(let image): image.manifestMediaType
        case .index(let index): index.manifestMediaType
        }
    }

    public var manifestDigest: Digest {
        switch self {
        case .image(let image): image.manifestDigest
        case .index(let index): index.manifestDigest
        }
    }

    /// Every manifest to push, children before the index that names them (each once), the root last.
    public var manifestsInPushOrder: [(digest: Digest, mediaType: String, bytes: [UInt8], platform: Platform?)] {
        var seen: Set<Digest> = []
        var out: [(digest: Digest, mediaType: String, bytes: [UInt8], platform: Platform?)] = []
        func visit(_ artifact: ImageArtifact, platform: Platform?) {
            if case .index(let index) = artifact {
                for entry in index.entries { visit(entry.child, platform: entry.platform) }
            }
            guard seen.insert(artifact.manifestDigest).inserted else { return }
            out.append((artifact.manifestDigest, artifact.manifestMediaType, artifact.manifest, platform))
        }
        visit(self, platform: nil)
        return out
    }

    /// Every distinct blob (configs and layers) of every image, in push order.
    public var blobs: [ImageBlob] {
        var seen: Set<Digest> = []
        var out: [ImageBlob] = []
        func visit(_ artifact: ImageArtifact) {
            switch artifact {
            case .image(let image):
                for blob in image.blobs where seen.insert(blob.digest).inserted { out.append(blob) }
            case .index(let index):
                for entry in index.entries { visit(entry.child) }
            }
        }
        visit(self)
        return out
    }

    /// The blobs of one manifest (nil for an index), for pushing a child.
    public var ownBlobs: [ImageBlob] {
        if case .image(let image) = self { return image.blobs }
        return []
    }

    /// Bytes of every distinct blob.
    public var totalBlobBytes: Int64 { blobs.reduce(0) { $0 + $1.size } }
}
