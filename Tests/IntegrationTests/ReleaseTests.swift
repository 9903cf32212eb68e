import Foundation
import Testing
import TestSupport

/// A services file whose services each name an image source.
func releaseFile(_ workspace: Workspace, namespace: String, images: [(String, String)],
                 source: String? = nil) throws -> String {
    var text = "namespace: \(namespace)\n"
    if let source { text += "source: \(source)\n" }
    text += "services:\n"
    for (name, image) in images { text += "  - name: \(name)\n    image: \"\(image)\"\n" }
    return try workspace.write("release.yaml", text)
}

/// `stevedore push` of real images (Tests/Fixtures/images) into docker-registry, checked with skopeo and podman.
@Suite(.serialized) struct ReleaseTests {
    @Test func everySourceShapeLandsAndSkopeoAndPodmanAgree() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        let podman = try PodmanChecker.make()
        let workspace = try Workspace()
        defer { workspace.remove(); skopeo.remove(); podman.remove() }
        let file = try releaseFile(workspace, namespace: "rel", images: [
            ("layout", "oci:\(fixtures.multiLayout):1.0"), ("ociarchive", "oci-archive:\(fixtures.multiOCIArchive)"),
            ("docker", "docker-archive:\(fixtures.multiDockerArchive)"),
            ("docker25", "docker-archive:\(fixtures.multiDocker25Archive)"), ("multiarch", "oci:\(fixtures.indexLayout):1.0"),
        ])
        let cache = workspace.directory.appendingPathComponent("layers").path
        let run = try await runStevedore(["push", file, "--version", "1.0.0", "--registry", registry.address,
                                          "--db", workspace.db, "--quiet"],
                                         environment: ["STEVEDORE_CACHE_DIR": cache], timeout: .seconds(300))
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")

