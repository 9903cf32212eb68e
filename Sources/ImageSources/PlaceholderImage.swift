import Foundation
import OCI

/// The built-in placeholder: a valid, tiny OCI image that is byte-identical on every machine.
///
/// Every repository provisioned with it gets the same manifest digest, so its blobs can be
/// cross-repository mounted instead of uploaded, and a tag that holds it is recognised as "still
/// the placeholder". Nothing here may depend on the time, the host or the tool version: changing
/// any byte changes the digest and makes earlier placeholders look like foreign images.
public enum PlaceholderImage {
    /// Annotation key set on the manifest so any client can tell a placeholder apart.
    public static let annotationKey = "dev.stevedore.placeholder"

    /// The image, built once.
    public static let image: Image = build(source: nil)

    /// The config label ghcr.io reads to link a package to its repository.
    public static let sourceLabel = "org.opencontainers.image.source"

    /// The placeholder with `source` (`https://github.com/OWNER/REPO`) as its `org.opencontainers.image.source` label,
    /// so ghcr.io links the new package to its repository. Deterministic too: one digest per source.
    public static func image(source: String?) -> Image {
        source.map { build(source: $0) } ?? image
    }

    /// Whether `digest` is the manifest digest of the placeholder.
    public static func isPlaceholder(_ digest: Digest) -> Bool { digest == image.manifestDigest }

    static let notice = """
        This repository was provisioned by stevedore with a placeholder image.
        It holds no program; CI replaces it with the service's real image.

        """

    private static func build(source: String?) -> Image {
        let tar = Archive.tar([(name: "PLACEHOLDER", contents: Array(notice.utf8))])
        let layer = ImageBlob(mediaType: MediaType.ociLayerTarGzip, bytes: Archive.gzipStored(tar))
        let diffID = Digest.sha256(tar)
        // Keys in a fixed order; no timestamps, so the bytes never change.
        let configJSON = """
            {"architecture":"amd64","os":"linux","config":{"Labels":{"\(annotationKey)":"true"\(sourceJSON(source))}},\
            "rootfs":{"type":"layers","diff_ids":["\(diffID)"]},\
            "history":[{"created_by":"stevedore placeholder","comment":"placeholder layer"}]}
            """
        let config = ImageBlob(mediaType: MediaType.ociConfig, bytes: Array(configJSON.utf8))
        let manifestJSON = """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)",\
            "config":\(config.descriptorJSON),"layers":[\(layer.descriptorJSON)],\
            "annotations":{"\(annotationKey)":"true",\
            "org.opencontainers.image.description":"placeholder image provisioned by stevedore"}}
            """
        var labels = [annotationKey: "true"]
        if let source { labels[sourceLabel] = source }
        return Image(manifest: Array(manifestJSON.utf8), manifestMediaType: MediaType.ociManifest,
                     config: config, layers: [layer], labels: labels)
    }
}

extension PlaceholderImage {
    /// `,"org.opencontainers.image.source":"URL"` with the URL escaped for JSON, or nothing.
    static func sourceJSON(_ source: String?) -> String {
        guard let source else { return "" }
        var escaped = ""
        for scalar in source.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20: escaped += String(format: "\\u%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return ",\"\(sourceLabel)\":\"\(escaped)\""
    }
}
