import AuditStore
import Foundation
import Synchronization
import ImageSources
import OCI
import SQLiteStore
import Testing
import TestSupport
import Workflows

/// The image workflows in process: a fake registry, a temp-file store, a virtual clock.
@Suite struct ProvisionWorkflowTests {
    @Test func provisionPushesEveryTagThenARerunSkipsEverything() async throws {
        let bench = try WorkflowBench()
        defer { bench.remove() }
        let store = try bench.store()
        let file = try bench.services(["api", "web", "worker"])
        let provisioner = Provisioner(log: store, context: bench.context)
        #expect(try await provisioner.provision(file, access: bench.access, options: bench.options) == .succeeded)
        #expect(bench.manifestPuts == 6)
        // Two blobs uploaded once, mounted everywhere else.
        #expect(bench.fake.registryRequests.filter { $0.url.contains("mount=") }.count == 4)
        let first = try #require(try await store.summary(run: 1))
        #expect(first.jobsSucceeded == 3 && first.tagsPushed == 6 && first.status == .succeeded)

        let before = bench.manifestPuts
        #expect(try await provisioner.provision(file, access: bench.access, options: bench.options) == .succeeded)
        #expect(bench.manifestPuts == before, "a rerun sends no manifest")
        let second = try #require(try await store.summary(run: 2))
        #expect(second.jobsSkipped == 3 && second.tagsSkipped == 6)
        #expect(try await store.state(ReportFilter()).allSatisfy { $0.digest == placeholder.manifestDigest.description })
        #expect(try await store.verifyLedger(expectHead: nil).problems == [])
        #expect(bench.progress.lines.last?.hasPrefix("run 2 succeeded: 3 jobs (0 succeeded, 3 skipped, 0 failed)") == true)
        await store.close()
    }

    @Test func aForeignImageIsKeptUnlessForced() async throws {
        let bench = try WorkflowBench()
        defer { bench.remove() }
        let foreign = Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","foreign":1}"#.utf8)
        bench.fake.addManifest("team/api", tag: "1.0", bytes: foreign)
        let store = try bench.store()
        let file = try bench.services(["api"])
        let provisioner = Provisioner(log: store, context: bench.context)
        #expect(try await provisioner.provision(file, access: bench.access, options: bench.options) == .succeeded)
        let kept = try await store.jobs(run: 1)
        #expect(kept.first?.errorClass == "conflict")
        #expect(try await store.itemResults(job: kept[0].id).map(\.action) == ["pushed", "kept"])

        var force = bench.options
        force.force = true
        #expect(try await provisioner.provision(file, access: bench.access, options: force) == .succeeded)
        let forced = try await store.jobs(run: 2)
        let items = try await store.itemResults(job: forced[0].id)
        #expect(items.map(\.action) == ["skipped", "overwritten"])
        #expect(items.last?.digestBefore == Digest.sha256(foreign).description)
        await store.close()
    }

