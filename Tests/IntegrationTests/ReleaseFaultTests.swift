import Foundation
import Testing
import TestSupport

/// The 86 MB fixture image pushed through the fault proxy: every fault is one failed attempt, and the image still
/// lands with the digest the build wrote.
@Suite(.serialized) struct ReleaseFaultTests {
    struct Setup {
        let fixtures: ImageFixtures
        let registry: RegistryFixture
        let proxy: FaultProxy
        let skopeo: SkopeoChecker
        let workspace: Workspace

        static func make() async throws -> Setup {
            let registry = try await RegistryFixture.start(.anonymous)
            return Setup(fixtures: try await ImageFixtures.shared(), registry: registry,
                         proxy: try await FaultProxy.start(upstream: registry.address, .init(rate: 0)),
                         skopeo: try SkopeoChecker.make(), workspace: try Workspace())
        }

        func stop() async {
            workspace.remove()
            skopeo.remove()
            await proxy.stop()
            await registry.stop()
        }

        /// Pushes the big image as `faults/NAME:1.0` through the proxy; returns the exit code and stderr.
        func push(_ name: String, _ extra: [String] = []) async throws -> ChildResult {
            let file = try workspace.write("\(name).yaml", "namespace: faults\nservices:\n  - name: \(name)\n    image: \"oci:\(fixtures.bigLayout):1.0\"\n")
            return try await runStevedore(["push", file, "--version", "1.0", "--registry", proxy.address, "--db", workspace.db,
                                           "--quiet", "--latest", "never"] + extra, environment: [:], timeout: .seconds(600))
        }

        /// Failed attempts of the newest run, and their classes.
        func failedAttempts() async throws -> [String] {
            try await sqlite(workspace.db, """
                SELECT a.error_class FROM attempts a JOIN jobs j ON j.id = a.job_id
                WHERE j.run_id = (SELECT max(id) FROM runs) AND a.outcome = 'failed' ORDER BY a.id
                """)
        }

        func landed(_ name: String) async throws -> Bool {
            try await skopeo.inspect("\(registry.address)/faults/\(name):1.0").digest == fixtures.big.manifest.digest
        }
    }

    @Test(arguments: [
        ("reset", FaultProxy.Rule(.init(method: "PATCH"), .resetAfterBodyBytes(1 << 20, forwardPartial: true))),
        ("finalput", FaultProxy.Rule(.init(method: "PUT", pathContains: "digest="),
                                     .answer(status: 503, code: "UNAVAILABLE", message: "service unavailable", headers: [:]))),
        ("sessionlost", FaultProxy.Rule(.init(method: "PATCH"), .blobUploadUnknown)),
    ])
    func aFaultIsOneFailedAttemptAndTheImageStillLands(name: String, rule: FaultProxy.Rule) async throws {
        let setup = try await Setup.make()
        _ = setup.proxy.install(rule)
        let result = try await setup.push(name)
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(setup.proxy.injections.count == 1)
        let failed = try await setup.failedAttempts()
        #expect(failed.count == 1, "\(failed)")
        #expect(try await setup.landed(name))
        // The retry did not upload what had already landed again: each blob has one completed upload.
        let puts = setup.registry.accessLog().filter { $0.method == "PUT" && $0.query.contains("digest=") && $0.status == 201 }
        #expect(puts.count == setup.fixtures.big.layers.count + 1)
        await setup.stop()
    }

    @Test func ghcrsChunkCapIsPassedWithChunkedUploadsOfFourMiB() async throws {
        let setup = try await Setup.make()
        setup.proxy.setChunkCap(.init(bytes: 4 << 20))
        // A streamed PATCH over the cap fails for good (the same request would fail again), naming the remedy.
        let streamed = try await setup.push("streamed")
        #expect(streamed.exitCode == 1)
        let failure = try await sqlite(setup.workspace.db, "SELECT attempts, error_class, error_message FROM jobs WHERE service = 'streamed'")
        #expect(failure.count == 1 && failure[0].hasPrefix("1|invalid|"), "\(failure)")
        #expect(failure.first?.contains("--upload-mode chunked --chunk-size 4MiB") == true, "\(failure)")

        let chunked = try await setup.push("chunked", ["--upload-mode", "chunked", "--chunk-size", "4MiB"])
        #expect(chunked.exitCode == 0, "stderr: \(chunked.stderr)")
        #expect(try await setup.failedAttempts() == [])
        #expect(try await setup.landed("chunked"))
        let patches = setup.proxy.receivedRequests.filter { $0.method == "PATCH" && $0.uri.contains("/faults/chunked/") }
        #expect(patches.count >= setup.fixtures.big.layerBytes / (4 << 20))
        #expect(patches.allSatisfy { $0.header("Content-Range") != nil })
        #expect(patches.allSatisfy { Int($0.header("Content-Length") ?? "") ?? .max <= 4 << 20 })
        await setup.stop()
    }
}
