import Foundation
import Testing
import TestSupport

/// FaultProxy's targeted rules, against a real docker-registry behind it.
@Suite(.serialized) struct FaultProxyRuleTests {
    /// POST an upload through the proxy; returns the Location (pointing at the proxy).
    func startUpload(_ proxy: FaultProxy, _ repository: String) async throws -> String {
        let started = try await FixtureHTTP.send("POST", "http://\(proxy.address)/v2/\(repository)/blobs/uploads/")
        #expect(started.status == 202)
        return try #require(started.header("Location"))
    }

    func join(_ location: String, _ query: String) -> String { location + (location.contains("?") ? "&" : "?") + query }

    @Test func resetMidBodyForwardsThePrefixAndCountsTheInjection() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        let rule = proxy.install(.init(.init(method: "PATCH", pathContains: "/blobs/uploads/", occurrence: 2),
                                       .resetAfterBodyBytes(1_500_000, forwardPartial: true)))
        let body = [UInt8](repeating: 7, count: 3_000_000)
        let first = try await startUpload(proxy, "rules/reset")
        #expect(try await FixtureHTTP.send("PATCH", first, body: body, timeout: .seconds(30)).status == 202)
        let second = try await startUpload(proxy, "rules/reset")
        await #expect(throws: (any Error).self) {
            _ = try await FixtureHTTP.send("PATCH", second, body: body, timeout: .seconds(30))
        }
        #expect(proxy.injections.map(\.fault) == [.resetMidBody])
        #expect(proxy.injections.first?.rule == rule)
        // The registry received the cut PATCH (it logs it) and kept at most the forwarded prefix.
        try await Task.sleep(for: .milliseconds(300))
        let uuid = try #require(second.split(separator: "/").last?.split(separator: "?").first.map(String.init))
        let data = "\(registry.storageDirectory)/docker/registry/v2/repositories/rules/reset/_uploads/\(uuid)/data"
        let kept = (try? FileManager.default.attributesOfItem(atPath: data)[.size] as? Int) ?? 0
        #expect(kept <= 1_500_000)
        #expect(registry.accessLog().filter { $0.method == "PATCH" }.count == 2)
        await proxy.stop()
        await registry.stop()
    }

    @Test func answersAndBlobUploadUnknownHitOnlyTheChosenRequests() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        proxy.install(.init(.init(method: "PUT", pathContains: "digest=", occurrence: 1),
                            .answer(status: 503, code: "UNAVAILABLE", message: "try later", headers: ["Retry-After": "1"])))
        proxy.install(.init(.init(method: "PUT", pathContains: "digest=", occurrence: 3), .blobUploadUnknown))
        let blob = Array("hello rules\n".utf8)
        let digest = OCILayoutFacts.sha256(blob)
        let location = try await startUpload(proxy, "rules/answer")
        let refused = try await FixtureHTTP.send("PUT", join(location, "digest=\(digest)"), body: blob)
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect(refused.bodyText.contains(#""code":"UNAVAILABLE""#))
        #expect(try await FixtureHTTP.send("PUT", join(location, "digest=\(digest)"), body: blob).status == 201)
        let again = try await startUpload(proxy, "rules/answer")
        let lost = try await FixtureHTTP.send("PUT", join(again, "digest=\(digest)"), body: blob)
        #expect(lost.status == 404)
        #expect(lost.bodyText.contains("BLOB_UPLOAD_UNKNOWN"))
        #expect(proxy.injections.map(\.fault) == [.answered, .blobUploadUnknown])
        #expect(proxy.injections.map(\.rule) == [0, 1])
        // Neither canned answer reached the registry.
        #expect(registry.accessLog().filter { $0.method == "PUT" }.count == 1)
        await proxy.stop()
        await registry.stop()
    }

    @Test func theChunkCapRefusesLargePatchesAsGhcrDoes() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        proxy.setChunkCap(.init(bytes: 4 << 20))
        let location = try await startUpload(proxy, "rules/cap")
        let large = try await FixtureHTTP.send("PATCH", location, body: [UInt8](repeating: 1, count: 5 << 20), timeout: .seconds(30))
        #expect(large.status == 416)
        #expect(large.bodyText.contains("REQUESTED_RANGE_NOT_SATISFIABLE"))
        #expect(large.bodyText.contains("exceeds the maximum permissible limit of 4.00MiB"))
        // Without a Content-Length (chunked, as curl sends with this header), the cap still applies.
        let work = try TempDirectory.create(prefix: "cap")
        defer { work.remove() }
        try Data(repeating: 2, count: (4 << 20) + 10).write(to: URL(fileURLWithPath: work.file("chunk")))
        let curl = try await ChildProcess.run(executable: "curl", arguments: [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PATCH", "-H", "Transfer-Encoding: chunked",
            "-H", "Content-Type: application/octet-stream", "--data-binary", "@\(work.file("chunk"))", location,
        ], environment: ChildProcess.inheritedEnvironment())
        #expect(curl.stdout == "416", "\(curl)")
        let small = try await FixtureHTTP.send("PATCH", location, body: [UInt8](repeating: 1, count: 1 << 20), timeout: .seconds(30))
        #expect(small.status == 202)
        #expect(proxy.injections.map(\.fault) == [.chunkTooLarge, .chunkTooLarge])
        #expect(registry.accessLog().filter { $0.method == "PATCH" }.count == 1)
        await proxy.stop()
        await registry.stop()
    }

    @Test func thePullBudgetCountsManifestGetsOnly() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        defer { skopeo.remove() }
        try await skopeo.push(layout: fixtures.multiLayout, tag: "1.0", to: "\(registry.address)/rules/budget:1.0")
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        proxy.setPullBudget(.init(limit: 100, remaining: 2))
        let url = "http://\(proxy.address)/v2/rules/budget/manifests/1.0"
        let accept = ["Accept": "application/vnd.oci.image.manifest.v1+json"]
        var remaining: [String?] = []
        for method in ["GET", "HEAD", "GET", "HEAD"] {
            let answer = try await FixtureHTTP.send(method, url, headers: accept)
            #expect(answer.status == 200)
            #expect(answer.header("ratelimit-limit") == "100;w=21600")
            remaining.append(answer.header("ratelimit-remaining"))
        }
        #expect(remaining == ["1;w=21600", "1;w=21600", "0;w=21600", "0;w=21600"])
        let exhausted = try await FixtureHTTP.send("GET", url, headers: accept)
        #expect(exhausted.status == 429)
        #expect(exhausted.bodyText.contains("TOOMANYREQUESTS"))
        #expect(proxy.injections.map(\.fault) == [.pullLimitExceeded])
        #expect(proxy.pullBudgetRemaining == 0)
        await proxy.stop()
        await registry.stop()
    }

    @Test func aRedirectedBlobGetReachesTheOtherHostWithoutAuthorization() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let skopeo = try SkopeoChecker.make()
        let work = try TempDirectory.create(prefix: "redirect")
        defer { skopeo.remove(); work.remove() }
        try await skopeo.push(layout: fixtures.multiLayout, tag: "1.0", to: "\(registry.address)/rules/redirect:1.0")
        let origin = try await LoopbackOrigin.start(upstream: registry.address)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        proxy.install(.init(.init(method: "GET", pathContains: "/blobs/sha256:"), .redirect(to: origin.baseURL)))
        let layer = fixtures.multi.layers[0]
        let curl = try await ChildProcess.run(executable: "curl", arguments: [
            "-s", "-L", "-o", work.file("blob"), "-w", "%{http_code}", "-H", "Authorization: Bearer secret-token",
            "http://\(proxy.address)/v2/rules/redirect/blobs/\(layer.digest)",
        ], environment: ChildProcess.inheritedEnvironment())
        #expect(curl.stdout == "200", "\(curl)")
        #expect(try OCILayoutFacts.sha256(file: work.file("blob")) == layer.digest)
        let asked = try #require(proxy.receivedRequests.last)
        #expect(asked.header("Authorization") == "Bearer secret-token")
        let followed = try #require(origin.receivedRequests.first)
        #expect(followed.uri == "/v2/rules/redirect/blobs/\(layer.digest)")
        #expect(followed.header("Authorization") == nil)
        #expect(proxy.injections.map(\.fault) == [.redirect])
        await proxy.stop()
        await origin.stop()
        await registry.stop()
    }

    @Test func theBigImageStreamsThroughTheProxyBothWays() async throws {
        let fixtures = try await ImageFixtures.shared()
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        let skopeo = try SkopeoChecker.make()
        let work = try TempDirectory.create(prefix: "big-through-proxy")
        defer { skopeo.remove(); work.remove() }
        let clock = ContinuousClock()
        let started = clock.now
        try await skopeo.push(layout: fixtures.bigLayout, tag: "1.0", to: "\(proxy.address)/rules/big:1.0")
        let pushed = clock.now - started
        #expect(try await skopeo.inspect("\(registry.address)/rules/big:1.0").digest == fixtures.big.manifest.digest)
        let problems = try await skopeo.pull("\(proxy.address)/rules/big:1.0", intoLayout: work.file("pulled"))
        print("big image (\(fixtures.big.layerBytes) bytes) pushed through the proxy in \(pushed), pulled back in \(clock.now - started - pushed)")
        #expect(problems == [])
        let largest = try #require(fixtures.big.layers.max { $0.size < $1.size })
        #expect(try OCILayoutFacts.sha256(file: work.file("pulled/blobs/sha256/\(largest.hex)")) == largest.digest)
        #expect(proxy.injections.isEmpty)
        await proxy.stop()
        await registry.stop()
    }
}
