import AuditStore
import Foundation
import PostgresStore
import SQLiteStore
import Testing
import TestSupport

/// The same log written to SQLite and to PostgreSQL reads back as the same report rows.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct ParityTests {
    @Test func sameWorkloadGivesEqualReportRows() async throws {
        let directory = try TempDirectory.create(prefix: "parity")
        defer { directory.remove() }
        let sqlite = try SQLiteAuditStore(path: directory.file("audit.db"))
        try await Workload.write(to: sqlite)
        let database = try await PostgresDatabase.start()
        let postgres = try await database.open()
        try await Workload.write(to: postgres)

        let expected = try await Workload.reports(sqlite)
        let actual = try await Workload.reports(postgres)
        #expect(expected.count == actual.count)
        for (index, (left, right)) in zip(expected, actual).enumerated() {
            #expect(left == right, "report \(index) differs")
        }
        // The reports are not empty: the comparison compared something.
        #expect(expected.joined().contains(#""service":"web""#))

        // Both ledgers verify, with the same number of entries and rows.
        let sqliteLedger = try await sqlite.verifyLedger(expectHead: nil)
        let postgresLedger = try await postgres.verifyLedger(expectHead: nil)
        #expect(sqliteLedger.ok && postgresLedger.ok)
        #expect(sqliteLedger.entries == postgresLedger.entries)
        #expect(sqliteLedger.rowsChecked == postgresLedger.rowsChecked)
        await sqlite.close()
        await postgres.close()
        await database.server.stop()
    }
}
