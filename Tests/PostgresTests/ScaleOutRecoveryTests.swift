import Foundation
import Testing
import TestSupport

/// What happens around the runners of a shared run: every runner dies and the run is resumed from another machine,
/// a `--follow` worker is woken by the queue, and a worker without a usable database says why.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct ScaleOutRecoveryTests {
    @Test func aRunWhoseRunnersAllDiedIsResumedFromAnotherMachine() async throws {
        let scene = try await ScaleOutScene.start(services: 60, proxy: .init(rate: 0, latency: .milliseconds(40)))
        let starter = try scene.startRun(["--concurrency", "4", "--lease", "1s"])
        let deadline = ContinuousClock.now + .seconds(60)
        var done = 0
        while done < 8, ContinuousClock.now < deadline {
            done = Int((try? await scene.psql("SELECT count(*) FROM jobs WHERE status = 'succeeded'")) ?? "") ?? 0
            if done < 8 { try await Task.sleep(for: .milliseconds(20)) }
        }
        starter.signal(SIGKILL)
        _ = try await starter.wait(timeout: .seconds(10))
        #expect(try await scene.psql("SELECT status FROM runs") == "running")
        // Three leases without a heartbeat: the run counts as died on any machine. Another machine (a host name of
        // its own, in a UTS namespace) resumes it.
        try await Task.sleep(for: .milliseconds(3500))
        let stevedore = try StevedoreBinary.path()
        let resume = try await ChildProcess.run(
            executable: "/usr/bin/unshare",
            arguments: ["--uts", "/bin/sh", "-c", "hostname build-agent-7 && exec \"$0\" \"$@\"", stevedore, "resume",
                        "--db", scene.url, "--registry", scene.proxy.address, "--lease", "1s", "--concurrency", "4"],
            environment: StevedoreBinary.environment([:]), timeout: .seconds(300))
        #expect(resume.exitCode == 0, "\(resume)")
        #expect(resume.stdout.contains("resuming run 1:"))
        #expect(try await scene.psql("SELECT status FROM runs") == "succeeded")
        // A job the dead runner had pushed without recording it is found in place: skipped, not pushed again.
        #expect(try await scene.psql("SELECT count(*) FROM jobs WHERE status IN ('succeeded', 'skipped')") == "60")
        #expect(try await scene.psql("SELECT count(*) FROM run_resumptions") == "1")
        // The dead runner's jobs were taken back with their lost attempts recorded; nothing was pushed twice.
        let lost = Int(try await scene.psql("SELECT count(*) FROM attempts WHERE error_class = 'lease_lost' "
                                            + "AND message LIKE '%:\(starter.pid):%'")) ?? 0
        #expect(lost >= 1)
        let puts = scene.manifestPuts()
        #expect(puts.count == 60)
        #expect(puts.values.allSatisfy { $0 == 1 })
        let verify = try await runStevedore(["audit", "verify", "--db", scene.url], environment: [:])
        #expect(verify.exitCode == 0, "\(verify)")
        await scene.stop()
    }

    @Test func anInterruptedRunClosesAndResumes() async throws {
        let scene = try await ScaleOutScene.start(services: 80, proxy: .init(rate: 0, latency: .milliseconds(30)))
        let starter = try scene.startRun(["--concurrency", "4"])
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline,
              (Int((try? await scene.psql("SELECT count(*) FROM jobs WHERE status = 'succeeded'")) ?? "") ?? 0) < 5 {
            try await Task.sleep(for: .milliseconds(20))
        }
        // SIGINT: the jobs in flight end, the rest is cancelled, and the run is closed on the server (its writes are
        // not cancelled with the interrupted task).
        starter.signal(SIGINT)
        let interrupted = try await starter.wait(timeout: .seconds(60))
        #expect(interrupted.exitCode == 130, "\(interrupted)")
        #expect(try await scene.psql("SELECT status FROM runs") == "interrupted")
        #expect(try await scene.psql("SELECT count(*) FROM job_claims WHERE status IN ('pending', 'running')") == "0")
        #expect(try await scene.psql("SELECT count(*) FROM runners WHERE left_at IS NULL") == "0")
        let resume = try await runStevedore(["resume", "--db", scene.url, "--registry", scene.proxy.address, "--quiet"],
                                            environment: [:], timeout: .seconds(300))
        #expect(resume.exitCode == 0, "\(resume)")
        #expect(try await scene.psql("SELECT status FROM runs") == "succeeded")
        #expect(try await scene.psql("SELECT count(*) FROM jobs WHERE status IN ('succeeded', 'skipped')") == "80")
        #expect(scene.manifestPuts().values.allSatisfy { $0 == 1 })
        let verify = try await runStevedore(["audit", "verify", "--db", scene.url], environment: [:])
        #expect(verify.exitCode == 0, "\(verify)")
        await scene.stop()
    }

    @Test func aFollowingWorkerIsWokenAsSoonAsARunQueuesJobs() async throws {
        let scene = try await ScaleOutScene.start(services: 40, proxy: .init(rate: 0, latency: .milliseconds(20)))
        let upgrade = try await runStevedore(["audit", "upgrade", "--db", scene.url], environment: [:])
        #expect(upgrade.exitCode == 0, "\(upgrade)")
        // Waiting with the default lease, the worker would look again only every 15 s: the run is over long before.
        let worker = try scene.startWorker(["--follow"])
        try await Task.sleep(for: .seconds(1))
        let run = try await scene.startRun(["--concurrency", "2"]).wait(timeout: .seconds(120))
        #expect(run.exitCode == 0, "\(run)")
        worker.signal(SIGTERM)
        let result = try await worker.wait(timeout: .seconds(30))
        #expect(result.exitCode == 130, "\(result)")
        let finished = try #require(WorkerLine(result.stdout)?.finished, "\(result.stdout)")
        #expect(finished > 0)
        #expect(result.stdout.contains("worker: joining run 1"))
        // An interrupted worker still leaves properly, with what it claimed.
        #expect(try await scene.psql("SELECT claims FROM runners WHERE role = 'worker' AND left_at IS NOT NULL") == String(finished))
        #expect(try await scene.psql("SELECT count(*) FROM runners WHERE left_at IS NULL") == "0")
        await scene.stop()
    }

    @Test func aWorkerNeedsASharedDatabaseAndUsableCredentials() async throws {
        let workspace = try TempDirectory.create(prefix: "worker-errors")
        defer { workspace.remove() }
        let sqlite = try await runStevedore(["worker", "--db", workspace.file("audit.db")], environment: [:])
        #expect(sqlite.exitCode == 2, "\(sqlite)")
        #expect(sqlite.stderr.contains("stevedore worker needs a database several machines share: pass --db postgres://"))
        let stray = try await runStevedore(["worker", "--db", "postgres://u@127.0.0.1:1/x", "--username", "bot"],
                                           environment: [:])
        #expect(stray.exitCode == 2, "\(stray)")
        #expect(stray.stderr.contains("--username and --password-stdin go with --registry"))

        let database = try await PostgresDatabase.start()
        let secret = "wrong-\(UUID().uuidString)"
        let refused = try await runStevedore(["worker", "--db", database.server.url(database.name, password: secret)],
                                             environment: [:])
        #expect(refused.exitCode == 3, "\(refused)")
        #expect(refused.stderr.contains("refused the credentials"))
        #expect(!refused.stderr.contains(secret))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        // With nothing to do, a worker leaves at once and says so.
        let idle = try await runStevedore(["worker", "--db", database.url], environment: [:])
        #expect(idle.exitCode == 0, "\(idle)")
        #expect(idle.stdout.contains("0 jobs finished (0 failed); no run needed it"))
        await database.server.stop()
    }
}
