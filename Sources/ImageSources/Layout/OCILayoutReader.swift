import Foundation
import Synchronization
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
            let layerBlobs = try self.layers(layers)
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

    /// The layers, each one's presence and size checked, and the digests of those not checked before computed on
    /// every core at once (hashing is what reading a large image costs).
    private mutating func layers(_ descriptors: [Descriptor]) throws(ImageSourceError) -> [ImageBlob] {
        let blobs = try descriptors.map { descriptor throws(ImageSourceError) in
            ImageBlob(mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size,
                      content: try store.content(descriptor.digest, expectedSize: descriptor.size))
        }
        var pending: [ImageBlob] = []
        for blob in blobs where verified[blob.digest] == nil && !pending.contains(where: { $0.digest == blob.digest }) {
            pending.append(blob)
        }
        let results = Mutex([Result<Digest, ImageSourceError>?](repeating: nil, count: pending.count))
        DispatchQueue.concurrentPerform(iterations: pending.count) { [pending] index in
            let result: Result<Digest, ImageSourceError>
            do throws(ImageSourceError) { result = .success(try pending[index].content.digest().digest) } catch {
                result = .failure(error)
            }
            results.withLock { $0[index] = result }
        }
        for (blob, result) in zip(pending, results.withLock { $0 }) {
            switch result {
            case .success(let digest) where digest == blob.digest:
                verified[blob.digest] = blob.size
            case .success(let digest):
                throw ImageSourceError(store.location, "has blob \(blob.digest) whose content does not match its digest (it is \(digest))")
            case .failure(let error):
                throw error
            case nil:
                throw ImageSourceError(store.location, "could not be read")
            }
        }
        return blobs
    }
}
