import Foundation
import Testing
import TestSupport

/// The real test images (Tests/Fixtures/images) and the independent checkers: skopeo, podman, oras-py.
@Suite(.serialized) struct ImageFixtureTests {
    @Test func fixturesBuildWithTheShapesTheReadmePromises() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let fixtures = try await ImageFixtures.shared()
        print("image fixtures ready in \(clock.now - started) (\(fixtures.directory))")

        #expect(fixtures.multi.layers.count == 4)
        #expect(fixtures.multi.architecture == "amd64" && fixtures.multi.os == "linux")
        #expect(fixtures.multi.labels["org.opencontainers.image.source"] == nil)
        #expect(fixtures.multi.labels["org.opencontainers.image.version"] == "1.0")
        #expect(fixtures.multi.layers.allSatisfy { $0.mediaType == "application/vnd.oci.image.layer.v1.tar+gzip" })

        #expect(fixtures.index.mediaType == "application/vnd.oci.image.index.v1+json")
        #expect(fixtures.indexChildren.map { $0.platform } == ["linux/amd64", "linux/arm64/v8", "unknown/unknown"])
        let amd64 = try #require(fixtures.platforms["linux/amd64"])
        let arm64 = try #require(fixtures.platforms["linux/arm64/v8"])
        #expect(amd64.layers == arm64.layers)
        #expect(amd64.config != arm64.config)
        #expect(arm64.architecture == "arm64" && arm64.variant == "v8")
        let attestation = fixtures.indexChildren[2]
        #expect(attestation.annotations["vnd.docker.reference.type"] == "attestation-manifest")
        #expect(attestation.annotations["vnd.docker.reference.digest"] == amd64.manifest.digest)
        #expect(fixtures.attestation.layers.map(\.mediaType) == ["application/vnd.in-toto+json"])
        let statement = try OCILayoutFacts.blob(fixtures.indexLayout, fixtures.attestation.layers[0])
        #expect(String(decoding: statement, as: UTF8.self).contains(amd64.manifest.hex))

        #expect(fixtures.big.layers.count == 5)
        #expect(fixtures.big.layerBytes >= 50_000_000)
        #expect(fixtures.big.layers.contains { $0.size > 4 << 20 })

