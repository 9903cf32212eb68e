import Foundation
import ImageSources
import OCI
import Testing
import TestSupport

@Suite struct PlaceholderImageTests {
    let image = PlaceholderImage.image

    /// The digest is part of the contract: every installation must push byte-identical placeholders,
    /// or repositories provisioned by another version would look like foreign images.
    @Test func digestIsStable() {
        #expect(image.manifestDigest.description == PlaceholderDigest.expected)
    }

    @Test func manifestReferencesItsBlobs() throws {
        let manifest = try JSONSerialization.jsonObject(with: Data(image.manifest)) as? [String: Any]
        #expect(manifest?["schemaVersion"] as? Int == 2)
        #expect(manifest?["mediaType"] as? String == MediaType.ociManifest)
        let config = manifest?["config"] as? [String: Any]
        #expect(config?["digest"] as? String == image.config.digest.description)
        #expect(config?["size"] as? Int == Int(image.config.size))
        let layers = manifest?["layers"] as? [[String: Any]]
        #expect(layers?.count == 1)
        #expect(layers?.first?["digest"] as? String == image.layers[0].digest.description)
        let annotations = manifest?["annotations"] as? [String: String]
        #expect(annotations?[PlaceholderImage.annotationKey] == "true")
    }

    @Test func layerIsAValidGzipTarThatSystemToolsRead() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("placeholder-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let layer = directory.appendingPathComponent("layer.tar.gz")
        try Data(image.layers[0].inMemoryBytes!).write(to: layer)
        let tar = try await ChildProcess.run(executable: "/bin/tar", arguments: ["-xzf", layer.path, "-C", directory.path],
                                             environment: ChildProcess.inheritedEnvironment())
        #expect(tar.exitCode == 0, "\(tar.stderr)")
        let text = try String(contentsOf: directory.appendingPathComponent("PLACEHOLDER"), encoding: .utf8)
        #expect(text.contains("placeholder image"))
    }

    @Test func configDiffIDMatchesTheUncompressedLayer() throws {
        let config = try JSONSerialization.jsonObject(with: Data(image.config.inMemoryBytes!)) as? [String: Any]
        let rootfs = config?["rootfs"] as? [String: Any]
        let diffIDs = rootfs?["diff_ids"] as? [String]
        #expect(diffIDs?.count == 1)
        #expect(config?["os"] as? String == "linux")
    }
}

enum PlaceholderDigest {
    /// Recorded when the placeholder was designed; see PlaceholderImage.swift before changing it.
    static let expected = "sha256:ad1beab491c0153acd1e77807acfe4b25c32c74254a7fc02e3f71b49368230cb"
}
