@testable import AuditStore
import Foundation
@testable import SQLiteStore
import Testing

/// What a later release does when it adds a column to an audited table: a migration adds it and a new encoding
/// version lists it. Rows chained before keep verifying with their version; the new column is protected from then on.
@Suite struct EncodingVersionTests {
    static let addNote: Migrator.Migration = (EmbeddedMigrations.all.count + 1, "job_notes", "ALTER TABLE jobs ADD COLUMN note TEXT;\n")

    /// The version after the newest built-in one, listing the new column.
    static let later = LedgerEncoding(version: LedgerEncodings.builtIn.current.version + 1,
                                      columns: LedgerEncodings.builtIn.current.columns.merging(
        [.jobs: LedgerEncodings.builtIn.current.columns(of: .jobs) + ["note"]]) { _, new in new })

    func open(_ path: String, later: Bool) throws -> SQLiteAuditStore {
        try SQLiteAuditStore(path: path, readOnly: false,
                             migrations: EmbeddedMigrations.all + (later ? [Self.addNote] : []),
                             encodings: later ? LedgerEncodings(Array(LedgerEncodings.builtIn.all.values) + [Self.later]) : .builtIn,
                             liveness: nil, now: { Date() })
    }

    @Test func aMigrationThatAddsAColumnKeepsOldRowsVerifyingAndProtectsTheNewColumn() async throws {
        #expect(Self.addNote.version == 6)
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let today = try open(temporary.path, later: false)
        let run = try await today.beginRun(newRun())
        _ = try await today.insertJobs(run: run, [NewJob(seq: 1, service: "old", registry: "r", repository: "o/old", items: ["v1"])])
        await today.close()

        let later = try open(temporary.path, later: true)
        #expect(try await later.appliedMigrations().last?.version == Self.addNote.version)
        #expect(try await later.verifyLedger(expectHead: nil).problems == [], "rows chained in the previous encoding still verify")

        let newJob = try await later.insertJobs(run: run, [NewJob(seq: 2, service: "new", registry: "r", repository: "o/new",
                                                                  items: ["v1"])])[0]
        try await later.write { _, ledger throws(AuditStoreError) in
            try ledger.write(.jobs, "UPDATE jobs SET note = 'reviewed' WHERE id = ? " + ledger.returning(.jobs), [.int(newJob)])
        }
        let verification = try await later.verifyLedger(expectHead: nil)
        #expect(verification.problems == [])
        #expect(verification.encodings[String(Self.later.version)] == 2, "the insert and the note")

        // An edit of the new column on a row chained with the version that covers it is found.
        try await sqlite3(temporary.path, "UPDATE jobs SET note = 'forged' WHERE id = \(newJob)")
        let problems = try await later.verifyLedger(expectHead: nil).problems
        #expect(problems.map(\.kind) == [.rowAltered])
        #expect(problems.first?.rowID == newJob)

        // A binary that does not know the later encoding says so instead of calling the rows altered.
        await later.close()
        try await sqlite3(temporary.path, "UPDATE jobs SET note = 'reviewed' WHERE id = \(newJob)")
        let older = try SQLiteAuditStore(path: temporary.path, readOnly: true,
                                         migrations: EmbeddedMigrations.all + [Self.addNote], encodings: .builtIn,
                                         liveness: nil, now: { Date() })
        defer { older.stopWithoutFlush() }
        let unknown = try await older.verifyLedger(expectHead: nil).problems
        #expect(!unknown.isEmpty && unknown.allSatisfy { $0.kind == .unknownEncoding })
    }
}
