import Foundation
import ImageSources
import OCI
import HTTPTransport
import Testing
import TestSupport

/// Provisioning against a real, anonymous docker-registry, checked with skopeo.
@Suite(.serialized) struct ProvisionAnonymousTests {
    @Test func provisionsStage0ThenSkipsEverythingOnRerun() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let file = try workspace.servicesFile(namespace: "agile-learning-institute", services: stage0Services,
                                              tags: ["latest", "0.1.0"])
        let first = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                           environment: [:])
        #expect(first.exitCode == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("run 1 succeeded: 15 jobs (15 succeeded, 0 skipped, 0 failed), 30 tags pushed"))
        #expect(first.stdout.contains(workspace.db))
        let afterFirst = registry.accessLog()

        // Every service:tag is there, per the independent client, holding the placeholder.
        for service in stage0Services {
            for tag in ["latest", "0.1.0"] {
                let image = try await Skopeo.inspect(reference: "\(registry.address)/agile-learning-institute/\(service):\(tag)")
                #expect(image.digest == placeholderDigest)
                #expect(image.layers == [PlaceholderImage.image.layers[0].digest.description])
            }
        }
        #expect(count(afterFirst, "PUT", "/manifests/") == 30)
        // Blobs: uploaded once by the canary job, mounted by all others.
        #expect(count(afterFirst, "POST", "mount=") == 28)

        let summary = try await summaryJSON(db: workspace.db)
        #expect(summary["run_id"] as? Int == 1)
        #expect(summary["status"] as? String == "succeeded")
        #expect(summary["jobs_total"] as? Int == 15)
        #expect(summary["jobs_succeeded"] as? Int == 15)
        #expect(summary["jobs_failed"] as? Int == 0)
        #expect(summary["attempts_total"] as? Int == 15)
        #expect(summary["started_at"] is String)
        #expect(summary["finished_at"] is String)

        // The audit rows agree with what the registry saw.
        let pushedRows = try await sqlite(workspace.db,
            "SELECT count(*) FROM tag_results WHERE action='pushed' AND digest_after='\(placeholderDigest)'")
        #expect(pushedRows == ["30"])
        let requests = try await sqlite(workspace.db, "SELECT sum(requests) FROM attempts")
        // Every request but the pings (the fixture's and the preflight) is charged to an attempt.
        #expect(requests == [String(afterFirst.filter { $0.path != "/v2/" }.count)])

        // A second run sends no manifest and skips every job.
        let beforeSecond = registry.accessLog()
        let second = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                            environment: [:])
        #expect(second.exitCode == 0, "stderr: \(second.stderr)")
        let afterSecond = registry.accessLog()
        #expect(count(afterSecond, "PUT", "/manifests/") == 30)
        // The rerun asked only what the tags hold: one tags list and two HEADs per repository.
        let rerunRequests = afterSecond.dropFirst(beforeSecond.count).filter { $0.path != "/v2/" }
        #expect(rerunRequests.count == 45, "\(rerunRequests)")
        #expect(rerunRequests.filter { $0.path.contains("/tags/list") }.count == 15)
        #expect(count(afterSecond, "POST", "/blobs/uploads/") == count(afterFirst, "POST", "/blobs/uploads/"))
        let rerun = try await summaryJSON(db: workspace.db)
        #expect(rerun["run_id"] as? Int == 2)
        #expect(rerun["jobs_skipped"] as? Int == 15)
        #expect(rerun["jobs_succeeded"] as? Int == 0)
        await registry.stop()
    }

    @Test func keepsAForeignImageUnlessForced() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { workspace.remove() }
        // CI already pushed a real image to team/api:latest.
        let foreign = try await pushForeignImage(registry: registry.address, repository: "team/api", tag: "latest")
        let file = try workspace.servicesFile(namespace: "team", services: ["api", "web"], tags: ["latest"])

        let run = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                         environment: [:])
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("kept: latest"))
        #expect(try await Skopeo.inspect(reference: "\(registry.address)/team/api:latest").digest == foreign.description)
        #expect(try await Skopeo.inspect(reference: "\(registry.address)/team/web:latest").digest == placeholderDigest)
        let kept = try await sqlite(workspace.db,
            "SELECT j.status, j.error_class, t.action, t.digest_before FROM jobs j JOIN tag_results t ON t.job_id=j.id WHERE j.service='api'")
        #expect(kept == ["skipped|conflict|kept|\(foreign)"])

        let forced = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db, "--force"],
                                            environment: [:])
        #expect(forced.exitCode == 0, "stderr: \(forced.stderr)")
        #expect(try await Skopeo.inspect(reference: "\(registry.address)/team/api:latest").digest == placeholderDigest)
        let overwritten = try await sqlite(workspace.db,
            "SELECT t.action, t.digest_before, t.digest_after FROM jobs j JOIN tag_results t ON t.job_id=j.id WHERE j.service='api' AND j.run_id=2")
        #expect(overwritten == ["overwritten|\(foreign)|\(placeholderDigest)"])
        await registry.stop()
    }

    @Test func dryRunAndVerifyWriteNothingToTheRegistry() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let file = try workspace.servicesFile(namespace: "dry", services: ["one", "two"], tags: ["latest", "v1"])

        let missing = try await runStevedore(["verify", file, "--registry", registry.address, "--db", workspace.db],
                                             environment: [:])
        #expect(missing.exitCode == 1)
        #expect(missing.stdout.contains("missing"))

        let plan = try await runStevedore(["provision", file, "--registry", registry.address, "--dry-run", "--db", workspace.db],
                                          environment: [:])
        #expect(plan.exitCode == 0, "stderr: \(plan.stderr)")
        #expect(plan.stdout.contains("would push"))
        #expect(plan.stdout.contains("\(registry.address)/dry/one:latest"))
        let writes = registry.accessLog().filter { ["PUT", "POST", "PATCH", "DELETE"].contains($0.method) }
        #expect(writes.isEmpty)

        _ = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db], environment: [:])
        let verified = try await runStevedore(["verify", file, "--registry", registry.address, "--db", workspace.db],
                                              environment: [:])
        #expect(verified.exitCode == 0, "stderr: \(verified.stderr)")
        #expect(verified.stdout.contains("verified: latest,v1"))
        let summary = try await summaryJSON(db: workspace.db)
        #expect(summary["jobs_succeeded"] as? Int == 2)
        await registry.stop()
    }

    @Test func thousandServicesAreAllRecordedAndARerunSendsNoManifest() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let services = (1...1000).map { String(format: "svc-%04d", $0) }
        let file = try workspace.servicesFile(namespace: "bulk", services: services, tags: ["latest"])
        let first = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db, "--quiet"],
                                           environment: [:], timeout: .seconds(300))
        #expect(first.exitCode == 0, "stderr: \(first.stderr)")
        let summary = try await summaryJSON(db: workspace.db)
        #expect(summary["jobs_total"] as? Int == 1000)
        #expect(summary["jobs_succeeded"] as? Int == 1000)
        let manifests = count(registry.accessLog(), "PUT", "/manifests/")
        #expect(manifests == 1000)

        let second = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db, "--quiet"],
                                            environment: [:], timeout: .seconds(300))
        #expect(second.exitCode == 0, "stderr: \(second.stderr)")
        #expect(count(registry.accessLog(), "PUT", "/manifests/") == manifests)
        let rerun = try await summaryJSON(db: workspace.db)
        #expect(rerun["jobs_skipped"] as? Int == 1000)
        await registry.stop()
    }
}

