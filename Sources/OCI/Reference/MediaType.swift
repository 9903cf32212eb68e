import HTTPTransport

/// Media types this client sends and accepts.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests (the `Accept` header)
/// and the OCI image spec's media types.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerTarGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

    /// All four manifest and index types, for `Accept` headers on manifest requests.
    public static let manifestAccept: [String] = [ociManifest, ociIndex, dockerManifest, dockerManifestList]

    /// `manifestAccept` joined by ", ", computed once.
    public static let manifestAcceptHeader: String = manifestAccept.joined(separator: ", ")

    /// The media type of a `Content-Type` value, without parameters such as `; charset=utf-8`.
    public static func essence(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        let bare = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        let trimmed = bare.trimmingASCIISpaces()
        return trimmed.isEmpty ? nil : trimmed
    }
}

extension MediaType {
    /// Whether `mediaType` is an index (OCI image index or Docker manifest list).
    public static func isIndex(_ mediaType: String) -> Bool { mediaType == ociIndex || mediaType == dockerManifestList }
}
