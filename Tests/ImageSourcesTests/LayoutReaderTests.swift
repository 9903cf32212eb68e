import Foundation
import ImageSources
import OCI
import Testing

/// The OCI layout and oci-archive readers on hand-written layouts: digests kept byte for byte, every broken input
/// a one-line error naming the file.
@Suite struct LayoutReaderTests {
    let loader = ImageLoader(compress: true, cacheDirectory: NSTemporaryDirectory() + "stevedore-layers-test")

    func problem(_ reference: ImageSourceReference) -> String? {
        do {
            _ = try loader.load(reference)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func anImageLoadsWithTheDigestsTheBuildWrote() async throws {
        let layout = try LayoutWriter()
        defer { layout.remove() }
        let manifest = try layout.image(layers: [Array("one".utf8), Array("two".utf8)], labels: ["a": "b"])
        try layout.top(MediaType.ociManifest, manifest)
        for reference in [ImageSourceReference.ociLayout(directory: layout.directory, reference: "1.0"),
                          .ociLayout(directory: layout.directory, reference: nil),
                          .ociLayout(directory: layout.directory, reference: manifest.digest.description),
                          .ociArchive(file: try await layout.archive(), reference: "1.0")] {
            let artifact = try loader.load(reference)
            #expect(artifact.manifestDigest == manifest.digest, "\(reference)")
            guard case .image(let image) = artifact else { Issue.record("not an image"); continue }
            #expect(image.layers.map(\.digest) == [Digest.sha256(Array("one".utf8)), Digest.sha256(Array("two".utf8))])
            #expect(image.labels == ["a": "b"])
            #expect(artifact.blobs.count == 3)
            #expect(artifact.totalBlobBytes == Int64(image.config.size) + 6)
        }
    }

    @Test func anIndexLoadsChildrenFirstAndSharedBlobsOnce() throws {
        let layout = try LayoutWriter()
        defer { layout.remove() }
        let amd = try layout.image(layers: [Array("base".utf8), Array("amd".utf8)])
        let arm = try layout.image(layers: [Array("base".utf8), Array("arm".utf8)], architecture: "arm64")
        let index = try layout.index([LayoutWriter.descriptor(MediaType.ociManifest, amd, platform: "linux/amd64"),
                                      LayoutWriter.descriptor(MediaType.ociManifest, arm, platform: "linux/arm64/v8")])
        try layout.top(MediaType.ociIndex, index)
        let artifact = try loader.load(.ociLayout(directory: layout.directory, reference: "1.0"))
        #expect(artifact.manifestDigest == index.digest)
        #expect(artifact.manifestsInPushOrder.map(\.digest) == [amd.digest, arm.digest, index.digest])
        #expect(artifact.manifestsInPushOrder.map { $0.platform?.description } == ["linux/amd64", "linux/arm64/v8", nil])
        let layers = artifact.blobs.map(\.digest)
        #expect(layers.filter { $0 == Digest.sha256(Array("base".utf8)) }.count == 1)
        #expect(layers.count == 5, "2 configs, the shared base layer once, 2 own layers")
    }

    @Test func brokenLayoutsAreOneLineErrorsNamingTheFile() throws {
        let layout = try LayoutWriter()
        defer { layout.remove() }
        let source = ImageSourceReference.ociLayout(directory: layout.directory, reference: "1.0")
        #expect(problem(source)?.contains("without index.json") == true)

        let manifest = try layout.image(layers: [Array("one".utf8)])
        try layout.top(MediaType.ociManifest, manifest)
        #expect(problem(.ociLayout(directory: layout.directory, reference: "2.0"))
            == "\(layout.directory) has no image tagged '2.0' (tags: 1.0)")

        // A layer that changed after the build.
        let layer = Digest.sha256(Array("one".utf8))
        try layout.write("blobs/sha256/\(layer.encoded)", Array("0ne".utf8))
        #expect(problem(source) == "\(layout.directory) has blob \(layer) whose content does not match its digest (it is \(Digest.sha256(Array("0ne".utf8))))")
        // Missing.
        try FileManager.default.removeItem(atPath: layout.directory + "/blobs/sha256/\(layer.encoded)")
        #expect(problem(source)?.hasPrefix("\(layout.directory) is missing blob \(layer)") == true)
        // Not a layout at all.
        try FileManager.default.removeItem(atPath: layout.directory + "/oci-layout")
        #expect(problem(source) == "\(layout.directory) is not an oci image layout (no oci-layout file)")
        #expect(problem(.ociLayout(directory: layout.directory + "/nope", reference: nil))?.contains("is not a directory") == true)
    }

    @Test func aManifestOverFourMiBIsRefusedBeforeAnythingIsSent() throws {
        let layout = try LayoutWriter()
        defer { layout.remove() }
        let padding = String(repeating: "x", count: 4 << 20)
        let config = try layout.blob(Array("{}".utf8))
        let manifest = try layout.blob(Array(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":\#(LayoutWriter.descriptor(MediaType.ociConfig, config)),"layers":[],"annotations":{"pad":"\#(padding)"}}"#.utf8))
        try layout.top(MediaType.ociManifest, manifest)
        let text = problem(.ociLayout(directory: layout.directory, reference: nil))
        #expect(text?.contains("4 MiB") == true, "\(text ?? "loaded")")
    }

    @Test func aTruncatedArchiveIsRefused() async throws {
        let layout = try LayoutWriter()
        defer { layout.remove() }
        try layout.top(MediaType.ociManifest, try layout.image(layers: [[UInt8](repeating: 7, count: 300_000)]))
        let file = try await layout.archive()
        let handle = try #require(FileHandle(forUpdatingAtPath: file))
        try handle.truncate(atOffset: 100_000)
        try handle.close()
        let text = problem(.ociArchive(file: file, reference: nil))
        #expect(text?.hasPrefix(file) == true && text?.contains("truncated") == true, "\(text ?? "loaded")")
        #expect(problem(.ociArchive(file: layout.directory + "/oci-layout", reference: nil))?.hasPrefix(layout.directory) == true)
    }

    @Test func aPlatformFilterMakesAValidIndexWithoutDanglingChildren() throws {
        let layout = try LayoutWriter()
        defer { layout.remove() }
        let amd = try layout.image(layers: [Array("amd".utf8)])
        let arm = try layout.image(layers: [Array("arm".utf8)], architecture: "arm64")
        let attestation = try layout.image(layers: [Array("provenance".utf8)])
        let index = try layout.index([
            LayoutWriter.descriptor(MediaType.ociManifest, amd, platform: "linux/amd64"),
            LayoutWriter.descriptor(MediaType.ociManifest, arm, platform: "linux/arm64/v8"),
            LayoutWriter.descriptor(MediaType.ociManifest, attestation, platform: "unknown/unknown",
                                    annotations: ["vnd.docker.reference.digest": arm.digest.description,
                                                  "vnd.docker.reference.type": "attestation-manifest"]),
        ])
        try layout.top(MediaType.ociIndex, index)
        let artifact = try loader.load(.ociLayout(directory: layout.directory, reference: nil))

        #expect(try artifact.selecting(platforms: []) == artifact)
        #expect(try artifact.selecting(platforms: [Platform(parsing: "linux/amd64")!, Platform(parsing: "linux/arm64")!]) == artifact,
                "every entry kept: the digest stays")

        let amdOnly = try artifact.selecting(platforms: [Platform(parsing: "linux/amd64")!])
        #expect(amdOnly.manifestDigest != index.digest)
        #expect(amdOnly.manifestsInPushOrder.map(\.digest) == [amd.digest, amdOnly.manifestDigest],
                "the arm64 image and its attestation go")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(amdOnly.manifest)) as? [String: Any])
        let entries = try #require(document["manifests"] as? [[String: Any]])
        #expect(entries.map { $0["digest"] as? String } == [amd.digest.description])
        #expect(document["mediaType"] as? String == MediaType.ociIndex)

        let armOnly = try artifact.selecting(platforms: [Platform(parsing: "linux/arm64")!])
        #expect(armOnly.manifestsInPushOrder.map(\.digest).prefix(2) == [arm.digest, attestation.digest],
                "the attestation of the kept image stays")

        #expect(throws: ImageSourceError.self) { try artifact.selecting(platforms: [Platform(parsing: "linux/s390x")!]) }
    }
}
