import AuditStore
import Foundation

extension SQLiteAuditStore {
    /// Deletes the finished runs started before `before` (an ISO-8601 UTC timestamp) with their jobs, attempts,
    /// item results, resumptions and pauses, keeping the ledger verifiable, then `VACUUM`s.
    ///
    /// Each pruned run leaves a `pruned_runs` row (chained in the ledger) with its counts and its last run hash.
    /// The ledger's start, up to the first entry of a run that stays, is removed and replaced by an anchor: the
    /// hash of the last removed entry, which the first kept entry chains from. Entries of pruned runs interleaved
    /// with kept ones stay, so the global chain still verifies; their rows are gone and `audit verify` accepts
    /// that because the run is in `pruned_runs`. `item_state` keeps what the log says each item holds.
    public func prune(before: String, dryRun: Bool) async throws(AuditStoreError) -> PruneResult {
        let bytesBefore = fileSize()
        let candidates = try await read { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT r.id, (SELECT count(*) FROM jobs WHERE run_id = r.id),
                       (SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = r.id)
                FROM runs r WHERE r.started_at < ? AND r.status <> 'running' ORDER BY r.id
                """, [.text(before)]) { (id: $0.int(0), jobs: Int($0.int(1)), attempts: Int($0.int(2))) }
        }
        var result = PruneResult(runs: candidates.map(\.id), jobs: candidates.reduce(0) { $0 + $1.jobs },
                                 attempts: candidates.reduce(0) { $0 + $1.attempts }, ledgerEntriesRemoved: 0,
                                 bytesBefore: bytesBefore, bytesAfter: bytesBefore, dryRun: dryRun)
        guard !dryRun, !candidates.isEmpty else { return result }

        // A kept run may name a pruned one as its parent: let that reference dangle (it names a pruned_runs row).
        try await read { connection throws(AuditStoreError) in try connection.execute("PRAGMA foreign_keys = OFF") }
        do {
            result.ledgerEntriesRemoved = try await write { connection, ledger throws(AuditStoreError) -> Int in
                for run in candidates {
                    try ledger.write(.prunedRuns, """
                        INSERT INTO pruned_runs (run_id, started_at, status, jobs, attempts, run_head, pruned_at)
                        SELECT id, started_at, status, ?, ?,
                               (SELECT run_hash FROM ledger WHERE run_id = runs.id ORDER BY id DESC LIMIT 1), ?
                        FROM runs WHERE id = ? \(ledger.returning(.prunedRuns))
                        """, [.int(run.jobs), .int(run.attempts), .text(ledger.now), .int(run.id)])
                    for sql in [
                        "DELETE FROM limiter_pauses WHERE run_id = ?",
                        "DELETE FROM run_resumptions WHERE run_id = ?",
                        "DELETE FROM item_results WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?)",
                        "DELETE FROM blob_actions WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?)",
                        "DELETE FROM job_manifests WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?)",
                        "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?)",
                        "DELETE FROM jobs WHERE run_id = ?",
                        "DELETE FROM runs WHERE id = ?",
                    ] {
                        try connection.run(sql, [.int(run.id)])
                    }
                }
                return try Self.cutLedgerPrefix(connection, ledger)
            }
        } catch {
            try? await read { connection throws(AuditStoreError) in try connection.execute("PRAGMA foreign_keys = ON") }
            throw error
        }
        try await read { connection throws(AuditStoreError) in
            try connection.execute("PRAGMA foreign_keys = ON")
            try connection.execute("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
        }
        result.bytesAfter = fileSize()
        return result
    }

    /// Removes the ledger's entries before the first one that belongs to a run that stays, leaving an anchor.
    /// `pruned_runs` rows whose latest entry would go are chained again first (run 0 is the store's own chain).
    private static func cutLedgerPrefix(_ connection: Connection, _ ledger: LedgerWriter) throws(AuditStoreError) -> Int {
        let head = try LedgerWriter.head(connection)
        let firstKept = try connection.query("""
            SELECT min(id) FROM ledger
            WHERE tbl <> 'pruned_runs' AND run_id NOT IN (SELECT run_id FROM pruned_runs)
            """) { $0.optionalInt(0) }.first ?? nil
        let cut = firstKept ?? head.id + 1
        let start = try connection.query("SELECT min(id) FROM ledger") { $0.optionalInt(0) }.first ?? nil
        guard let start, cut > start else { return 0 }
        let carried = try connection.query(
            "SELECT DISTINCT row_id FROM ledger WHERE tbl = 'pruned_runs' AND id < ? ORDER BY row_id", [.int(cut)]) { $0.int(0) }
        if !carried.isEmpty {
            try ledger.appendExisting(.prunedRuns, whereSQL: "WHERE t.id IN (\(carried.map(String.init).joined(separator: ",")))")
        }
        let previous = try connection.query("SELECT hash FROM ledger WHERE id = ?", [.int(cut - 1)]) { $0.blob(0) }.first
        guard let previous else { return 0 }
        let removed = try connection.run("DELETE FROM ledger WHERE id < ?", [.int(cut)])
        try connection.run("DELETE FROM ledger_anchor")
        try connection.run("INSERT INTO ledger_anchor (first_id, prev_hash, created_at) VALUES (?, ?, ?)",
                           [.int(cut), .blob(previous), .text(ledger.now)])
        return removed
    }

    private func fileSize() -> Int64 {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
        return size ?? 0
    }
}
