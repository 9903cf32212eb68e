import Foundation
import OCI

/// Reads an image (or index) from an OCI image layout, in a directory or inside a tar, byte for byte: every
/// digest stays what the build produced. https://github.com/opencontainers/image-spec/blob/main/image-layout.md
///
/// Everything is checked before anything is sent: the layout marker, the manifests and configs (read and
/// hashed), every blob's presence, size and digest (each distinct blob hashed once).
struct OCILayoutReader {
    static let refName = "org.opencontainers.image.ref.name"

    let store: BlobStore
    private var verified: [Digest: Int64] = [:]

    init(store: BlobStore) {
        self.store = store
    }

    /// The artifact `reference` (a tag from `org.opencontainers.image.ref.name`, a digest, or nil for a layout
    /// with exactly one entry) names in `index.json`.
    mutating func load(reference: String?) throws(ImageSourceError) -> ImageArtifact {
        guard let marker = try store.file("oci-layout", limit: 1 << 16),
              (try? JSONSerialization.jsonObject(with: Data(marker)) as? [String: Any])?["imageLayoutVersion"] != nil else {
            throw ImageSourceError(store.location, "is not an oci image layout (no oci-layout file)")
        }
        guard let indexBytes = try store.file("index.json", limit: ManifestDocument.maximumSize) else {
            throw ImageSourceError(store.location, "is an oci image layout without index.json")
        }
        let top = try ManifestDocument(bytes: indexBytes, expectedType: MediaType.ociIndex, source: store.location + "/index.json")
        guard case .index(let entries) = top.kind else {
            throw ImageSourceError(store.location, "has an index.json that is not an image index")
        }
        return try resolve(try Self.select(entries, reference: reference, location: store.location))
    }

    static func select(_ entries: [Descriptor], reference: String?, location: String) throws(ImageSourceError) -> Descriptor {
        if let reference {
            if let digest = try? Digest(parsing: reference) {
                guard let entry = entries.first(where: { $0.digest == digest }) else {
                    throw ImageSourceError(location, "has no manifest \(digest) in index.json")
                }
                return entry
            }
            let matching = entries.filter { $0.annotations[refName] == reference }
            guard let entry = matching.first else {
                let tags = entries.compactMap { $0.annotations[refName] }
                throw ImageSourceError(location, "has no image tagged '\(reference)'"
                    + (tags.isEmpty ? " (it has no tagged images)" : " (tags: \(tags.joined(separator: ", ")))"))
            }
            return entry
        }
        guard entries.count == 1, let entry = entries.first else {
            let tags = entries.compactMap { $0.annotations[refName] }
            throw ImageSourceError(location, entries.isEmpty ? "has no images in index.json"
                : "holds \(entries.count) images: name one (tags: \(tags.isEmpty ? "none" : tags.joined(separator: ", ")))")
        }
        return entry
    }

    /// The artifact `descriptor` names, with its children.
    mutating func resolve(_ descriptor: Descriptor, depth: Int = 0) throws(ImageSourceError) -> ImageArtifact {
        guard depth < 8 else { throw ImageSourceError(store.location, "nests indexes more than 8 deep") }
        let bytes = try store.bytes(descriptor.digest, expectedSize: descriptor.size, limit: ManifestDocument.maximumSize)
        let document = try ManifestDocument(bytes: bytes, expectedType: descriptor.mediaType,
                                            source: "\(store.location) manifest \(descriptor.digest)")
        switch document.kind {
        case let .image(config, layers):
            let configBytes = try store.bytes(config.digest, expectedSize: config.size, limit: 16 << 20)
            let layerBlobs = try layers.map { layer throws(ImageSourceError) in try blob(layer) }
            return .image(Image(manifest: bytes, manifestMediaType: document.mediaType,
                                config: ImageBlob(mediaType: config.mediaType, bytes: configBytes), layers: layerBlobs,
                                labels: ManifestDocument.labels(ofConfig: configBytes)))
        case .index(let children):
            var entries: [ImageIndex.Entry] = []
            for child in children {
                entries.append(ImageIndex.Entry(platform: child.platform, annotations: child.annotations,
                                                child: try resolve(child, depth: depth + 1)))
            }
            return .index(ImageIndex(manifest: bytes, manifestMediaType: document.mediaType, entries: entries))
        }
    }

    /// A layer, its presence, size and digest checked (once per distinct digest).
    private mutating func blob(_ descriptor: Descriptor) throws(ImageSourceError) -> ImageBlob {
        let content = try store.content(descriptor.digest, expectedSize: descriptor.size)
        if verified[descriptor.digest] == nil {
            let (digest, size) = try content.digest()
            guard digest == descriptor.digest else {
                throw ImageSourceError(store.location, "has blob \(descriptor.digest) whose content does not match its digest (it is \(digest))")
            }
            verified[descriptor.digest] = size
        }
        return ImageBlob(mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, content: content)
    }
}
