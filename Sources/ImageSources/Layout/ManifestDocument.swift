import Foundation
import OCI

/// A descriptor as manifests and indexes write it: media type, digest, size, and for index entries the platform
/// and annotations. https://github.com/opencontainers/image-spec/blob/main/descriptor.md
public struct Descriptor: Sendable, Equatable {
    public let mediaType: String
    public let digest: Digest
    public let size: Int64
    public let platform: Platform?
    public let annotations: [String: String]
}

/// The parts of a manifest or index document that pushing needs, parsed from its JSON.
///
/// Manifest kinds: OCI image manifest and index, Docker schema2 manifest and manifest list
/// (https://github.com/opencontainers/image-spec/blob/main/manifest.md,
/// https://github.com/distribution/distribution/blob/main/docs/content/spec/manifest-v2-2.md).
struct ManifestDocument {
    enum Kind { case image(config: Descriptor, layers: [Descriptor]), index([Descriptor]) }

    /// Registries refuse larger manifests (docker-registry 2.8 and ghcr.io: 4 MiB).
    static let maximumSize = 4 << 20

    let mediaType: String
    let kind: Kind
    let bytes: [UInt8]

    /// Parses `bytes`; `expectedType` is the descriptor's media type when the document has no `mediaType` field.
    init(bytes: [UInt8], expectedType: String?, source: String) throws(ImageSourceError) {
        guard bytes.count <= Self.maximumSize else {
            throw ImageSourceError(source, "holds a manifest of \(bytes.count) bytes; registries accept at most 4 MiB")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ImageSourceError(source, "holds a manifest that is not a json object")
        }
        let declared = object["mediaType"] as? String
        if let manifests = object["manifests"] as? [[String: Any]] {
            mediaType = declared ?? expectedType ?? MediaType.ociIndex
            kind = .index(try manifests.map { entry throws(ImageSourceError) in try Self.descriptor(entry, source: source) })
        } else if let config = object["config"] as? [String: Any], let layers = object["layers"] as? [[String: Any]] {
            mediaType = declared ?? expectedType ?? MediaType.ociManifest
            kind = .image(config: try Self.descriptor(config, source: source),
                          layers: try layers.map { layer throws(ImageSourceError) in try Self.descriptor(layer, source: source) })
        } else {
            throw ImageSourceError(source, "holds a manifest that is neither an image manifest nor an index")
        }
        self.bytes = bytes
        guard MediaType.manifestAccept.contains(mediaType) else {
            throw ImageSourceError(source, "holds a manifest of unsupported media type \(mediaType)")
        }
    }

    static func descriptor(_ object: [String: Any], source: String) throws(ImageSourceError) -> Descriptor {
        guard let mediaType = object["mediaType"] as? String, let digestText = object["digest"] as? String,
              let size = (object["size"] as? NSNumber)?.int64Value, size >= 0 else {
            throw ImageSourceError(source, "has a descriptor without mediaType, digest and size")
        }
        let digest: Digest
        do { digest = try Digest(parsing: digestText) } catch {
            throw ImageSourceError(source, "has a descriptor with an invalid digest (\(error.message))")
        }
        var platform: Platform?
        if let entry = object["platform"] as? [String: Any], let os = entry["os"] as? String,
           let architecture = entry["architecture"] as? String {
            platform = Platform(os: os, architecture: architecture, variant: entry["variant"] as? String)
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: size, platform: platform,
                          annotations: object["annotations"] as? [String: String] ?? [:])
    }

    /// `config.Labels` of an image config.
    static func labels(ofConfig bytes: [UInt8]) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let config = object["config"] as? [String: Any] else { return [:] }
        return config["Labels"] as? [String: String] ?? [:]
    }
}
