import Foundation
import Testing
import TestSupport

/// Progress as people and CI see it: the live status line on a terminal, and the progress styles
/// applied to the rate limiter's pauses.
@Suite(.serialized) struct TerminalProgressTests {
    /// The terminal's "erase to end of line", which every status line redraw ends with.
    static let eraseLine = "\u{1B}[K"

    @Test func aTerminalGetsOneRedrawnStatusLineAndThenTheSummary() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        let workspace = try Workspace()
        defer { workspace.remove() }
        proxy.deny(repositories: ["tty/b"])
        let file = try workspace.servicesFile(namespace: "tty", services: ["a", "b", "c", "d", "e"], tags: ["latest"])
        let run = try await runUnderTerminal(["provision", file, "--registry", proxy.address, "--db", workspace.db])
        #expect(run.exitCode == 1, "output: \(run.stdout)")
        let output = run.stdout
        // Drawn in place: carriage return, the counts against the total, erase to the end of the line.
        #expect(output.contains("\r[0/5] 0 ok  0 skipped  0 failed  | "))
        #expect(output.contains("\r[5/5] 4 ok  0 skipped  1 failed  | "))
        #expect(output.contains(Self.eraseLine))
        // The failed job keeps its line above the status line; the others are only counted.
        #expect(output.contains("failed    \(proxy.address)/tty/b  "))
        #expect(!output.contains("pushed    "))
        // At the end the status line is erased and the summary is the last thing printed.
        let tail = try #require(output.components(separatedBy: Self.eraseLine).last)
        #expect(tail.hasPrefix("run 1 failed: 5 jobs (4 succeeded, 0 skipped, 1 failed)"), "tail: \(tail)")
        #expect(!tail.contains("/5]"))
        #expect(tail.trimmingCharacters(in: .whitespacesAndNewlines).split(whereSeparator: \.isNewline).count == 1)

        // JSON progress on a terminal: JSON lines only, no status line.
        let json = try await runUnderTerminal(["provision", file, "--registry", proxy.address, "--db", workspace.db,
                                               "--progress", "json"])
        #expect(json.exitCode == 1, "output: \(json.stdout)")
        #expect(!json.stdout.contains(Self.eraseLine))
        #expect(!json.stdout.contains("/5]"))
        let lines = json.stdout.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not JSON: \(line)")
        }
        #expect(lines.last?.contains(#""event":"run_finished""#) == true)
        await proxy.stop()
        await registry.stop()
    }

    @Test func rateLimiterPausesFollowTheProgressStyle() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address,
                                               .init(rate: 0.15, seed: 7, faults: [.tooManyRequests]))
        let workspace = try Workspace()
        defer { workspace.remove() }
        // A namespace per run, so that each run pushes (and meets throttling answers).
        func arguments(_ namespace: String) throws -> [String] {
            let file = try workspace.servicesFile("\(namespace).yaml", namespace: namespace,
                                                  services: (1...6).map { "s\($0)" }, tags: ["latest"])
            return ["provision", file, "--registry", proxy.address, "--db", workspace.db]
        }

        // json: a rate_limited event per pause on stdout, nothing on stderr.
        let json = try await runStevedore(try arguments("json") + ["--progress", "json"], environment: [:])
        #expect(json.exitCode == 0, "stderr: \(json.stderr)")
        #expect(json.stderr.isEmpty, "stderr: \(json.stderr)")
        let events = try json.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let pauses = events.filter { $0["event"] as? String == "rate_limited" }
        #expect(!pauses.isEmpty)
        let pause = try #require(pauses.first)
        #expect(pause["registry"] as? String == proxy.address)
        #expect(pause["pause_ms"] is Int)
        #expect(pause["reason"] is String)
        #expect(pause.keys.contains("rate_after"))
        let recorded = try await sqlite(workspace.db, "SELECT count(*) FROM limiter_pauses WHERE run_id = 1")
        #expect(recorded == [String(pauses.count)])

        // quiet: nothing at all.
        let quiet = try await runStevedore(try arguments("quiet") + ["--quiet"], environment: [:])
        #expect(quiet.exitCode == 0, "stderr: \(quiet.stderr)")
        #expect(quiet.stdout.isEmpty && quiet.stderr.isEmpty, "stdout: \(quiet.stdout) stderr: \(quiet.stderr)")
        let quietPauses = try await sqlite(workspace.db, "SELECT count(*) FROM limiter_pauses WHERE run_id = 2")
        #expect(quietPauses != ["0"])

        // lines, not a terminal: one plain line on stderr per pause, as before.
        let lines = try await runStevedore(try arguments("lines"), environment: [:])
        #expect(lines.exitCode == 0, "stderr: \(lines.stderr)")
        #expect(lines.stderr.contains("rate limited by \(proxy.address)"))
        #expect(!lines.stdout.contains(Self.eraseLine))
        await proxy.stop()
        await registry.stop()
    }

    /// Runs `stevedore` with its stdout and stderr on a pseudo-terminal (util-linux `script`) and returns
    /// what the terminal received as `stdout`.
    func runUnderTerminal(_ arguments: [String]) async throws -> ChildResult {
        let command = ([try StevedoreBinary.path()] + arguments).map(Self.shellQuoted).joined(separator: " ")
        return try await ChildProcess.run(executable: "script", arguments: ["-qfec", command, "/dev/null"],
                                          environment: StevedoreBinary.environment([:]), timeout: .seconds(60))
    }

    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