/// Pushes a small image that is not the placeholder, as CI would, and returns its digest.
func pushForeignImage(registry: String, repository: String, tag: String) async throws -> Digest {
    let transport = AsyncHTTPClientTransport()
    let client = RegistryClient(registry: try RegistryHost(parsing: registry), transport: transport,
                                credentials: nil, plainHTTP: true)
    let placeholder = PlaceholderImage.image
    let config = ImageBlob(mediaType: MediaType.ociConfig, bytes: Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8))
    let manifest = Array(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":{"mediaType":"\#(MediaType.ociConfig)","digest":"\#(config.digest)","size":\#(config.size)},"layers":[{"mediaType":"\#(MediaType.ociLayerTarGzip)","digest":"\#(placeholder.layers[0].digest)","size":\#(placeholder.layers[0].size)}]}"#.utf8)
    let name = try RepositoryName(validating: repository)
    for blob in [config, placeholder.layers[0]] {
        _ = try await client.pushBlob(repository: name, digest: blob.digest, size: blob.size, content: blob.content.body(), mountFrom: nil, checkExists: true)
    }
    let digest = try await client.putManifest(repository: name, reference: tag, bytes: manifest, mediaType: MediaType.ociManifest)
    try await transport.shutdown()
    return digest
}

/// `--progress json`: one JSON object per line, for CI.
@Suite struct ProgressJSONTests {
    @Test func jsonLinesDescribeEveryJobAndTheRun() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        let workspace = try Workspace()
        defer { workspace.remove() }
        proxy.deny(repositories: ["ci/b"])
        let file = try workspace.servicesFile(namespace: "ci", services: ["a", "b", "c"], tags: ["latest", "v2"])
        let run = try await runStevedore(["provision", file, "--registry", proxy.address, "--db", workspace.db,
                                          "--progress", "json"], environment: [:])
        #expect(run.exitCode == 1)
        let events = try run.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(events.filter { $0["event"] as? String == "job_started" }.count == 3)
        let finished = events.filter { $0["event"] as? String == "job_finished" }
        #expect(Set(finished.compactMap { $0["service"] as? String }) == ["a", "b", "c"])
        let b = try #require(finished.first { $0["service"] as? String == "b" })
        #expect(b["status"] as? String == "failed")
        #expect(b["error_class"] as? String == "denied")
        let a = try #require(finished.first { $0["service"] as? String == "a" })
        let tags = try #require(a["tags"] as? [[String: Any]])
        #expect(tags.map { $0["action"] as? String } == ["pushed", "pushed"])
        #expect(tags.first?["digest"] as? String == placeholderDigest)
        let failedAttempt = try #require(events.first { $0["event"] as? String == "attempt_failed" })
        #expect(failedAttempt["http_status"] as? Int == 403)
        let last = try #require(events.last)
        #expect(last["event"] as? String == "run_finished")
        #expect(last["jobs_failed"] as? Int == 1)
        #expect(last["jobs_succeeded"] as? Int == 2)
        #expect(last["audit_db"] as? String == workspace.db)
        await proxy.stop()
        await registry.stop()
    }
}
