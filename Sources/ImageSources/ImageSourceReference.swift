import Foundation
import OCI

/// Where an image comes from, in skopeo's transport syntax:
///
/// - `oci:DIR[:TAG|@DIGEST]` — an OCI image layout directory (buildah, `docker buildx --output type=oci`, skopeo);
/// - `oci-archive:FILE[:TAG]` — the same layout as a tar;
/// - `docker-archive:FILE[:NAME:TAG]` — what `docker save` writes (both its shapes);
/// - `docker://[HOST/]NAME[:TAG|@DIGEST]` — an image in a registry (Docker Hub short names resolve as docker
///   resolves them), read by ``RegistryImageReader``.
///
/// Relative paths resolve against `base` (the services file's directory).
public enum ImageSourceReference: Sendable, Equatable, CustomStringConvertible {
    case ociLayout(directory: String, reference: String?)
    case ociArchive(file: String, reference: String?)
    case dockerArchive(file: String, name: String?)
    case registry(ImageReference)

    public static let transports = ["oci:", "oci-archive:", "docker-archive:", "docker://"]

    public static func parse(_ text: String, relativeTo base: String? = nil) throws(ImageSourceError) -> ImageSourceReference {
        func split(_ rest: Substring, allowDigest: Bool) -> (String, String?) {
            if allowDigest, let at = rest.firstIndex(of: "@") { return (String(rest[..<at]), String(rest[rest.index(after: at)...])) }
            guard let colon = rest.firstIndex(of: ":") else { return (String(rest), nil) }
            let reference = String(rest[rest.index(after: colon)...])
            return (String(rest[..<colon]), reference.isEmpty ? nil : reference)
        }
        func absolute(_ path: String) throws(ImageSourceError) -> String {
            guard !path.isEmpty else { throw ImageSourceError(text, "names no path") }
            if path.hasPrefix("/") || base == nil { return path }
            return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: base!, isDirectory: true)).standardizedFileURL.path
        }
        if text.hasPrefix("oci-archive:") {
            let (path, reference) = split(text.dropFirst("oci-archive:".count), allowDigest: false)
            return .ociArchive(file: try absolute(path), reference: reference)
        }
        if text.hasPrefix("oci:") {
            let (path, reference) = split(text.dropFirst("oci:".count), allowDigest: true)
            return .ociLayout(directory: try absolute(path), reference: reference)
        }
        if text.hasPrefix("docker://") {
            do { return .registry(try ImageReference(parsing: String(text.dropFirst("docker://".count)))) } catch {
                throw ImageSourceError(text, "is not an image reference: \(error.message)")
            }
        }
        if text.hasPrefix("docker-archive:") {
            let (path, name) = split(text.dropFirst("docker-archive:".count), allowDigest: false)
            return .dockerArchive(file: try absolute(path), name: name)
        }
        throw ImageSourceError(text, "is not an image source: use oci:DIR[:TAG], oci-archive:FILE[:TAG], "
                               + "docker-archive:FILE[:NAME:TAG] or docker://HOST/NAME[:TAG|@DIGEST]")
    }

    public var description: String {
        switch self {
        case let .ociLayout(directory, reference):
            "oci:\(directory)" + (reference.map { $0.hasPrefix("sha256:") ? "@\($0)" : ":\($0)" } ?? "")
        case let .ociArchive(file, reference): "oci-archive:\(file)" + (reference.map { ":\($0)" } ?? "")
        case let .dockerArchive(file, name): "docker-archive:\(file)" + (name.map { ":\($0)" } ?? "")
        case let .registry(reference): "docker://\(reference)"
        }
    }
}

/// Reads the artifact a reference names, checking it whole before anything is sent.
public struct ImageLoader: Sendable {
    /// Gzip the uncompressed layers of a classic docker-archive (false: push them uncompressed).
    public var compress: Bool
    public var cacheDirectory: String

    public init(compress: Bool = true, cacheDirectory: String = LayerCompressor.defaultDirectory()) {
        self.compress = compress
        self.cacheDirectory = cacheDirectory
    }

    public func load(_ reference: ImageSourceReference) throws(ImageSourceError) -> ImageArtifact {
        switch reference {
        case let .ociLayout(directory, tag):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ImageSourceError(directory, "is not a directory (an oci: source is an OCI image layout)")
            }
            var reader = OCILayoutReader(store: BlobStore(storage: .directory(directory), location: directory))
            return try reader.load(reference: tag)
        case let .ociArchive(file, tag):
            var reader = OCILayoutReader(store: BlobStore(storage: .archive(try TarIndex(path: file), prefix: ""), location: file))
            return try reader.load(reference: tag)
        case .registry:
            throw ImageSourceError(reference.description, "is in a registry: it is read over the network, not loaded")
        case let .dockerArchive(file, name):
            return try DockerArchiveReader(tar: try TarIndex(path: file), compress: compress,
                                           compressor: LayerCompressor(directory: cacheDirectory)).load(name: name)
        }
    }
}
