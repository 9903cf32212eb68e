import Crypto
import Foundation
import Testing
import TestSupport

/// The reports and the tamper evidence, on a database produced by a real run through injected faults.
@Suite(.serialized) struct ReportTests {
    /// JSON rows of `stevedore report NAME ... --format json`.
    func rows(_ arguments: [String], db: String) async throws -> [[String: Any]] {
        let result = try await runStevedore(["report"] + arguments + ["--format", "json", "--db", db], environment: [:])
        #expect(result.exitCode == 0, "report \(arguments): \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }

    @Test func reportsAgreeWithTheRegistryAndTamperingIsFound() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0.15, seed: 7_331))
        let workspace = try Workspace()
        defer { workspace.remove() }
        let services = (1...60).map { String(format: "api-%02d", $0) }
        let file = try workspace.servicesFile(namespace: "audit", services: services, tags: ["1.0", "latest"])
        proxy.deny(repositories: ["audit/api-07", "audit/api-33"])
        let run = try await runStevedore(["provision", file, "--registry", proxy.address, "--db", workspace.db, "--quiet",
                                          "--timeout", "10"], environment: [:], timeout: .seconds(300))
        #expect(run.exitCode == 1, "stderr: \(run.stderr)")
        let log = registry.accessLog()

        // report summary: tags pushed are the manifest PUTs the registry accepted.
        let summary = try await summaryJSON(db: workspace.db)
        let acceptedPuts = log.filter { $0.method == "PUT" && $0.path.contains("/manifests/") && $0.status == 201 }.count
        #expect(summary["tags_pushed"] as? Int == acceptedPuts)
        #expect(acceptedPuts == 2 * 58)
        #expect(summary["jobs_failed"] as? Int == 2)
        #expect((summary["jobs_by_error_class"] as? [String: Int]) == ["denied": 2])
        #expect((summary["retries"] as? Int ?? 0) > 0)
        #expect(summary["attempt_latency_p95_ms"] is Int)
        #expect((summary["ledger_run_head"] as? String)?.count == 64)

        // report runs: the input file and its sha256.
        let runs = try await rows(["runs"], db: workspace.db)
        #expect(runs.count == 1)
        let digest = SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: file))).map { String(format: "%02x", $0) }.joined()
        #expect((runs.first?["input_sha256"] as? String)?.hasSuffix(digest) == true)
        #expect(runs.first?["jobs_failed"] as? Int == 2)

        // report failures: the two denied jobs, what the registry said, and the remedy.
        let failures = try await rows(["failures"], db: workspace.db)
        #expect(failures.compactMap { $0["service"] as? String } == ["api-07", "api-33"])
        #expect(failures.allSatisfy { $0["error_class"] as? String == "denied" && $0["http_status"] as? Int == 403 })
        #expect(failures.allSatisfy { ($0["remedy"] as? String)?.contains("write access") == true })
        let table = try await runStevedore(["report", "failures", "--db", workspace.db], environment: [:])
        #expect(table.stdout.contains("api-07") && table.stdout.contains("what to do:"))
        #expect(table.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })

        // report attempts: every failed attempt is a fault the proxy injected (a bare 403 on HEAD is asked
        // again with GET, so it may not fail an attempt), plus the two denials.
        let attemptsCSV = try await runStevedore(["report", "attempts", "--format", "csv", "--db", workspace.db], environment: [:])
        let lines = csvRecords(attemptsCSV.stdout)
        #expect(lines.first?.prefix(5) == ["run_id", "job_id", "service", "repository", "number"])
        #expect(lines.allSatisfy { $0.count == lines.first?.count }, "\(lines.filter { $0.count != lines.first?.count })")
        #expect(lines.count - 1 == summary["attempts_total"] as? Int)
        let failing = proxy.injections.filter(\.fault.fails)
        let headForbidden = failing.filter { $0.method == "HEAD" && $0.fault == .secondaryRateLimit }.count
        let failedAttempts = try await rows(["attempts"], db: workspace.db)
            .filter { $0["outcome"] as? String == "failed" }.count - 2
        #expect(failedAttempts >= failing.count - headForbidden)
        #expect(failedAttempts <= failing.count)
        let denied = try await rows(["attempts", "--class", "denied"], db: workspace.db)
        #expect(denied.count == 2)

        // report state and service: what every tag holds, and one service's history.
        let state = try await rows(["state", "--namespace", "audit"], db: workspace.db)
        #expect(state.count == 2 * 58)
        #expect(state.allSatisfy { $0["digest"] as? String == placeholderDigest })
        let history = try await rows(["service", "api-33"], db: workspace.db)
        #expect(history.count == 1 && history.first?["status"] as? String == "failed")

        // report html: one self-contained page whose timeline has a bar per attempt and a band per pause.
        let page = ProcessInfo.processInfo.environment["STEVEDORE_KEEP_HTML"]
            ?? workspace.directory.appendingPathComponent("run.html").path
        let html = try await runStevedore(["report", "html", "-o", page, "--db", workspace.db], environment: [:])
        #expect(html.exitCode == 0, "\(html.stderr)")
        let text = try String(contentsOfFile: page, encoding: .utf8)
        func occurrences(_ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }
        let bars = ["ok", "failed", "throttled", "cancelled"].reduce(0) { $0 + occurrences("<rect class=\"\($1)\"") }
        #expect(bars == summary["attempts_total"] as? Int)
        #expect(occurrences("<rect class=\"pause\"") == summary["rate_limit_pauses"] as? Int)
        #expect(occurrences("<rect class=\"wait\"") > 0)
        for external in ["src=", "href=", "url(", "@import", "<script", "<link"] {
            #expect(!text.contains(external), "the page refers to \(external)")
        }
        #expect(text.contains("<td>api-07</td>") && text.contains("<td>api-33</td>"))
        #expect(text.contains(HTMLEscaped.remedyFragment))

        // audit verify: green on the untouched log, then each kind of edit made with sqlite3 is pinned down.
        let clean = try await runStevedore(["audit", "verify", "--db", workspace.db], environment: [:])
        #expect(clean.exitCode == 0, "\(clean.stderr)")
        #expect(clean.stdout.hasPrefix("ok: "))
        let copy = workspace.directory.appendingPathComponent("tampered.db").path
        for (sql, expected) in [
            ("UPDATE jobs SET status = 'succeeded', error_class = NULL WHERE service = 'api-07'", "was altered"),
            ("DELETE FROM attempts WHERE id = 3", "attempts row 3"),
            ("INSERT INTO item_results (job_id, item, action, recorded_at) VALUES (1, 'evil', 'pushed', '2026-01-01T00:00:00.000Z')", "inserted outside"),
        ] {
            try? FileManager.default.removeItem(atPath: copy)
            _ = try await sqlite(workspace.db, "VACUUM INTO '\(copy)'")
            _ = try await sqlite(copy, sql)
            let check = try await runStevedore(["audit", "verify", "--db", copy], environment: [:])
            #expect(check.exitCode == 1, "\(sql)")
            #expect(check.stderr.contains(expected), "\(sql): \(check.stderr)")
        }

        // prune keeps the log verifiable and the state.
        let pruned = try await runStevedore(["prune", "--before", "2999-01-01", "--db", workspace.db], environment: [:])
        #expect(pruned.exitCode == 0, "\(pruned.stderr)")
        let after = try await runStevedore(["audit", "verify", "--db", workspace.db], environment: [:])
        #expect(after.exitCode == 0, "\(after.stderr)")
        #expect(try await rows(["state"], db: workspace.db).count == 2 * 58)
        #expect(try await rows(["runs"], db: workspace.db).isEmpty)
        await proxy.stop()
        await registry.stop()
    }
}

/// Splits RFC 4180 CSV into records of fields (quoted fields may hold commas, quotes and line breaks).
func csvRecords(_ text: String) -> [[String]] {
    var records: [[String]] = [], record: [String] = [], field = "", quoted = false
    var characters = Array(text).makeIterator()
    var pending: Character?
    while let character = pending ?? characters.next() {
        pending = nil
        if quoted {
            if character == "\"" {
                let next = characters.next()
                if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
            } else {
                field.append(character)
            }
            continue
        }
        switch character {
        case "\"": quoted = true
        case ",": record.append(field); field = ""
        case "\r\n", "\n": record.append(field); records.append(record); record = []; field = ""
        default: field.append(character)
        }
    }
    if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
    return records
}

enum HTMLEscaped {
    /// A piece of the `denied` remedy without characters HTML escapes.
    static let remedyFragment = "the credentials lack write access to this repository"
}
