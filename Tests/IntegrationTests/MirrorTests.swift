import Foundation
import Testing
import TestSupport

/// `stevedore copy` and `docker://` sources between two real docker-registry instances: the source behind the fault
/// proxy (to count and break its requests), checked with skopeo, podman and the registries' own logs.
@Suite(.serialized) struct MirrorTests {
    struct Setup {
        let fixtures: ImageFixtures
        let source: RegistryFixture
        let proxy: FaultProxy
        let destination: RegistryFixture
        let skopeo: SkopeoChecker
        let workspace: Workspace

        func stop() async {
            await proxy.stop()
            await source.stop()
            await destination.stop()
            skopeo.remove()
            workspace.remove()
        }

        /// `docker://` of the source, through the proxy.
        func src(_ name: String) -> String { "docker://\(proxy.address)/\(name)" }
        func dst(_ name: String) -> String { "docker://\(destination.address)/\(name)" }

        func stevedore(_ arguments: [String]) async throws -> ChildResult {
            try await runStevedore(arguments + ["--db", workspace.db], environment: [:], timeout: .seconds(300))
        }

        /// Manifest and blob GETs the source saw (through the proxy), by kind.
        func sourceGets() -> (manifests: Int, blobs: Int, heads: Int) {
            let requests = proxy.receivedRequests
            return (requests.filter { $0.method == "GET" && $0.uri.contains("/manifests/") }.count,
                    requests.filter { $0.method == "GET" && $0.uri.contains("/blobs/") }.count,
                    requests.filter { $0.method == "HEAD" && $0.uri.contains("/manifests/") }.count)
        }
    }

