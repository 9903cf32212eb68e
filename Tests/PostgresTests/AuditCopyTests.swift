import AuditCopy
import AuditStore
import Foundation
import PostgresStore
import SQLiteStore
import Testing
import TestSupport

/// `stevedore audit copy`: a SQLite log (pruned, so with an anchor and pruned runs) moved into PostgreSQL keeps its
/// chain verifying and its report rows, and the copy refuses a database that already holds a log.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct AuditCopyTests {
    @Test func copiedLogVerifiesAndReadsTheSame() async throws {
        let directory = try TempDirectory.create(prefix: "copy")
        defer { directory.remove() }
        let path = directory.file("audit.db")
        let sqlite = try SQLiteAuditStore(path: path)
        try await Workload.write(to: sqlite)
        _ = try await sqlite.prune(before: Timestamp.string(Workload.at(50)), dryRun: false)
        _ = try await sqlite.beginRun(NewRun(command: "verify", commandLine: "stevedore verify", toolVersion: "t",
                                             host: "h", user: "u", startedAt: Workload.at(300)))
        let sqliteHead = try await sqlite.ledgerHead()
        let sqliteLedger = try await sqlite.verifyLedger(expectHead: nil)
        #expect(sqliteLedger.ok && sqliteLedger.anchored)
        let sqliteState = try await sqlite.state(ReportFilter())
        let sqliteAttempts = try await sqlite.attemptList(ReportFilter())
        let sqliteRuns = try await sqlite.runList(ReportFilter())
        await sqlite.close()

        let database = try await PostgresDatabase.start()
        let copy = try await runStevedore(["audit", "copy", "--from", "sqlite:\(path)", "--to", database.url], environment: [:])
        #expect(copy.exitCode == 0, "\(copy)")
        #expect(copy.stdout.contains("ledger entries verified, head \(sqliteHead ?? "?")"))
        #expect(!copy.stdout.contains(database.server.password))

        let verify = try await runStevedore(["audit", "verify", "--db", database.url, "--expect-head", sqliteHead ?? ""],
                                            environment: [:])
        #expect(verify.exitCode == 0, "\(verify)")
        #expect(verify.stdout.contains("starting at the prune anchor"))

        let store = try await database.open()
        let ledger = try await store.verifyLedger(expectHead: sqliteHead)
        #expect(ledger.ok, "\(ledger.problems)")
        #expect(ledger.entries == sqliteLedger.entries)
        #expect(ledger.prunedRuns == 1)
        #expect(try await store.state(ReportFilter()) == sqliteState)
        #expect(try await store.attemptList(ReportFilter()) == sqliteAttempts)
        #expect(try await store.runList(ReportFilter()) == sqliteRuns)
        // New writes continue both the ids and the chain.
        let next = try await store.beginRun(NewRun(command: "provision", commandLine: "c", toolVersion: "t", host: "h",
                                                   user: "u", startedAt: Workload.at(400)))
        #expect(next == 4)
        #expect(try await store.verifyLedger(expectHead: sqliteHead).ok)
        await store.close()

        let again = try await runStevedore(["audit", "copy", "--from", path, "--to", database.url], environment: [:])
        #expect(again.exitCode == 3, "\(again)")
        #expect(again.stderr.contains("already holds an audit log"))
        await database.server.stop()
    }

    @Test func aLogFromAnOlderReleaseKeepsItsVersionOneEntriesVerifying() async throws {
        let directory = try TempDirectory.create(prefix: "copy")
        defer { directory.remove() }
        let path = directory.file("old.db")
        try FileManager.default.copyItem(atPath: StevedoreBinary.packageRoot + "/Tests/Fixtures/audit-0003/old.db", toPath: path)
        let upgrade = try await runStevedore(["audit", "upgrade", "--db", path], environment: [:])
        #expect(upgrade.exitCode == 0, "\(upgrade)")
        let database = try await PostgresDatabase.start()
        let copy = try await runStevedore(["audit", "copy", "--from", "sqlite:\(path)", "--to", database.url], environment: [:])
        #expect(copy.exitCode == 0, "\(copy)")
        let store = try await database.open()
        let verification = try await store.verifyLedger(expectHead: nil)
        #expect(verification.ok, "\(verification.problems.prefix(3))")
        #expect((verification.encodings["1"] ?? 0) > 0)
        await store.close()
        await database.server.stop()
    }

    @Test func aTamperedSourceCopiesButFailsVerification() async throws {
        let directory = try TempDirectory.create(prefix: "copy")
        defer { directory.remove() }
        let path = directory.file("audit.db")
        let sqlite = try SQLiteAuditStore(path: path)
        try await Workload.write(to: sqlite)
        await sqlite.close()
        let database = try await PostgresDatabase.start()
        var dump = try SQLiteDumpReader.read(path: path)
        let jobs = try #require(dump.tables.firstIndex { $0.name == "jobs" })
        let digest = try #require(dump.tables[jobs].columns.firstIndex(of: "digest"))
        dump.tables[jobs].rows[0][digest] = .text("sha256:forged")
        let store = try await database.open()
        try await store.importLog(dump)
        let verification = try await store.verifyLedger(expectHead: nil)
        #expect(verification.problems.map(\.kind) == [.rowAltered])
        #expect(verification.problems.first?.table == "jobs")
        await store.close()
        await database.server.stop()
    }
}
