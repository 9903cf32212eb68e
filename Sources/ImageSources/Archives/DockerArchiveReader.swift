import Foundation
import OCI

/// Reads an image from a `docker save` archive, in either of its shapes:
/// - Docker 25 and later: an OCI image layout inside the tar, pushed byte for byte;
/// - the classic one (also what buildah and skopeo write): `manifest.json`, the config, uncompressed layer tars
///   (legacy `<id>/layer.tar` entries are symlinks to them). Its layers are gzipped (``LayerCompressor``) or, with
///   `compress: false`, pushed uncompressed, under a Docker schema2 manifest built here with a fixed key order.
struct DockerArchiveReader {
    let tar: TarIndex
    let compress: Bool
    let compressor: LayerCompressor

    /// The image `name` (`NAME:TAG` as in `RepoTags`, nil for an archive of one image) names.
    func load(name: String?) throws(ImageSourceError) -> ImageArtifact {
        let entries = try manifestEntries()
        if tar.entries["oci-layout"] != nil, tar.entries["index.json"] != nil {
            return try loadLayout(name: name, entries: entries)
        }
        let entry = try Self.select(entries, name: name, location: tar.path)
        return .image(try classic(entry))
    }

    struct Entry {
        let config: String
        let repoTags: [String]
        let layers: [String]
    }

    private func manifestEntries() throws(ImageSourceError) -> [Entry] {
        let bytes = try tar.read("manifest.json", limit: 4 << 20)
        guard let list = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]] else {
            throw ImageSourceError(tar.path, "has a manifest.json that is not a list of images")
        }
        return try list.map { object throws(ImageSourceError) in
            guard let config = object["Config"] as? String, let layers = object["Layers"] as? [String] else {
                throw ImageSourceError(tar.path, "has a manifest.json entry without Config and Layers")
            }
            return Entry(config: config, repoTags: object["RepoTags"] as? [String] ?? [], layers: layers)
        }
    }

    static func select(_ entries: [Entry], name: String?, location: String) throws(ImageSourceError) -> Entry {
        if let name {
            let wanted = normalize(name)
            guard let entry = entries.first(where: { $0.repoTags.map(normalize).contains(wanted) }) else {
                let tags = entries.flatMap(\.repoTags)
                throw ImageSourceError(location, "has no image \(name) (it holds: \(tags.isEmpty ? "untagged images" : tags.joined(separator: ", ")))")
            }
            return entry
        }
        guard entries.count == 1 else {
            throw ImageSourceError(location, "holds \(entries.count) images: name one as docker-archive:FILE:NAME:TAG")
        }
        return entries[0]
    }

    /// `docker.io/library/x:1` and `x:1` name the same image.
    static func normalize(_ name: String) -> String {
        var text = name
        for prefix in ["docker.io/", "index.docker.io/"] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        if text.hasPrefix("library/") { text.removeFirst("library/".count) }
        return text
    }

    /// Docker 25+: the OCI layout inside; the manifest.json entry picks the image by its config.
    private func loadLayout(name: String?, entries: [Entry]) throws(ImageSourceError) -> ImageArtifact {
        let entry = try Self.select(entries, name: name, location: tar.path)
        var reader = OCILayoutReader(store: BlobStore(storage: .archive(tar, prefix: ""), location: tar.path))
        let indexBytes = try tar.read("index.json", limit: ManifestDocument.maximumSize)
        let top = try ManifestDocument(bytes: indexBytes, expectedType: MediaType.ociIndex, source: tar.path + " index.json")
        guard case .index(let descriptors) = top.kind else { throw ImageSourceError(tar.path, "has an invalid index.json") }
        let configHex = entry.config.split(separator: "/").last.map(String.init) ?? ""
        for descriptor in descriptors {
            let artifact = try reader.resolve(descriptor)
            if case .image(let image) = artifact, image.config.digest.encoded == configHex { return artifact }
            if case .index(let index) = artifact,
               index.entries.contains(where: { if case .image(let image) = $0.child { image.config.digest.encoded == configHex } else { false } }) {
                return artifact
            }
        }
        return try reader.resolve(try OCILayoutReader.select(descriptors, reference: nil, location: tar.path))
    }

    /// The classic shape: config and layer tars as files of the archive.
    private func classic(_ entry: Entry) throws(ImageSourceError) -> Image {
        let configBytes = try tar.read(entry.config, limit: 16 << 20)
        guard let config = try? JSONSerialization.jsonObject(with: Data(configBytes)) as? [String: Any],
              let rootfs = config["rootfs"] as? [String: Any], let diffIDs = rootfs["diff_ids"] as? [String],
              diffIDs.count == entry.layers.count else {
            throw ImageSourceError(tar.path, "has a config whose rootfs.diff_ids do not match its layers")
        }
        var layers: [ImageBlob] = []
        for (path, diffText) in zip(entry.layers, diffIDs) {
            guard let diffID = try? Digest(parsing: diffText) else {
                throw ImageSourceError(tar.path, "has an invalid diff id \(diffText)")
            }
            let file = try tar.file(path)
            let content = BlobContent.file(path: tar.path, offset: file.offset, length: file.size)
            if compress {
                let (gzipped, digest, size) = try compressor.gzip(content, diffID: diffID, source: tar.path)
                layers.append(ImageBlob(mediaType: MediaType.dockerLayerTarGzip, digest: digest, size: size, content: gzipped))
            } else {
                let (digest, size) = try content.digest()
                guard digest == diffID else {
                    throw ImageSourceError(tar.path, "has layer \(path) whose content does not match its diff id")
                }
                layers.append(ImageBlob(mediaType: MediaType.dockerLayerTar, digest: digest, size: size, content: content))
            }
        }
        let configBlob = ImageBlob(mediaType: MediaType.dockerConfig, bytes: configBytes)
        let manifest = "{\"schemaVersion\":2,\"mediaType\":\"\(MediaType.dockerManifest)\","
            + "\"config\":\(configBlob.descriptorJSON),\"layers\":[\(layers.map(\.descriptorJSON).joined(separator: ","))]}"
        return Image(manifest: Array(manifest.utf8), manifestMediaType: MediaType.dockerManifest, config: configBlob,
                     layers: layers, labels: ManifestDocument.labels(ofConfig: configBytes))
    }
}
