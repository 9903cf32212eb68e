import Crypto
import Foundation

/// A content descriptor as an OCI layout records it
/// ([image-spec descriptor](https://github.com/opencontainers/image-spec/blob/main/descriptor.md)).
public struct LayoutDescriptor: Sendable, Hashable {
    public let mediaType: String
    /// `sha256:<64 hex>`.
    public let digest: String
    public let size: Int
    public let annotations: [String: String]
    /// `os/architecture[/variant]` when the descriptor has a platform (`linux/arm64/v8`, `unknown/unknown`).
    public let platform: String?

    /// The 64 hex characters after `sha256:`.
    public var hex: String { String(digest.dropFirst("sha256:".count)) }

    public init(mediaType: String, digest: String, size: Int, annotations: [String: String] = [:],
                platform: String? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    init(_ object: [String: Any], file: String) throws {
        guard let digest = object["digest"] as? String, digest.hasPrefix("sha256:"), digest.count == 71,
              let size = object["size"] as? Int else {
            throw TestSupportError("\(file): a descriptor without a sha256 digest or size: rebuild the image fixtures")
        }
        self.mediaType = object["mediaType"] as? String ?? ""
        self.digest = digest
        self.size = size
        self.annotations = object["annotations"] as? [String: String] ?? [:]
        if let platform = object["platform"] as? [String: Any],
           let os = platform["os"] as? String, let architecture = platform["architecture"] as? String {
            self.platform = [os, architecture, platform["variant"] as? String].compactMap { $0 }.joined(separator: "/")
        } else {
            self.platform = nil
        }
    }
}

/// One image of an OCI layout, as the build tools wrote it: its manifest, config and layers.
public struct LayoutImage: Sendable, Hashable {
    /// The manifest's descriptor (in `index.json` or in the image index that lists it).
    public let manifest: LayoutDescriptor
    public let config: LayoutDescriptor
    public let layers: [LayoutDescriptor]
    /// The manifest bytes.
    public let manifestBytes: [UInt8]
    /// The config's `config.Labels`.
    public let labels: [String: String]
    /// The config's `architecture`, `os` and `variant`.
    public let architecture: String
    public let os: String
    public let variant: String?

    /// Every blob of the image: config, then layers.
    public var blobs: [LayoutDescriptor] { [config] + layers }
    /// The compressed size of all layers.
    public var layerBytes: Int { layers.reduce(0) { $0 + $1.size } }
}

/// Reads OCI image layouts ([image-layout](https://github.com/opencontainers/image-spec/blob/main/image-layout.md)).
public enum OCILayoutFacts {
    /// The descriptor of `index.json` whose `org.opencontainers.image.ref.name` is `tag`.
    public static func tagged(_ layout: String, tag: String) throws -> LayoutDescriptor {
        let file = "\(layout)/index.json"
        let entries = try json(file)["manifests"] as? [[String: Any]] ?? []
        let descriptors = try entries.map { try LayoutDescriptor($0, file: file) }
        guard let match = descriptors.first(where: { $0.annotations["org.opencontainers.image.ref.name"] == tag }) else {
            throw TestSupportError("\(file) has no manifest tagged \(tag): rebuild the image fixtures")
        }
        return match
    }

    /// The image whose manifest is `manifest`.
    public static func image(_ layout: String, manifest: LayoutDescriptor) throws -> LayoutImage {
        let bytes = try blob(layout, manifest)
        let file = "\(layout)/blobs/sha256/\(manifest.hex)"
        let object = try json(bytes, file)
        guard let config = object["config"] as? [String: Any], let layers = object["layers"] as? [[String: Any]] else {
            throw TestSupportError("\(file) is not an image manifest: rebuild the image fixtures")
        }
        let configDescriptor = try LayoutDescriptor(config, file: file)
        let configObject = try json(try blob(layout, configDescriptor), "\(layout)/blobs/sha256/\(configDescriptor.hex)")
        let settings = configObject["config"] as? [String: Any] ?? [:]
        return LayoutImage(manifest: manifest, config: configDescriptor,
                           layers: try layers.map { try LayoutDescriptor($0, file: file) }, manifestBytes: bytes,
                           labels: settings["Labels"] as? [String: String] ?? [:],
                           architecture: configObject["architecture"] as? String ?? "",
                           os: configObject["os"] as? String ?? "", variant: configObject["variant"] as? String)
    }

    /// The descriptors an image index blob lists.
    public static func children(_ layout: String, index: LayoutDescriptor) throws -> [LayoutDescriptor] {
        let file = "\(layout)/blobs/sha256/\(index.hex)"
        let entries = try json(try blob(layout, index), file)["manifests"] as? [[String: Any]] ?? []
        return try entries.map { try LayoutDescriptor($0, file: file) }
    }

    /// The bytes of a blob, checked against the descriptor's digest and size.
    public static func blob(_ layout: String, _ descriptor: LayoutDescriptor) throws -> [UInt8] {
        let path = "\(layout)/blobs/sha256/\(descriptor.hex)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestSupportError("\(path) is missing: rebuild the image fixtures")
        }
        let bytes = [UInt8](data)
        guard bytes.count == descriptor.size, sha256(bytes) == descriptor.digest else {
            throw TestSupportError("\(path) does not match \(descriptor.digest) (\(descriptor.size) bytes)")
        }
        return bytes
    }

    /// Problems of a layout: blobs whose content does not match their name, and descriptors reachable from
    /// `index.json` whose blob is missing or differs. Empty when the layout is complete and intact.
    public static func verify(_ layout: String) throws -> [String] {
        var problems: [String] = []
        let directory = "\(layout)/blobs/sha256"
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let digest = try sha256(file: "\(directory)/\(name)")
            if digest != "sha256:\(name)" { problems.append("blobs/sha256/\(name) hashes to \(digest)") }
        }
        let file = "\(layout)/index.json"
        var pending = try (try json(file)["manifests"] as? [[String: Any]] ?? []).map { try LayoutDescriptor($0, file: file) }
        var seen: Set<String> = []
        while let descriptor = pending.popLast() {
            guard seen.insert(descriptor.digest).inserted else { continue }
            let bytes: [UInt8]
            do { bytes = try blob(layout, descriptor) } catch { problems.append("\(error)"); continue }
            guard descriptor.mediaType.contains("manifest") || descriptor.mediaType.contains("index") else { continue }
            let object = try json(bytes, "blobs/sha256/\(descriptor.hex)")
            let listed = (object["manifests"] as? [[String: Any]] ?? []) + (object["layers"] as? [[String: Any]] ?? [])
                + [object["config"] as? [String: Any]].compactMap { $0 }
            pending += try listed.map { try LayoutDescriptor($0, file: descriptor.digest) }
        }
        return problems
    }

    /// `sha256:<hex>` of bytes.
    public static func sha256(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// `sha256:<hex>` of a file, read in 1 MiB pieces.
    public static func sha256(file: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw TestSupportError("cannot open \(file)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func json(_ file: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw TestSupportError("\(file) is missing: rebuild the image fixtures")
        }
        return try json([UInt8](data), file)
    }

    static func json(_ bytes: [UInt8], _ file: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw TestSupportError("\(file) is not a JSON object: rebuild the image fixtures")
        }
        return object
    }
}
