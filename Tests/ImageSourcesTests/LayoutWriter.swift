import Foundation
import ImageSources
import OCI
import TestSupport

/// Writes small OCI image layouts by hand into a temporary directory, so the readers can be tested on exact
/// documents, including broken ones, without building images.
struct LayoutWriter {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "layout-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
        try write("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + relative))
    }

    /// Stores `bytes` as a blob; returns its descriptor JSON fields.
    @discardableResult
    func blob(_ bytes: [UInt8]) throws -> (digest: Digest, size: Int) {
        let digest = Digest.sha256(bytes)
        try write("blobs/sha256/\(digest.encoded)", bytes)
        return (digest, bytes.count)
    }

    static func descriptor(_ mediaType: String, _ blob: (digest: Digest, size: Int), platform: String? = nil,
                           annotations: [String: String] = [:]) -> String {
        var fields = [#""mediaType":"\#(mediaType)""#, #""digest":"\#(blob.digest)""#, #""size":\#(blob.size)"#]
        if let platform {
            let parts = platform.split(separator: "/").map(String.init)
            var object = #""os":"\#(parts[0])","architecture":"\#(parts[1])""#
            if parts.count > 2 { object += #","variant":"\#(parts[2])""# }
            fields.append(#""platform":{\#(object)}"#)
        }
        if !annotations.isEmpty {
            let pairs = annotations.sorted { $0.key < $1.key }.map { #""\#($0.key)":"\#($0.value)""# }
            fields.append(#""annotations":{\#(pairs.joined(separator: ","))}"#)
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// An image of `layers` (bytes each); returns the manifest blob.
    func image(layers: [[UInt8]], architecture: String = "amd64", labels: [String: String] = [:]) throws
        -> (digest: Digest, size: Int) {
        let labelText = labels.sorted { $0.key < $1.key }.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ",")
        let config = try blob(Array(#"{"architecture":"\#(architecture)","os":"linux","config":{"Labels":{\#(labelText)}},"rootfs":{"type":"layers","diff_ids":[]}}"#.utf8))
        let layerDescriptors = try layers.map { Self.descriptor(MediaType.ociLayerTarGzip, try blob($0)) }
        let manifest = #"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":\#(Self.descriptor(MediaType.ociConfig, config)),"layers":[\#(layerDescriptors.joined(separator: ","))]}"#
        return try blob(Array(manifest.utf8))
    }

    /// An index blob listing `entries` (descriptor JSON).
    func index(_ entries: [String]) throws -> (digest: Digest, size: Int) {
        try blob(Array(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociIndex)","manifests":[\#(entries.joined(separator: ","))]}"#.utf8))
    }

    /// `index.json` naming `manifest` with a tag.
    func top(_ mediaType: String, _ manifest: (digest: Digest, size: Int), tag: String = "1.0") throws {
        let entry = Self.descriptor(mediaType, manifest, annotations: ["org.opencontainers.image.ref.name": tag])
        try write("index.json", Array(#"{"schemaVersion":2,"manifests":[\#(entry)]}"#.utf8))
    }

    /// The layout as a tar (an oci-archive) next to the directory.
    func archive() async throws -> String {
        let file = directory + ".tar"
        let result = try await ChildProcess.run(executable: "/bin/tar", arguments: ["-cf", file, "-C", directory, "."],
                                                environment: [:])
        guard result.succeeded else { throw TestSupportError("tar failed: \(result.stderr)") }
        return file
    }
}