        // Layouts and the Docker 25 archive go byte for byte: the digests the build wrote.
        for service in ["layout", "ociarchive", "docker25"] {
            for tag in ["1.0.0", "latest"] {
                #expect(try await skopeo.inspect("\(registry.address)/rel/\(service):\(tag)").digest == fixtures.multi.manifest.digest,
                        "\(service):\(tag)")
            }
        }
        let multiarch = try await skopeo.inspectRaw("\(registry.address)/rel/multiarch:1.0.0")
        #expect(OCILayoutFacts.sha256(multiarch) == fixtures.index.digest)
        #expect(multiarch == (try fixtures.indexBytes()))

        // The classic archive: same config, layers gzipped here, and a digest that does not change between runs.
        let docker = try await skopeo.inspect("\(registry.address)/rel/docker:1.0.0")
        let dockerManifest = try #require(try JSONSerialization.jsonObject(with: Data(docker.rawManifest)) as? [String: Any])
        #expect((dockerManifest["config"] as? [String: Any])?["digest"] as? String == fixtures.multi.config.digest)
        #expect((dockerManifest["layers"] as? [[String: Any]])?.count == 4)
        #expect((dockerManifest["layers"] as? [[String: Any]])?.allSatisfy {
            ($0["mediaType"] as? String)?.hasSuffix("gzip") == true } == true)
        try FileManager.default.removeItem(atPath: cache)
        let dry = try await runStevedore(["verify", file, "--version", "1.0.0", "--registry", registry.address,
                                          "--db", workspace.db, "--quiet"],
                                         environment: ["STEVEDORE_CACHE_DIR": cache], timeout: .seconds(300))
        #expect(dry.exitCode == 0, "verify after recompressing from scratch: \(dry.stderr) \(dry.stdout)")

        // Independent clients get the whole image back.
        for service in ["docker", "multiarch"] {
            let layout = workspace.directory.appendingPathComponent("back-\(service)").path
            #expect(try await skopeo.pull("\(registry.address)/rel/\(service):1.0.0", intoLayout: layout) == [])
        }
        let amd = try await podman.pull("\(registry.address)/rel/multiarch:1.0.0", arch: "amd64")
        let arm = try await podman.pull("\(registry.address)/rel/multiarch:1.0.0", arch: "arm64", variant: "v8")
        #expect(amd.architecture == "amd64" && arm.architecture == "arm64")
        #expect(amd.digests.contains(fixtures.platforms["linux/amd64"]!.manifest.digest))
        #expect(arm.digests.contains(fixtures.platforms["linux/arm64/v8"]!.manifest.digest))

        // The audit log knows the source and every manifest, children first.
        let sources = try await sqlite(workspace.db, "SELECT service, source_digest FROM jobs ORDER BY seq")
        #expect(sources.first == "layout|\(fixtures.multi.manifest.digest)")
        let manifests = try await sqlite(workspace.db, """
            SELECT m.digest, m.platform FROM job_manifests m JOIN jobs j ON j.id = m.job_id
            WHERE j.id = (SELECT min(id) FROM jobs WHERE service = 'multiarch') ORDER BY m.id
            """)
        #expect(manifests.map { $0.split(separator: "|").first.map(String.init) ?? "" }
            == fixtures.indexChildren.map(\.digest) + [fixtures.index.digest])

        // A filtered push is a valid index of its own; podman still pulls it.
        let filtered = try await runStevedore(["push", file, "--version", "1.0.0-amd64", "--registry", registry.address,
                                               "--db", workspace.db, "--quiet", "--platform", "linux/amd64", "--latest", "never"],
                                              environment: ["STEVEDORE_CACHE_DIR": cache], timeout: .seconds(300))
        #expect(filtered.exitCode == 0, "stderr: \(filtered.stderr)")
        let subset = try await skopeo.inspectRaw("\(registry.address)/rel/multiarch:1.0.0-amd64")
        let subsetObject = try #require(try JSONSerialization.jsonObject(with: Data(subset)) as? [String: Any])
        let children = (subsetObject["manifests"] as? [[String: Any]])?.compactMap { $0["digest"] as? String }
        #expect(children == [fixtures.platforms["linux/amd64"]!.manifest.digest, fixtures.attestation.manifest.digest])
        let recorded = try await sqlite(workspace.db, "SELECT source_digest FROM jobs WHERE service = 'multiarch' ORDER BY id DESC LIMIT 1")
        #expect(recorded == [OCILayoutFacts.sha256(subset)])
        #expect(try await skopeo.pull("\(registry.address)/rel/multiarch:1.0.0-amd64",
                                      intoLayout: workspace.directory.appendingPathComponent("subset").path) == [])
        await registry.stop()
    }

    @Test func aHalfFailedReleaseMovesNoLatestAndRetryFinishesIt() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        let workspace = try Workspace()
        defer { workspace.remove() }
        let services = (1...20).map { String(format: "svc%02d", $0) }
        let file = try releaseFile(workspace, namespace: "mono", images: services.map { ($0, "oci:\(fixtures.multiLayout):1.0") })
        proxy.deny(repositories: ["mono/svc04", "mono/svc11", "mono/svc17"])
        let first = try await runStevedore(["push", file, "--version", "2.0.0", "--registry", proxy.address,
                                            "--db", workspace.db, "--quiet"], environment: [:], timeout: .seconds(300))
        #expect(first.exitCode == 1, "stderr: \(first.stderr)")
        let latestPuts = { registry.accessLog().filter { $0.method == "PUT" && $0.path.hasSuffix("/manifests/latest") } }
        #expect(latestPuts().isEmpty, "latest moved during a half-failed release")
        let versionPuts = registry.accessLog().filter { $0.method == "PUT" && $0.path.hasSuffix("/manifests/2.0.0") }
        #expect(versionPuts.count == 17)
        // The 20 jobs that would move latest are held (failed with class held, so retry takes them up).
        let held = try await sqlite(workspace.db, "SELECT status, error_class, count(*) FROM jobs GROUP BY 1, 2 ORDER BY 1, 2")
        #expect(held == ["failed|denied|3", "failed|held|20", "succeeded||17"])

        proxy.deny(repositories: [])
        let retry = try await runStevedore(["retry", "--registry", proxy.address, "--db", workspace.db, "--quiet"],
                                           environment: [:], timeout: .seconds(300))
        #expect(retry.exitCode == 0, "stderr: \(retry.stderr)")
        #expect(Set(latestPuts().map(\.path)) == Set(services.map { "/v2/mono/\($0)/manifests/latest" }))
        #expect(latestPuts().count == 20)
        for service in ["svc01", "svc11"] {
            let check = try await registry.send("HEAD", "/v2/mono/\(service)/manifests/latest",
                                                headers: ["Accept": "application/vnd.oci.image.manifest.v1+json"])
            #expect(check.header("docker-content-digest") == fixtures.multi.manifest.digest, "\(service)")
        }

        // Re-running the release sends no blob and no manifest.
        let before = registry.accessLog().count
        let again = try await runStevedore(["push", file, "--version", "2.0.0", "--registry", proxy.address,
                                            "--db", workspace.db, "--quiet"], environment: [:], timeout: .seconds(300))
        #expect(again.exitCode == 0, "stderr: \(again.stderr)")
        let rerun = registry.accessLog().dropFirst(before)
        #expect(rerun.filter { ["PUT", "PATCH", "POST"].contains($0.method) }.isEmpty, "\(rerun.filter { $0.method != "GET" && $0.method != "HEAD" })")

        // A version tag holding another image is refused, not overwritten.
        let other = try releaseFile(workspace, namespace: "mono", images: [("svc01", "oci:\(fixtures.bigLayout):1.0")])
        let conflict = try await runStevedore(["push", other, "--version", "2.0.0", "--registry", proxy.address,
                                               "--db", workspace.db], environment: [:], timeout: .seconds(300))
        #expect(conflict.exitCode == 1)
        #expect(conflict.stderr.contains("conflict") || conflict.stdout.contains("conflict"), "\(conflict.stderr)")
        let report = try await runStevedore(["report", "release", "2.0.0", "--format", "json", "--db", workspace.db],
                                            environment: [:])
        #expect(report.exitCode == 0, "stderr: \(report.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]])
        #expect(rows.compactMap { $0["service"] as? String } == services)
        #expect(rows.allSatisfy { $0["digest"] as? String == fixtures.multi.manifest.digest })
        #expect(rows.allSatisfy { ($0["moved"] as? [String]) == ["latest"] }, "\(rows.filter { ($0["moved"] as? [String]) != ["latest"] })")
        await proxy.stop()
        await registry.stop()
    }

    @Test func aSharedImageIsUploadedOnceAndMountedEverywhereElse() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let services = (1...20).map { "s\($0)" }
        let file = try releaseFile(workspace, namespace: "shared", images: services.map { ($0, "oci:\(fixtures.multiLayout):1.0") })
        let run = try await runStevedore(["push", file, "--version", "1.0", "--registry", registry.address,
                                          "--db", workspace.db, "--quiet"], environment: [:], timeout: .seconds(300))
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        let log = registry.accessLog()
        let blobs = [fixtures.multi.config] + fixtures.multi.layers
        for blob in blobs {
            let uploads = log.filter { $0.method == "PUT" && $0.query.contains("digest=\(blob.digest)") && $0.status == 201 }
            let mounts = log.filter { $0.method == "POST" && $0.query.contains("mount=\(blob.digest)") && $0.status == 201 }
            #expect(uploads.count == 1, "\(blob.digest) uploaded \(uploads.count) times")
            #expect(mounts.count == 19, "\(blob.digest) mounted \(mounts.count) times")
        }
        let summary = try await summaryJSON(db: workspace.db)
        let total = blobs.reduce(0) { $0 + $1.size }
        #expect(summary["bytes_uploaded"] as? Int ?? 0 >= total)
        #expect(summary["bytes_uploaded"] as? Int ?? 0 < total + total / 20)
        #expect(summary["bytes_mounted"] as? Int == total * 19)
        let actions = try await sqlite(workspace.db, "SELECT action, count(*) FROM blob_actions GROUP BY action ORDER BY action")
        #expect(actions == ["mounted|\(blobs.count * 19)", "uploaded|\(blobs.count)"])
        await registry.stop()
    }

    @Test func brokenInputIsExitTwoWithNothingSentAndDryRunOnlyReads() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { workspace.remove() }
        // A layout whose layer was truncated after the build.
        let broken = workspace.directory.appendingPathComponent("broken").path
        try FileManager.default.copyItem(atPath: fixtures.multiLayout, toPath: broken)
        let layer = "\(broken)/blobs/sha256/\(fixtures.multi.layers[1].hex)"
        let handle = try #require(FileHandle(forUpdatingAtPath: layer))
        try handle.truncate(atOffset: 10)
        try handle.close()
        let file = try releaseFile(workspace, namespace: "bad", images: [("good", "oci:\(fixtures.multiLayout):1.0"),
                                                                         ("bad", "oci:\(broken):1.0")])
        let run = try await runStevedore(["push", file, "--version", "1.0", "--registry", registry.address, "--db", workspace.db],
                                         environment: [:])
        #expect(run.exitCode == 2)
        let lines = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
        #expect(lines.count == 1 && lines[0].contains(broken) && lines[0].contains("service 'bad'"), "\(run.stderr)")
        #expect(lines.first?.contains("\(fixtures.multi.layers[1].digest) of 10 bytes") == true, "\(run.stderr)")
        #expect(registry.accessLog().filter { $0.path != "/v2/" }.isEmpty, "nothing is sent")
        if FileManager.default.fileExists(atPath: workspace.db) {
            #expect(try await sqlite(workspace.db, "SELECT count(*) FROM runs") == ["0"], "no run is recorded for bad input")
        }

        // The plan: reads only, and it says what would happen.
        let good = try releaseFile(workspace, namespace: "bad", images: [("good", "oci:\(fixtures.multiLayout):1.0")])
        let dryDB = workspace.directory.appendingPathComponent("dry.db").path
        let dry = try await runStevedore(["push", good, "--version", "1.0", "--registry", registry.address, "--dry-run",
                                          "--db", dryDB], environment: [:])
        #expect(dry.exitCode == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("bad/good") && dry.stdout.contains("1.0") && dry.stdout.contains("latest"), "\(dry.stdout)")
        #expect(registry.accessLog().allSatisfy { $0.method == "GET" || $0.method == "HEAD" })
        #expect(!FileManager.default.fileExists(atPath: dryDB), "a dry run writes nothing anywhere")
        await registry.stop()
    }
}
