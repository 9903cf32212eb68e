import AuditStore
@testable import SQLiteStore
import Checksums
import Foundation
import Reports
import Testing

@Suite struct ReportQueryTests {
    /// Every report, with each of its filters, reads through an index: no full scan of jobs, attempts,
    /// tag results, tag state or the ledger. (`runs` is walked newest-first by its primary key, with a limit.)
    @Test func reportsNeverScanTheBigTables() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path, runs: 2)
        let filters: [ReportFilter] = [
            ReportFilter(), ReportFilter(runID: 1), ReportFilter(since: "2023-11-14T00:00:00.000Z"),
            ReportFilter(since: "2023-11-14T00:00:00.000Z", until: "2023-11-16T00:00:00.000Z"),
            ReportFilter(registry: "127.0.0.1:5000"), ReportFilter(namespace: "org"), ReportFilter(service: "svc2"),
            ReportFilter(status: "failed"), ReportFilter(errorClass: "server"), ReportFilter(runID: 2, limit: 5),
        ]
        var statements: [(String, String, [SQLValue])] = []
        for filter in filters {
            var scoped = filter
            if scoped.runID == nil && scoped.since == nil && scoped.until == nil { scoped.runID = 2 }
            statements.append(("runs", SQLiteAuditStore.runListSQL(filter).0, SQLiteAuditStore.runListSQL(filter).1))
            statements.append(("failures", SQLiteAuditStore.failuresSQL(scoped).0, SQLiteAuditStore.failuresSQL(scoped).1))
            statements.append(("attempts", SQLiteAuditStore.attemptsSQL(scoped).0, SQLiteAuditStore.attemptsSQL(scoped).1))
            statements.append(("service", SQLiteAuditStore.serviceSQL("svc3", filter).0, SQLiteAuditStore.serviceSQL("svc3", filter).1))
            if filter.registry != nil || filter.namespace != nil || filter.service != nil {
                statements.append(("state", SQLiteAuditStore.stateSQL(filter).0, SQLiteAuditStore.stateSQL(filter).1))
            }
        }
        statements.append(("service tags", SQLiteAuditStore.serviceTagsSQL, [.int(1)]))
        for (name, sql, values) in statements {
            let plan = try await store.queryPlan(sql, values)
            let scans = plan.filter {
                $0.hasPrefix("SCAN") && !$0.hasPrefix("SCAN r") && !$0.hasPrefix("SCAN (subquery") && !$0.contains("COVERING INDEX")
            }
            #expect(scans.isEmpty, "report \(name): \(plan.joined(separator: " | "))")
        }
        // The unfiltered failures report across all runs uses the partial index of failed jobs.
        let all = try await store.queryPlan(SQLiteAuditStore.failuresSQL(ReportFilter()).0, [])
        #expect(all.contains { $0.contains("jobs_failed") }, "\(all)")
    }

    @Test func reportsAnswerFromTheRecordedRuns() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path, runs: 2, jobs: 3)
        let runs = try await store.runList(ReportFilter())
        #expect(runs.map(\.runID) == [2, 1])
        #expect(runs.first?.jobsSucceeded == 3)
        #expect(runs.first?.attempts == 6)
        #expect(runs.first?.durationMs == 60_000)
        #expect(try await store.runList(ReportFilter(since: "2023-11-15T00:00:00.000Z")).map(\.runID) == [2])
        let history = try await store.serviceHistory("svc2", ReportFilter())
        #expect(history.map(\.runID) == [1, 2])
        #expect(history.first?.tags.map(\.tag) == ["v1", "latest"])
        let state = try await store.state(ReportFilter(service: "svc1"))
        #expect(state.map(\.tag) == ["latest", "v1"])
        #expect(state.allSatisfy { $0.runID == 2 && $0.digest == "sha256:1" })
        #expect(try await store.state(ReportFilter(namespace: "org")).count == 6)
        #expect(try await store.state(ReportFilter(namespace: "or")).isEmpty)
        let attempts = try await store.attemptList(ReportFilter(errorClass: "server", runID: 1))
        #expect(attempts.count == 3)
        #expect(attempts.allSatisfy { $0.httpStatus == 503 && $0.outcome == .failed })
        let summary = try #require(try await store.summary(run: 1))
        #expect(summary.retries == 3)
        #expect(summary.attemptsByErrorClass == ["server": 3])
        #expect(summary.rateLimitPauses == 1 && summary.rateLimitWaitMs == 1000)
        #expect(summary.retryWaitMs == 600)
        #expect(summary.requests == 15)
        #expect(summary.attemptLatencyP50Ms == 20 && summary.attemptLatencyMaxMs == 30)
        #expect(summary.ledgerRunHead?.count == 64)
    }

    @Test func formatsKeepEveryKeyAndFitTheTerminal() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path, runs: 1, jobs: 2)
        try await sqlite3(temporary.path, """
            UPDATE jobs SET status = 'failed', error_class = 'denied',
                error_message = 'denied: requested access to the resource is denied, "quoted", and long enough to be cut in a table'
            WHERE id = 1
            """)
        let failures = try await store.failures(ReportFilter(runID: 1))
        let table = Reports.failures(failures)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(table.json().utf8)) as? [[String: Any]])
        #expect(json.count == 1)
        #expect(Set(json[0].keys) == Set(table.columns.map(\.key)))
        #expect(json[0]["http_status"] as? Int == 503)
        #expect(json[0]["remedy"] as? String == Remedies.text(for: "denied"))
        let csv = table.csv().components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(csv.count == 2)
        #expect(csv[0] == table.columns.map(\.key).joined(separator: ","))
        #expect(csv[1].contains("\"denied: requested access to the resource is denied, \"\"quoted\"\", and long"))
        for line in table.table(width: 80).split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        for report in [Reports.runs(try await store.runList(ReportFilter())), Reports.state(try await store.state(ReportFilter())),
                       Reports.attempts(try await store.attemptList(ReportFilter(runID: 1))),
                       Reports.service(try await store.serviceHistory("svc1", ReportFilter()))] {
            for line in report.table(width: 80).split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        }
    }

    @Test func jsonEscapesWhatItMustAndParses() async throws {
        let awkward = "line one\nline \"two\"\t\\ back\u{01}slash, ünïcödé ✓"
        let table = ReportTable(columns: [.init("a"), .init("b"), .init("c")],
                                rows: [[.text(awkward), .int(nil), .list(["x", "y\"z"])], [.text(nil), .int(-3), .list([])]])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(table.json().utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        #expect(parsed[0]["a"] as? String == awkward)
        #expect(parsed[0]["b"] is NSNull)
        #expect(parsed[0]["c"] as? [String] == ["x", "y\"z"])
        #expect(parsed[1]["a"] is NSNull && parsed[1]["b"] as? Int == -3 && (parsed[1]["c"] as? [String])?.isEmpty == true)
        #expect(try JSONSerialization.jsonObject(with: Data(ReportTable(columns: [.init("a")]).json().utf8)) as? [Any] != nil)
    }

    @Test func userTimesBecomeStoredTimestamps() {
        #expect(ReportFilter.timestamp("2026-11-01") == "2026-11-01T00:00:00.000Z")
        #expect(ReportFilter.timestamp("2026-11-01T12:30Z") == "2026-11-01T12:30:00.000Z")
        #expect(ReportFilter.timestamp("2026-11-01 12:30:15") == "2026-11-01T12:30:15.000Z")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(ReportFilter.timestamp("1d", now: now) == Timestamp.string(now.addingTimeInterval(-86_400)))
        #expect(ReportFilter.timestamp("yesterday") == nil)
    }
}
