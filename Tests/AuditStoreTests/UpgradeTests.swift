@testable import AuditStore
import Checksums
import Foundation
@testable import SQLiteStore
import Testing
import TestSupport

/// The database `stevedore` 0.1.0 wrote (Tests/Fixtures/audit-0003), upgraded in place by this binary.
@Suite struct UpgradeTests {
    static let fixture = StevedoreBinary.packageRoot + "/Tests/Fixtures/audit-0003"

    /// A copy of the old database in a temporary directory, and the head the old binary printed.
    func oldDatabase() throws -> (TemporaryDatabase, String) {
        let temporary = try TemporaryDatabase()
        try FileManager.default.createDirectory(atPath: temporary.directory + "/nested", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixture + "/old.db", toPath: temporary.path)
        let head = try String(contentsOfFile: Self.fixture + "/old.head", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (temporary, head)
    }

    func count(_ path: String, _ sql: String) async throws -> [String] {
        let result = try await ChildProcess.run(executable: "/usr/bin/sqlite3", arguments: [path, sql], environment: [:])
        #expect(result.exitCode == 0, "\(sql): \(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func anOldDatabaseUpgradesInPlaceLosesNothingAndVerifiesWithItsOldHead() async throws {
        let (temporary, head) = try oldDatabase()
        defer { temporary.remove() }
        let before = try await count(temporary.path, """
            SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM jobs), (SELECT count(*) FROM attempts),
                   (SELECT count(*) FROM tag_results), (SELECT count(*) FROM limiter_pauses),
                   (SELECT count(*) FROM run_resumptions), (SELECT count(*) FROM pruned_runs),
                   (SELECT count(*) FROM ledger), (SELECT count(*) FROM tag_state)
            """)
        let jobsBefore = try await count(temporary.path, "SELECT id, service, status, tags, digest FROM jobs ORDER BY id")

        // Reports refuse to touch it (they never write), with the remedy.
        await #expect(throws: AuditStoreError.self) { _ = try SQLiteAuditStore.openForReading(path: temporary.path) }

        let store = try SQLiteAuditStore(path: temporary.path)
        #expect(try await store.appliedMigrations().map(\.version) == EmbeddedMigrations.all.map(\.version))
        let verification = try await store.verifyLedger(expectHead: head)
        #expect(verification.problems == [])
        #expect(verification.anchored)
        #expect(verification.encodings == ["1": verification.entries], "every old entry keeps encoding 1")
        await store.close()

        let after = try await count(temporary.path, """
            SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM jobs), (SELECT count(*) FROM attempts),
                   (SELECT count(*) FROM item_results), (SELECT count(*) FROM limiter_pauses),
                   (SELECT count(*) FROM run_resumptions), (SELECT count(*) FROM pruned_runs),
                   (SELECT count(*) FROM ledger), (SELECT count(*) FROM item_state)
            """)
        #expect(after == before)
        #expect(try await count(temporary.path, "SELECT id, service, status, items, digest FROM jobs ORDER BY id") == jobsBefore)
        // The compatibility views answer the old queries.
        #expect(try await count(temporary.path, "SELECT count(*) FROM tag_results") == [before[0].split(separator: "|")[3].description])
        #expect(try await count(temporary.path, "SELECT DISTINCT kind FROM jobs") == ["oci-image"])
    }

    @Test func newWritesUseTheNewEncodingAndTamperingWithOldRowsIsStillFound() async throws {
        let (temporary, head) = try oldDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        // A new run on the upgraded log: its entries are encoding 2 and chain after the old head.
        let run = try await store.beginRun(newRun())
        let job = try await store.insertJobs(run: run, [NewJob(seq: 1, service: "new", registry: "r", repository: "o/new",
                                                               items: ["latest"])])[0]
        try await store.finishJob(JobFinish(runID: run, jobID: job,
                                            completion: JobCompletion(status: .succeeded, digest: "sha256:2", errorClass: nil,
                                                                      errorMessage: nil, finishedAt: Date()),
                                            items: [ItemResult(item: "latest", action: "pushed", digestAfter: "sha256:2",
                                                               at: Date())]))
        let verification = try await store.verifyLedger(expectHead: head)
        #expect(verification.problems == [])
        #expect(verification.encodings[String(LedgerEncodings.builtIn.current.version)] == 4, "new entries use the newest encoding")

        // Rows last chained in encoding 1 are still protected: an item result (chained as tag_results), a
        // limiter pause (a REAL column), a job.
        for (sql, table) in [
            ("UPDATE item_results SET digest_after = 'sha256:evil' WHERE id = (SELECT min(id) FROM item_results)", "item_results"),
            ("UPDATE limiter_pauses SET rate_after = 99.5 WHERE id = (SELECT min(id) FROM limiter_pauses)", "limiter_pauses"),
            ("UPDATE jobs SET error_message = 'edited' WHERE status = 'failed' AND id = (SELECT min(id) FROM jobs WHERE status = 'failed')", "jobs"),
        ] {
            try await sqlite3(temporary.path, sql)
            let problems = try await store.verifyLedger(expectHead: head).problems
            #expect(problems.contains { $0.kind == .rowAltered && $0.table == table }, "\(sql): \(problems)")
        }
        await store.close()
    }

    /// Encoding 1 is reproduced in Swift byte for byte: for every row of the old database, the sha256 of SQLite's
    /// own `json_array` over the 0003 columns equals the encoder's.
    @Test func theSwiftLegacyEncodingIsSQLitesJSONArray() async throws {
        let (temporary, _) = try oldDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        defer { store.stopWithoutFlush() }
        let mismatches = try await store.read { connection throws(AuditStoreError) -> [String] in
            var mismatches: [String] = []
            for table in AuditedTable.allCases {
                let legacy = LedgerEncoding.v1.columns(of: table)
                guard !legacy.isEmpty else { continue }  // tables audited only from a later encoding
                let jsonColumns = legacy.map { $0 == "run_head" ? "hex(run_head)" : $0 }.joined(separator: ", ")
                let sql = "SELECT json_array(\(jsonColumns)), \(legacy.joined(separator: ", ")) FROM \(table.rawValue)"
                try connection.each(sql) { row throws(AuditStoreError) in
                    let audited = row.auditedRow(table, names: legacy, from: 1)
                    if Array(row.text(0).utf8) != LedgerEncoding.v1.canonicalBytes(audited) {
                        mismatches.append("\(table.rawValue) \(audited.id): \(row.text(0))")
                    }
                }
            }
            return mismatches
        }
        #expect(mismatches == [])
        // And the odd values old rows may hold: escapes, control characters, unicode, reals.
        let texts = ["quote \" backslash \\ tab \t newline \n", "\u{01}\u{1f}\u{7f}", "ünïcødé ✓", ""]
        let reals = [25.0, 7.5, 0.1, 18.75, 1e21, 123456789.123456789, 0.000123]
        let sqliteText = try await store.read { connection throws(AuditStoreError) -> [String] in
            try (texts.map { SQLValue.text($0) } + reals.map { SQLValue.double($0) }).map { value throws(AuditStoreError) in
                try connection.query("SELECT json_array(?)", [value]) { $0.text(0) }.first ?? ""
            }
        }
        let swiftText = (texts.map { LedgerValue.text($0) } + reals.map { LedgerValue.real($0) })
            .map { String(decoding: LegacyJSON.array([$0]), as: UTF8.self) }
        #expect(swiftText == sqliteText)
    }
}
