import Foundation

/// What `resume` and the rate limiter record.
extension AuditStore {
    /// Picks a died or interrupted run up again: status back to running, the resumption recorded.
    public func reopenRun(_ id: RunID, commandLine: String, pid: Int32, at: Date) throws(AuditStoreError) {
        try write { connection, ledger, now throws(AuditStoreError) in
            try connection.run("""
                INSERT INTO run_resumptions (run_id, resumed_at, command_line, pid, prior_status)
                SELECT id, ?, ?, ?, status FROM runs WHERE id = ?
                """, [.text(Timestamp.string(at)), .text(commandLine), .int(Int64(pid)), .int(id)])
            try ledger.append(.runResumptions, rowID: connection.lastInsertID, at: now)
            try connection.run("UPDATE runs SET status = 'running', finished_at = NULL, pid = ? WHERE id = ?",
                               [.int(Int64(pid)), .int(id)])
            try ledger.append(.runs, rowID: id, at: now)
        }
    }

    /// Runs recorded as running on `host` whose process is gone (killed, crashed, power loss) become `died`.
    /// Returns their ids.
    @discardableResult
    public func markDiedRuns(host: String, isAlive: (Int32) -> Bool) throws(AuditStoreError) -> [RunID] {
        let running = try locked { connection throws(AuditStoreError) in
            try connection.query("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?",
                                 [.text(host)]) { ($0.int(0), $0.optionalInt(1)) }
        }
        let dead = running.filter { _, pid in pid.map { !isAlive(Int32($0)) } ?? true }.map(\.0)
        guard !dead.isEmpty else { return [] }
        return try write { connection, ledger, now throws(AuditStoreError) in
            var marked: [RunID] = []
            for id in dead {
                let changed = try connection.run("UPDATE runs SET status = 'died' WHERE id = ? AND status = 'running'",
                                                 [.int(id)])
                guard changed > 0 else { continue }
                try ledger.append(.runs, rowID: id, at: now)
                marked.append(id)
            }
            return marked
        }
    }

    /// Records a pause of every worker made by the rate limiter.
    public func recordPause(run: RunID, registry: String, at: Date, durationMs: Int, rateAfter: Double?,
                            reason: String) throws(AuditStoreError) {
        try write { connection, ledger, now throws(AuditStoreError) in
            try connection.run("""
                INSERT INTO limiter_pauses (run_id, registry, paused_at, duration_ms, rate_after, reason)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [.int(run), .text(registry), .text(Timestamp.string(at)), .int(durationMs), .double(rateAfter),
                      .text(reason)])
            try ledger.append(.limiterPauses, rowID: connection.lastInsertID, at: now)
        }
    }

    /// How many times the run was resumed.
    public func resumptions(run: RunID) throws(AuditStoreError) -> Int {
        try locked { connection throws(AuditStoreError) in
            try connection.query("SELECT count(*) FROM run_resumptions WHERE run_id = ?", [.int(run)]) { Int($0.int(0)) }.first ?? 0
        }
    }
}

/// One pause of every worker by the rate limiter.
public struct PauseRow: Sendable, Codable, Equatable {
    public var registry: String
    public var pausedAt: String
    public var durationMs: Int
    public var rateAfter: Double?
    public var reason: String
}

extension AuditStore {
    /// The rate limiter's pauses during a run, in order.
    public func limiterPauses(run: RunID) throws(AuditStoreError) -> [PauseRow] {
        try locked { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT registry, paused_at, duration_ms, rate_after, reason FROM limiter_pauses WHERE run_id = ? ORDER BY id
                """, [.int(run)]) { row in
                PauseRow(registry: row.text(0), pausedAt: row.text(1), durationMs: Int(row.int(2)), rateAfter: row.double(3),
                         reason: row.text(4))
            }
        }
    }
}