        for layout in [fixtures.multiLayout, fixtures.indexLayout, fixtures.bigLayout] {
            #expect(try OCILayoutFacts.verify(layout) == [], "\(layout)")
        }
        // The classic docker-archive: uncompressed layers and legacy layer.tar entries that are symlinks.
        let listing = try await ChildProcess.run(executable: "/bin/tar", arguments: ["-tvf", fixtures.multiDockerArchive],
                                                 environment: [:])
        let links = listing.stdout.split(separator: "\n").filter { $0.hasPrefix("l") && $0.contains("/layer.tar -> ../") }
        #expect(links.count == 4, "\(listing.stdout)")
        let docker25 = try await ChildProcess.run(executable: "/bin/tar", arguments: ["-xOf", fixtures.multiDocker25Archive,
                                                                                     "manifest.json"], environment: [:])
        let manifest = try JSONSerialization.jsonObject(with: Data(docker25.stdout.utf8)) as? [[String: Any]]
        #expect(manifest?.first?["Layers"] as? [String] == fixtures.multi.layers.map { "blobs/sha256/\($0.hex)" })
        #expect(manifest?.first?["Config"] as? String == "blobs/sha256/\(fixtures.multi.config.hex)")
    }

    @Test func skopeoCopiesEveryShapeOfMultiIntoARegistryAndBack() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        let work = try TempDirectory.create(prefix: "multi-shapes")
        defer { work.remove(); skopeo.remove() }
        let sources = [("layout", "oci:\(fixtures.multiLayout):1.0"), ("ociarchive", "oci-archive:\(fixtures.multiOCIArchive)"),
                       ("docker", "docker-archive:\(fixtures.multiDockerArchive)"),
                       ("docker25", "docker-archive:\(fixtures.multiDocker25Archive)")]
        for (name, source) in sources {
            let reference = "\(registry.address)/shapes/\(name):1.0"
            try await skopeo.copy(from: source, to: "docker://\(reference)")
            let image = try await skopeo.inspect(reference)
            let raw = try JSONSerialization.jsonObject(with: Data(image.rawManifest)) as? [String: Any]
            let config = (raw?["config"] as? [String: Any])?["digest"] as? String
            #expect(config == fixtures.multi.config.digest, "\(name)")
            #expect(image.layers.count == 4, "\(name)")
            #expect(image.labels["org.opencontainers.image.title"] == "stevedore-fixture-multi")
            if name == "layout" || name == "ociarchive" {
                // The OCI sources are copied unchanged: same manifest bytes, same digest.
                #expect(image.digest == fixtures.multi.manifest.digest, "\(name)")
                #expect(image.rawManifest == fixtures.multi.manifestBytes, "\(name)")
                #expect(image.layers == fixtures.multi.layers.map(\.digest))
            } else {
                // Docker archives hold uncompressed layers: skopeo gzips them and pushes Docker schema2.
                #expect(image.manifestMediaType == "application/vnd.docker.distribution.manifest.v2+json", "\(name)")
            }
            let problems = try await skopeo.pull(reference, intoLayout: work.file(name))
            #expect(problems == [], "\(name)")
        }
        await registry.stop()
    }

    @Test func theNestedIndexCopiesWholeAndPodmanPullsBothPlatforms() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        let podman = try PodmanChecker.make()
        defer { skopeo.remove(); podman.remove() }
        let reference = "\(registry.address)/multiarch/index:1.0"
        try await skopeo.push(layout: fixtures.indexLayout, tag: "1.0", to: reference)
        #expect(try await skopeo.inspectRaw(reference) == (try fixtures.indexBytes()))
        #expect(try await skopeo.inspect(reference).digest == fixtures.index.digest)
        let attestation = "\(registry.address)/multiarch/index@\(fixtures.attestation.manifest.digest)"
        #expect(try await skopeo.inspectRaw(attestation) == fixtures.attestation.manifestBytes)

        let amd64 = try #require(fixtures.platforms["linux/amd64"])
        let arm64 = try #require(fixtures.platforms["linux/arm64/v8"])
        let pulledAMD64 = try await podman.pull(reference)
        #expect(pulledAMD64.architecture == "amd64")
        #expect(pulledAMD64.digest == fixtures.index.digest)
        #expect(pulledAMD64.digests.contains(amd64.manifest.digest))
        #expect(pulledAMD64.id == amd64.config.hex)
        #expect(pulledAMD64.labels == amd64.labels)
        let pulledARM64 = try await podman.pull(reference, arch: "arm64", variant: "v8")
        #expect(pulledARM64.architecture == "arm64")
        #expect(pulledARM64.digests.contains(arm64.manifest.digest))
        #expect(pulledARM64.id == arm64.config.hex)
        #expect(pulledARM64.labels["org.opencontainers.image.source"] == "https://github.com/stevedore-fixtures/index")
        await registry.stop()
    }

    @Test func orasPullsTheImageAndPushesAReferrer() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        let work = try TempDirectory.create(prefix: "oras")
        defer { work.remove(); skopeo.remove() }
        let reference = "\(registry.address)/oras/multi:1.0"
        try await skopeo.push(layout: fixtures.multiLayout, tag: "1.0", to: reference)

        let manifest = try await OrasChecker.manifest(reference)
        #expect(manifest.digest == fixtures.multi.manifest.digest)
        #expect(manifest.mediaType == "application/vnd.oci.image.manifest.v1+json")
        let pulled = try await OrasChecker.pull(reference, into: work.file("blobs"))
        #expect(pulled.digest == fixtures.multi.manifest.digest)
        #expect(pulled.blobs.map(\.digest) == fixtures.multi.blobs.map(\.digest))
        #expect(pulled.blobs.allSatisfy { $0.matches })

        let sbom = try work.write("sbom.spdx.json", #"{"spdxVersion":"SPDX-2.3","name":"stevedore-fixture-multi"}"#)
        let referrer = try await OrasChecker.pushReferrer("\(registry.address)/oras/multi:sbom", file: sbom,
                                                          fileMediaType: "application/spdx+json",
                                                          artifactType: "application/vnd.stevedore.sbom.v1+json",
                                                          subject: fixtures.multi.manifest)
        let stored = try await OrasChecker.manifest("\(registry.address)/oras/multi@\(referrer)")
        #expect(stored.digest == referrer)
        #expect(stored.subject == fixtures.multi.manifest.digest)
        #expect(stored.configMediaType == "application/vnd.stevedore.sbom.v1+json")
        // registry 2.8.2 has no referrers API: a client must find referrers some other way (tag schema).
        let referrers = try await registry.send("GET", "/v2/oras/multi/referrers/\(fixtures.multi.manifest.digest)")
        #expect(referrers.status == 404)
        await registry.stop()
    }

    @Test func aRebuildGivesIdenticalDigests() async throws {
        let fixtures = try await ImageFixtures.shared()
        let again = try TempDirectory.create(prefix: "image-rebuild")
        defer { again.remove() }
        let clock = ContinuousClock()
        let started = clock.now
        let rebuilt = try await ImageFixtures.build(into: again.path, debs: "\(fixtures.directory)/.work/debs")
        print("image fixtures rebuilt in \(clock.now - started)")
        #expect(rebuilt.multi == fixtures.multi)
        #expect(rebuilt.big == fixtures.big)
        #expect(rebuilt.index == fixtures.index)
        #expect(rebuilt.indexChildren == fixtures.indexChildren)
        for archive in ["multi.oci.tar", "multi.docker.tar", "multi.docker25.tar"] {
            #expect(try OCILayoutFacts.sha256(file: again.file(archive))
                    == (try OCILayoutFacts.sha256(file: "\(fixtures.directory)/\(archive)")), "\(archive)")
        }
        // A second call on an up-to-date directory does nothing.
        let noop = try await ChildProcess.run(executable: "/bin/bash", arguments: [ImageFixtures.scriptPath, again.path],
                                              environment: ChildProcess.inheritedEnvironment(["PATH"]))
        #expect(noop.exitCode == 0)
        #expect(noop.stdout.contains("is up to date"), "\(noop)")
    }
}