    /// The source holds the two-platform index (`mirror/app:1.0`) and the single image (`mirror/single:1.0`);
    /// the index has a cosign-style `.sig` tag and an OCI referrer listed under the `sha256-<hex>` tag schema.
    func start() async throws -> Setup {
        let fixtures = try await ImageFixtures.shared()
        let source = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: source.address, .init(rate: 0))
        let destination = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        let setup = Setup(fixtures: fixtures, source: source, proxy: proxy, destination: destination, skopeo: skopeo,
                          workspace: try Workspace())
        try await skopeo.push(layout: fixtures.indexLayout, tag: "1.0", to: "\(source.address)/mirror/app:1.0")
        try await skopeo.push(layout: fixtures.multiLayout, tag: "1.0", to: "\(source.address)/mirror/single:1.0")
        try await Attachments.attach(to: "mirror/app", subject: fixtures.index.digest, size: fixtures.index.size,
                                     mediaType: fixtures.index.mediaType, in: source, workspace: setup.workspace)
        return setup
    }

    @Test func copiesTheWholeIndexWithItsSignatureAndReferrerAndSkipsWithHeadsOnly() async throws {
        let setup = try await start()
        defer { Task { await setup.stop() } }
        let index = setup.fixtures.index.digest
        let run = try await setup.stevedore(["copy", setup.src("mirror/app:1.0"), setup.dst("org/app:1.0"), "--quiet"])
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        let destination = setup.destination.address
        #expect(OCILayoutFacts.sha256(try await setup.skopeo.inspectRaw("\(destination)/org/app:1.0")) == index)
        let hex = index.dropFirst("sha256:".count)
        // The signature tag and the referrers index came along, digests kept.
        for tag in ["sha256-\(hex).sig", "sha256-\(hex)"] {
            let copied = OCILayoutFacts.sha256(try await setup.skopeo.inspectRaw("\(destination)/org/app:\(tag)"))
            let original = OCILayoutFacts.sha256(try await setup.skopeo.inspectRaw("\(setup.source.address)/mirror/app:\(tag)"))
            #expect(copied == original, "\(tag)")
        }
        let referrer = try await OrasChecker.manifest("\(destination)/org/app@\(try await Attachments.referrerDigest(setup.source))")
        #expect(referrer.subject == index)
        // Every distinct blob crossed once; each read from the source once.
        let gets = setup.sourceGets()
        let distinct = Set(setup.source.accessLog().filter { $0.method == "GET" && $0.path.contains("/blobs/") }.map(\.path))
        #expect(gets.blobs == distinct.count)
        let audit = try await sqlite(setup.workspace.db, "SELECT command, status FROM runs")
        #expect(audit == ["copy|succeeded"])
        let job = try await sqlite(setup.workspace.db, "SELECT source, source_digest, digest FROM jobs")
        #expect(job == ["\(setup.src("mirror/app:1.0"))|\(index)|\(index)"])
        let manifests = try await sqlite(setup.workspace.db, "SELECT count(*) FROM job_manifests")
        // amd64, arm64, attestation, the index, the signature, the referrer and the referrers index.
        #expect(manifests == ["7"])

        // report state tells which upstream image and digest the mirrored tag holds.
        let state = try await setup.stevedore(["report", "state", "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows.first?["source"] as? String == setup.src("mirror/app:1.0"))
        #expect(rows.first?["digest"] as? String == index)

        // Again: the tag holds the digest, so one HEAD on each side and no pull.
        let before = setup.sourceGets()
        let again = try await setup.stevedore(["copy", setup.src("mirror/app:1.0"), setup.dst("org/app:1.0"), "--quiet"])
        #expect(again.exitCode == 0, "stderr: \(again.stderr)")
        let after = setup.sourceGets()
        #expect(after.manifests == before.manifests && after.blobs == before.blobs)
        #expect(after.heads == before.heads + 1)
        #expect(try await sqlite(setup.workspace.db, "SELECT status FROM jobs ORDER BY id DESC LIMIT 1") == ["skipped"])

        // --no-referrers: the image alone.
        let bare = try await setup.stevedore(["copy", setup.src("mirror/app:1.0"), setup.dst("org/bare:1.0"),
                                              "--no-referrers", "--quiet"])
        #expect(bare.exitCode == 0, "stderr: \(bare.stderr)")
        let tags = try await setup.destination.send("GET", "/v2/org/bare/tags/list")
        #expect(String(decoding: tags.body, as: UTF8.self).contains("\"tags\":[\"1.0\"]"),
                "\(String(decoding: tags.body, as: UTF8.self))")
    }

    @Test func mirrorsTwentyServicesReadingEachBlobOnceAndPodmanPullsBothPlatforms() async throws {
        let setup = try await start()
        defer { Task { await setup.stop() } }
        let images = (1...20).map { number in
            ("svc\(number)", number % 2 == 0 ? setup.src("mirror/app:1.0") : setup.src("mirror/single:1.0"))
        }
        let file = try releaseFile(setup.workspace, namespace: "mirror", images: images)
        // Faults on the source: a blob download reset halfway (resumed with a Range request), 503s and a 429.
        let big = setup.fixtures.multi.layers.max { $0.size < $1.size }!
        _ = setup.proxy.install(.init(.init(method: "GET", pathContains: String(big.digest.dropFirst(7))),
                                      .resetAfterAnswerBytes(big.size / 2)))
        _ = setup.proxy.install(.init(.init(method: "GET", pathContains: "/manifests/", occurrence: 2),
                                      .answer(status: 503, code: "UNAVAILABLE", message: "try later", headers: [:])))
        _ = setup.proxy.install(.init(.init(method: "HEAD", pathContains: "/manifests/", occurrence: 1),
                                      .answer(status: 429, code: "TOOMANYREQUESTS", message: "slow down",
                                              headers: ["Retry-After": "1"])))
        let run = try await setup.stevedore(["push", file, "--version", "1.0", "--registry", setup.destination.address])
        #expect(run.exitCode == 0, "stderr: \(run.stderr) stdout: \(run.stdout)")
        let resumed = setup.proxy.receivedRequests.filter { $0.uri.contains(String(big.digest.dropFirst(7))) }
        #expect(resumed.count == 2)
        #expect(resumed.last?.header("Range") == "bytes=\(big.size / 2)-")
        for number in [1, 2, 19, 20] {
            let expected = number % 2 == 0 ? setup.fixtures.index.digest : setup.fixtures.multi.manifest.digest
            let raw = try await setup.skopeo.inspectRaw("\(setup.destination.address)/mirror/svc\(number):1.0")
            #expect(OCILayoutFacts.sha256(raw) == expected, "svc\(number)")
        }
        // Each distinct blob was read from the source once (the reset one twice, the second time from its middle).
        let blobGets = setup.proxy.receivedRequests.filter { $0.method == "GET" && $0.uri.contains("/blobs/") }
        #expect(blobGets.count == Set(blobGets.map(\.uri)).count + 1)
        // Uploaded once per blob to the destination, mounted everywhere else.
        let uploads = count(setup.destination.accessLog(), "PUT", "/blobs/uploads/")
        #expect(uploads == Set(blobGets.map(\.uri)).count)
        let podman = try PodmanChecker.make()
        defer { podman.remove() }
        let arm = try await podman.pull("\(setup.destination.address)/mirror/svc2:1.0", arch: "arm64", variant: "v8")
        let amd = try await podman.pull("\(setup.destination.address)/mirror/svc2:1.0", arch: "amd64")
        #expect(arm.architecture == "arm64" && amd.architecture == "amd64")
    }

    @Test func stopsBeforeThePullsWhenTheBudgetIsShortOrWaitsForIt() async throws {
        let setup = try await start()
        defer { Task { await setup.stop() } }
        let file = try releaseFile(setup.workspace, namespace: "budget", images: [
            ("a", setup.src("mirror/app:1.0")), ("b", setup.src("mirror/single:1.0")),
        ])
        setup.proxy.setPullBudget(.init(limit: 100, remaining: 1))
        let stopped = try await setup.stevedore(["provision", file, "--registry", setup.destination.address])
        #expect(stopped.exitCode == 4)
        #expect(stopped.stderr.contains("allows 1 more pulls (limit 100 per 6h) but this run needs at least 2"),
                "stderr: \(stopped.stderr)")
        #expect(setup.sourceGets().manifests == 0, "nothing was pulled")
        #expect(setup.proxy.pullBudgetRemaining == 1)

        let waiting = try spawnStevedore(["provision", file, "--registry", setup.destination.address, "--quiet",
                                          "--wait-for-pull-budget", "--pull-budget-poll", "1s", "--db", setup.workspace.db])
        try await Task.sleep(for: .seconds(3))
        #expect(setup.sourceGets().manifests == 0, "still waiting")
        setup.proxy.setPullBudget(.init(limit: 100, remaining: 50))
        let done = try await waiting.wait(timeout: .seconds(120))
        #expect(done.exitCode == 0, "stderr: \(done.stderr)")
        #expect(OCILayoutFacts.sha256(try await setup.skopeo.inspectRaw("\(setup.destination.address)/budget/a:latest"))
            == setup.fixtures.index.digest)
    }

    @Test func aRedirectedBlobDownloadCarriesNoCredentials() async throws {
        let fixtures = try await ImageFixtures.shared()
        let tokens = try await TokenServer.start(users: ["writer": .readWrite("writer-secret-1"),
                                                         "reader": .readOnly("reader-secret-2")])
        let source = try await RegistryFixture.start(.token(realm: tokens.realm, service: TokenServer.service,
                                                            issuer: TokenServer.issuer,
                                                            rootCertBundle: tokens.certificatePath))
        // The storage host a blob GET is sent to: another origin serving the same blobs without registry auth.
        let blobStore = try await RegistryFixture.start(.anonymous)
        let storage = try await LoopbackOrigin.start(upstream: blobStore.address)
        let proxy = try await FaultProxy.start(upstream: source.address, .init(rate: 0))
        let destination = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        let workspace = try Workspace()
        defer {
            Task {
                await proxy.stop(); await storage.stop(); await blobStore.stop(); await source.stop()
                await destination.stop(); await tokens.stop()
                skopeo.remove(); workspace.remove()
            }
        }
        try await skopeo.push(layout: fixtures.multiLayout, tag: "1.0", to: "\(source.address)/up/single:1.0",
                              credentials: ("writer", "writer-secret-1"))
        try await skopeo.push(layout: fixtures.multiLayout, tag: "1.0", to: "\(blobStore.address)/up/single:1.0")
        _ = proxy.install(.init(.init(method: "GET", pathContains: "/blobs/sha256:", count: 100),
                                .redirect(to: storage.baseURL)))
        let run = try await runStevedore(["copy", "docker://\(proxy.address)/up/single:1.0",
                                          "docker://\(destination.address)/down/single:1.0",
                                          "--src-creds", "reader:reader-secret-2", "--db", workspace.db],
                                         environment: ["USER_NAME": "someone", "CR_PAT": "destination-secret-3"],
                                         timeout: .seconds(300))
        #expect(run.exitCode == 0, "stderr: \(run.stderr) stdout: \(run.stdout)")
        #expect(try await skopeo.inspect("\(destination.address)/down/single:1.0").digest == fixtures.multi.manifest.digest)
        let redirected = storage.receivedRequests
        #expect(redirected.count == fixtures.multi.layers.count + 1)
        #expect(redirected.allSatisfy { $0.header("Authorization") == nil })
        // The source's read-only token was asked for with the reader's name; the destination's never went there.
        #expect(proxy.receivedRequests.allSatisfy { !($0.header("Authorization") ?? "").contains("destination-secret-3") })
        #expect(tokens.refusedCount == 0)
        let secrets = try await sqlite(workspace.db, "SELECT count(*) FROM runs WHERE options LIKE '%secret%' OR command_line LIKE '%secret-2%'")
        #expect(secrets == ["0"])
    }

    @Test func aPartnerTokenProvesItCanPullTheWholeRelease() async throws {
        let fixtures = try await ImageFixtures.shared()
        let tokens = try await TokenServer.start(users: [
            "writer": .readWrite("writer-secret-1"), "partner": .readOnly("partner-secret-2"),
            "other": TokenServer.User(password: "other-secret-3", grants: [("elsewhere/", ["pull"])]),
        ])
        let registry = try await RegistryFixture.start(.token(realm: tokens.realm, service: TokenServer.service,
                                                              issuer: TokenServer.issuer,
                                                              rootCertBundle: tokens.certificatePath))
        let skopeo = try SkopeoChecker.make()
        let workspace = try Workspace()
        defer { Task { await registry.stop(); await tokens.stop(); skopeo.remove(); workspace.remove() } }
        for (name, layout) in [("a", fixtures.indexLayout), ("b", fixtures.multiLayout)] {
            try await skopeo.push(layout: layout, tag: "1.0", to: "\(registry.address)/rel/\(name):2.0",
                                  credentials: ("writer", "writer-secret-1"))
        }
        let file = try releaseFile(workspace, namespace: "rel", images: [
            ("a", "oci:\(fixtures.indexLayout):1.0"), ("b", "oci:\(fixtures.multiLayout):1.0"),
        ])
        func verify(_ user: String, _ password: String) async throws -> ChildResult {
            try await runStevedore(["verify", file, "--version", "2.0", "--pull", "--blobs", "--registry",
                                    registry.address, "--username", user, "--password-stdin", "--db", workspace.db],
                                   environment: [:], stdin: Array(password.utf8), timeout: .seconds(300))
        }
        let before = registry.accessLog().count
        let partner = try await verify("partner", "partner-secret-2")
        #expect(partner.exitCode == 0, "stderr: \(partner.stderr) stdout: \(partner.stdout)")
        let log = registry.accessLog().dropFirst(before)
        // Every layer of both images (the index's two platforms and its attestation) was pulled, nothing written.
        let layers = Set(fixtures.platforms.values.flatMap(\.layers).map(\.digest) + fixtures.multi.layers.map(\.digest)
                         + fixtures.attestation.layers.map(\.digest))
        let pulled = Set(log.filter { $0.method == "GET" && $0.path.contains("/blobs/") }
            .compactMap { $0.path.split(separator: "/").last.map(String.init) })
        #expect(layers.isSubset(of: pulled))
        #expect(log.allSatisfy { $0.method == "GET" || $0.method == "HEAD" })
        let other = try await verify("other", "other-secret-3")
        #expect(other.exitCode == 1, "stdout: \(other.stdout)")
        let failures = try await sqlite(workspace.db, """
            SELECT j.service, j.error_class FROM jobs j WHERE j.run_id = (SELECT max(id) FROM runs) ORDER BY j.seq
            """)
        #expect(failures.count == 2 && failures.allSatisfy { $0.hasSuffix("|denied") || $0.hasSuffix("|auth_failed") },
                "\(failures)")
    }

    @Test func anUpstreamPlaceholderIsFetchedOnceAndAPlatformSubsetIsAValidIndex() async throws {
        let setup = try await start()
        defer { Task { await setup.stop() } }
        var text = "namespace: stage0\nplaceholder: \(setup.src("mirror/single:1.0"))\nservices:\n"
        for number in 1...6 { text += "  - svc\(number)\n" }
        let file = try setup.workspace.write("stage0.yaml", text)
        let run = try await setup.stevedore(["provision", file, "--registry", setup.destination.address, "--quiet"])
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        for number in 1...6 {
            #expect(try await setup.skopeo.inspect("\(setup.destination.address)/stage0/svc\(number):latest").digest
                == setup.fixtures.multi.manifest.digest)
        }
        let blobs = setup.fixtures.multi.layers.count + 1
        #expect(setup.sourceGets().blobs == blobs)
        #expect(setup.sourceGets().manifests == 1)
        #expect(count(setup.destination.accessLog(), "PUT", "/blobs/uploads/") == blobs)
        #expect(count(setup.destination.accessLog(), "POST", "mount=") == blobs * 5)

        // Only arm64 of the index: a valid index of its own, its new digest recorded, pullable.
        let subset = try await setup.stevedore(["copy", setup.src("mirror/app:1.0"), setup.dst("org/arm:1.0"),
                                                "--platform", "linux/arm64", "--quiet"])
        #expect(subset.exitCode == 0, "stderr: \(subset.stderr)")
        let raw = try await setup.skopeo.inspectRaw("\(setup.destination.address)/org/arm:1.0")
        let recorded = try await sqlite(setup.workspace.db, "SELECT digest FROM jobs ORDER BY id DESC LIMIT 1")
        #expect(recorded == [OCILayoutFacts.sha256(raw)])
        #expect(OCILayoutFacts.sha256(raw) != setup.fixtures.index.digest)
        let podman = try PodmanChecker.make()
        defer { podman.remove() }
        let arm = try await podman.pull("\(setup.destination.address)/org/arm:1.0", arch: "arm64", variant: "v8")
        #expect(arm.digests.contains(setup.fixtures.platforms["linux/arm64/v8"]!.manifest.digest))
    }
}