    @Test func aDeniedJobFailsOnceAndRetryPushesOnlyIt() async throws {
        let bench = try WorkflowBench()
        defer { bench.remove() }
        // Writes to team/web are refused, as a token without write access on that package would be.
        bench.fake.intercept { request in
            guard request.url.contains("/v2/team/web/"), request.method != "GET", request.method != "HEAD" else { return nil }
            return FakeRegistry.error(403, "DENIED", "requested access to the resource is denied")
        }
        let store = try bench.store()
        let provisioner = Provisioner(log: store, context: bench.context)
        let file = try bench.services(["api", "web", "worker"])
        #expect(try await provisioner.provision(file, access: bench.access, options: bench.options) == .jobsFailed)
        let failed = try await store.jobs(run: 1).filter { $0.status == .failed }
        #expect(failed.map(\.service) == ["web"])
        #expect(failed.first?.attempts == 1, "denied is not retried")

        bench.fake.intercept(nil)
        let original = try #require(try await store.run(1))
        #expect(try await provisioner.retry(original, classes: [], services: [], access: bench.access,
                                            options: bench.options) == .succeeded)
        let retried = try #require(try await store.run(2))
        #expect(retried.command == "retry" && retried.parentRunID == 1)
        #expect(try await store.jobs(run: 2).map(\.service) == ["web"])
        #expect(try await store.verifyLedger(expectHead: nil).problems == [])
        await store.close()
    }

    @Test func aCanaryRefusedStopsTheBatchWithTheRemedy() async throws {
        let bench = try WorkflowBench()
        defer { bench.remove() }
        bench.fake.intercept { request in
            request.method == "POST" || request.method == "PUT"
                ? FakeRegistry.error(403, "DENIED", "permission_denied: write_package") : nil
        }
        let store = try bench.store()
        let outcome = try await Provisioner(log: store, context: bench.context)
            .provision(try bench.services(["a", "b", "c", "d"]), access: bench.access, options: bench.options)
        #expect(outcome == .jobsFailed)
        let jobs = try await store.jobs(run: 1)
        #expect(jobs.filter { $0.errorMessage?.hasPrefix("not attempted") == true }.count == 3)
        #expect(bench.progress.lines.contains { $0.contains("write:packages") && $0.contains("the other 3 jobs were not attempted") })
        await store.close()
    }

    @Test func resumeFinishesADiedRunWithoutPushingTwice() async throws {
        let bench = try WorkflowBench()
        defer { bench.remove() }
        let store = try bench.store()
        let file = try bench.services(["api", "web"], tags: ["latest"])
        // What a process killed after its first job left: the run and its jobs, the first tag already pushed.
        let provisioner = Provisioner(log: store, context: bench.context)
        _ = try await provisioner.provision(try bench.services(["api"], tags: ["latest"]), access: bench.access,
                                            options: bench.options)
        let environment = RunEnvironment()
        let run = try await store.beginRun(NewRun(command: "provision", commandLine: "stevedore provision",
                                                  toolVersion: "test", host: environment.host, user: "me",
                                                  startedAt: bench.time.wallClock, pid: 999_999))
        _ = try await store.insertJobs(run: run, file.services.enumerated().map { index, service in
            NewJob(seq: index + 1, service: service.name, registry: "registry.test", repository: service.repository.value,
                   items: ["latest"])
        })
        #expect(try await store.markDiedRuns(host: environment.host) { _ in false } == [run])
        let puts = bench.manifestPuts
        let died = try #require(try await store.run(run))
        #expect(try await provisioner.resume(died, access: bench.access, options: bench.options) == .succeeded)
        #expect(bench.manifestPuts == puts + 1, "only web's tag is pushed; api's is found in the registry")
        #expect(try await store.resumptions(run: run) == 1)
        #expect(try await store.run(run)?.status == .succeeded)
        #expect(try await store.jobs(run: run).map(\.status) == [.skipped, .succeeded])
        await store.close()
    }

    @Test func aDryRunReadsButWritesNothingAnywhere() async throws {
        let bench = try WorkflowBench()
        defer { bench.remove() }
        bench.fake.addManifest("team/web", tag: "latest", bytes: placeholder.manifest)
        let outcome = try await DryRun(context: bench.context)
            .plan(try bench.services(["api", "web"]), access: bench.access, options: bench.options)
        #expect(outcome == .succeeded)
        #expect(bench.writes == 0)
        #expect(!FileManager.default.fileExists(atPath: bench.dbPath))
        let lines = bench.progress.lines.joined(separator: "\n")
        #expect(lines.contains("would push                 registry.test/team/api:latest"))
        #expect(lines.contains("would skip (already the placeholder) registry.test/team/web:latest"))
    }

    @Test func aThrottleIsWaitedOutOnTheVirtualClockAndRecorded() async throws {
        let bench = try WorkflowBench()
        defer { bench.remove() }
        let throttled = ThrottleOnce()
        bench.fake.intercept { request in throttled.answer(request) }
        let store = try bench.store()
        #expect(try await Provisioner(log: store, context: bench.context)
            .provision(try bench.services(["api"]), access: bench.access, options: bench.options) == .succeeded)
        #expect(try await store.limiterPauses(run: 1).map(\.durationMs) == [3000])
        #expect(bench.time.sleeps.contains(.seconds(3)), "the pause and the retry wait are slept on the virtual clock")
        #expect(bench.progress.rateLimited.first?.pauseMs == 3000)
        #expect(try await store.jobs(run: 1).first?.attempts == 2)
        await store.close()
    }
}

/// Answers the first manifest PUT with 429 and `Retry-After: 3`.
final class ThrottleOnce: Sendable {
    private let done = Mutex(false)

    func answer(_ request: HTTPRequestSpec) -> HTTPResponseSpec? {
        guard request.method == "PUT", request.url.contains("/manifests/"),
              done.withLock({ done in defer { done = true }; return !done }) else { return nil }
        return FakeRegistry.error(429, "TOOMANYREQUESTS", "slow down", ["Retry-After": "3"])
    }
}
