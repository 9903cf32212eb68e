import Foundation
import Synchronization

/// The real test images of Tests/Fixtures/images/build.sh (see the README there), with the digests the
/// build tools wrote into their layouts, so tests compare against what buildah produced.
///
/// `shared()` runs the script once per test process into `$STEVEDORE_IMAGE_CACHE`, or else
/// `<package root>/.test-tmp/image-fixtures`; the script's stamp makes a later call with an up-to-date
/// directory a no-op, and its lock serializes test processes that build at once.
public struct ImageFixtures: Sendable {
    /// The tag of every image in the layouts.
    public static let tag = "1.0"

    /// The output directory.
    public let directory: String
    /// `multi/`: 4-layer linux/amd64 image; `org.opencontainers.image.source` absent.
    public let multiLayout: String
    public let multiOCIArchive: String
    /// The classic docker-archive (uncompressed layers, symlinked `<id>/layer.tar`).
    public let multiDockerArchive: String
    /// The Docker 25+ `docker save` shape (OCI layout + manifest.json, gzip layers).
    public let multiDocker25Archive: String
    /// `index/`: `index.json` -> nested index -> amd64, arm64/v8 and an attestation manifest.
    public let indexLayout: String
    /// `big/`: 5 layers, about 86 MB gzip: the benchmark image.
    public let bigLayout: String

    /// The image of `multi/` (tag 1.0); the archives hold the same config and layer contents.
    public let multi: LayoutImage
    /// The image of `big/` (tag 1.0).
    public let big: LayoutImage
    /// The nested image index of `index/` as `index.json` describes it (tag 1.0).
    public let index: LayoutDescriptor
    /// The index's platform images, keyed `linux/amd64` and `linux/arm64/v8`.
    public let platforms: [String: LayoutImage]
    /// The attestation manifest (platform `unknown/unknown`) of the index.
    public let attestation: LayoutImage
    /// The descriptors the nested index lists, in order (amd64, arm64/v8, attestation).
    public let indexChildren: [LayoutDescriptor]

    /// The fixtures of this test process (built on first use).
    public static func shared() async throws -> ImageFixtures {
        let task = sharedBuild.withLock { task in
            if let task { return task }
            let made = Task { try await build(into: cacheDirectory) }
            task = made
            return made
        }
        return try await task.value
    }

    /// Runs the script into `directory` (a no-op when it is up to date) and reads the layouts.
    public static func build(into directory: String, debs: String? = nil,
                             timeout: Duration = .seconds(900)) async throws -> ImageFixtures {
        var environment = ChildProcess.inheritedEnvironment(["PATH", "LANG"])
        if let debs { environment["STEVEDORE_FIXTURE_DEBS"] = debs }
        let result = try await ChildProcess.run(executable: "/bin/bash", arguments: [scriptPath, directory],
                                                environment: environment, timeout: timeout)
        guard result.succeeded else {
            throw TestSupportError("\(scriptPath) \(directory) failed (exit \(result.exitCode)): "
                                   + ChildResult.tail(result.stderr + result.stdout, limit: 2000))
        }
        return try ImageFixtures(directory: directory)
    }

    /// Reads the layouts of an output directory of the script.
    public init(directory: String) throws {
        self.directory = directory
        multiLayout = "\(directory)/multi"
        multiOCIArchive = "\(directory)/multi.oci.tar"
        multiDockerArchive = "\(directory)/multi.docker.tar"
        multiDocker25Archive = "\(directory)/multi.docker25.tar"
        indexLayout = "\(directory)/index"
        bigLayout = "\(directory)/big"
        multi = try OCILayoutFacts.image(multiLayout, manifest: try OCILayoutFacts.tagged(multiLayout, tag: Self.tag))
        big = try OCILayoutFacts.image(bigLayout, manifest: try OCILayoutFacts.tagged(bigLayout, tag: Self.tag))
        index = try OCILayoutFacts.tagged(indexLayout, tag: Self.tag)
        indexChildren = try OCILayoutFacts.children(indexLayout, index: index)
        var platforms: [String: LayoutImage] = [:]
        var attestation: LayoutImage?
        for child in indexChildren {
            let image = try OCILayoutFacts.image(indexLayout, manifest: child)
            if child.annotations["vnd.docker.reference.type"] == "attestation-manifest" {
                attestation = image
            } else if let platform = child.platform {
                platforms[platform] = image
            }
        }
        guard let attestation, platforms.keys.sorted() == ["linux/amd64", "linux/arm64/v8"] else {
            throw TestSupportError("\(indexLayout): the nested index lacks a platform or the attestation: rebuild the image fixtures")
        }
        self.platforms = platforms
        self.attestation = attestation
    }

    /// The nested index blob's bytes (what a registry serves for the index).
    public func indexBytes() throws -> [UInt8] { try OCILayoutFacts.blob(indexLayout, index) }

    // MARK: Locations

    /// Tests/Fixtures/images/build.sh of this checkout.
    public static let scriptPath = "\(packageRoot)/Tests/Fixtures/images/build.sh"

    /// The package root, found from this file's path (Tests/TestSupport/ImageFixtures.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `$STEVEDORE_IMAGE_CACHE`, or `<package root>/.test-tmp/image-fixtures`.
    public static var cacheDirectory: String {
        if let explicit = ProcessInfo.processInfo.environment["STEVEDORE_IMAGE_CACHE"], !explicit.isEmpty { return explicit }
        return "\(packageRoot)/.test-tmp/image-fixtures"
    }

    private static let sharedBuild = Mutex<Task<ImageFixtures, Error>?>(nil)
}
