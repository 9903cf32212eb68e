import AuditStore
import Foundation
import PostgresNIO

extension PostgresAuditStore {
    /// Deletes the finished runs started before `before` with their rows, keeping the ledger verifiable, exactly as
    /// the SQLite store does (see its `prune`): a chained `pruned_runs` row per run, the ledger's prefix up to the first
    /// entry of a kept run replaced by an anchor. Runs in one transaction under the ledger lock. The space is given
    /// back by PostgreSQL's autovacuum; the sizes are those of the audit tables.
    public func prune(before: String, dryRun: Bool) async throws(AuditStoreError) -> PruneResult {
        let bytesBefore = try await tableBytes()
        let candidates = try await rows("""
            SELECT r.id, (SELECT count(*) FROM jobs WHERE run_id = r.id),
                   (SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = r.id)
            FROM runs r WHERE r.started_at < $1 AND r.status <> 'running' ORDER BY r.id
            """, [.text(before)]).map { (id: $0.int(0), jobs: Int($0.int(1)), attempts: Int($0.int(2))) }
        var result = PruneResult(runs: candidates.map(\.id), jobs: candidates.reduce(0) { $0 + $1.jobs },
                                 attempts: candidates.reduce(0) { $0 + $1.attempts }, ledgerEntriesRemoved: 0,
                                 bytesBefore: bytesBefore, bytesAfter: bytesBefore, dryRun: dryRun)
        guard !dryRun, !candidates.isEmpty else { return result }
        result.ledgerEntriesRemoved = try await write { connection, ledger in
            try await ledger.lock()
            for run in candidates {
                try await ledger.write(.prunedRuns, SQLStatement("""
                    INSERT INTO pruned_runs (run_id, started_at, status, jobs, attempts, run_head, pruned_at)
                    SELECT id, started_at, status, $1, $2,
                           (SELECT run_hash FROM ledger WHERE run_id = runs.id ORDER BY id DESC LIMIT 1), $3
                    FROM runs WHERE id = $4 \(ledger.returning(.prunedRuns))
                    """, [.int(run.jobs), .int(run.attempts), .text(ledger.now), .int(run.id)]))
                for sql in [
                    "DELETE FROM limiter_pauses WHERE run_id = $1",
                    "DELETE FROM run_resumptions WHERE run_id = $1",
                    "DELETE FROM item_results WHERE job_id IN (SELECT id FROM jobs WHERE run_id = $1)",
                    "DELETE FROM blob_actions WHERE job_id IN (SELECT id FROM jobs WHERE run_id = $1)",
                    "DELETE FROM job_manifests WHERE job_id IN (SELECT id FROM jobs WHERE run_id = $1)",
                    "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE run_id = $1)",
                    "DELETE FROM job_claims WHERE job_id IN (SELECT id FROM jobs WHERE run_id = $1)",
                    "DELETE FROM runners WHERE run_id = $1",
                    "DELETE FROM jobs WHERE run_id = $1",
                    "DELETE FROM runs WHERE id = $1",
                ] {
                    _ = try await connection.rows(sql, [.int(run.id)], logger: ledger.logger)
                }
            }
            // Workers last seen before the date go too, whether they left or died (coordination state, not audited).
            _ = try await connection.rows("DELETE FROM runners WHERE run_id IS NULL AND coalesce(left_at, seen_at) < $1::timestamptz",
                                          [.text(before)], logger: ledger.logger)
            // The new pruned_runs entries are chained first, so the prefix is cut after them.
            try await ledger.commit()
            return try await Self.cutLedgerPrefix(connection, ledger)
        }
        result.bytesAfter = try await tableBytes()
        return result
    }

    /// Removes the entries before the first one of a run that stays, leaving an anchor; `pruned_runs` rows whose
    /// latest entry would go are chained again first.
    private static func cutLedgerPrefix(_ connection: PostgresConnection, _ ledger: PostgresLedger) async throws -> Int {
        let logger = ledger.logger
        let head = try await PostgresLedger.head(connection, logger: logger)
        let firstKept = try await connection.rows("""
            SELECT min(id) FROM ledger WHERE tbl <> 'pruned_runs' AND run_id NOT IN (SELECT run_id FROM pruned_runs)
            """, logger: logger).first?.optionalInt(0)
        let cut = firstKept ?? head.id + 1
        guard let start = try await connection.rows("SELECT min(id) FROM ledger", logger: logger).first?.optionalInt(0),
              cut > start else { return 0 }
        let carried = try await connection.rows(
            "SELECT DISTINCT row_id FROM ledger WHERE tbl = 'pruned_runs' AND id < $1 ORDER BY row_id", [.int(cut)],
            logger: logger).map { $0.int(0) }
        if !carried.isEmpty {
            try await ledger.appendExisting(.prunedRuns, condition: "t.id = ANY($1)", [.ints(carried)])
            try await ledger.commit()
        }
        guard let previous = try await connection.rows("SELECT hash FROM ledger WHERE id = $1", [.int(cut - 1)],
                                                       logger: logger).first?.bytes(0) else { return 0 }
        let removed = try await connection.rows("DELETE FROM ledger WHERE id < $1 RETURNING id", [.int(cut)], logger: logger).count
        _ = try await connection.rows("DELETE FROM ledger_anchor", logger: logger)
        _ = try await connection.rows("INSERT INTO ledger_anchor (first_id, prev_hash, created_at) VALUES ($1, $2, $3)",
                                      [.int(cut), .bytes(previous), .text(ledger.now)], logger: logger)
        return removed
    }

    /// Bytes of the audit tables and their indexes.
    func tableBytes() async throws(AuditStoreError) -> Int64 {
        let tables = AuditedTable.allCases.map(\.rawValue) + ["ledger", "ledger_anchor", "item_state"]
        return try await rows("SELECT coalesce(sum(pg_total_relation_size(to_regclass(name))), 0)::bigint FROM unnest($1::text[]) AS name",
                              [.texts(tables)]).first?.int(0) ?? 0
    }
}
