import CSQLite
import Foundation

/// The audit log: runs, jobs, attempts and tag results in one SQLite database (WAL mode).
///
/// One connection, every call serialised by a lock, so tasks can record concurrently. Concurrent writes
/// share a transaction (group commit); each is durable against a crash of the process once the call returns.
/// The schema is `migrations/*.sql`, embedded at build time and applied on open.
public final class AuditStore: @unchecked Sendable {
    public let path: String
    let connection: Connection
    private let lock = NSLock()
    /// Time spent inside write transactions since the store was opened (guarded by `lock`).
    private var writeNanoseconds: UInt64 = 0
    private var writeCPUNanoseconds: UInt64 = 0
    private let groupCommit = GroupCommit()

    /// `$STEVEDORE_DB`, else `$XDG_STATE_HOME/stevedore/audit.db`, else `~/.local/state/stevedore/audit.db`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["STEVEDORE_DB"], !path.isEmpty { return path }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/stevedore/audit.db" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/state/stevedore/audit.db"
    }

    /// Opens (creating it and its directory if needed) and migrates the database at `path`.
    /// A file that is not a SQLite database is left untouched and reported as `notADatabase`.
    public init(path: String, readOnly: Bool = false) throws(AuditStoreError) {
        self.path = path
        if !readOnly {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                            attributes: [.posixPermissions: 0o700])
                } catch {
                    throw AuditStoreError(.cannotOpen, path: path, message: "cannot create \(directory)")
                }
            }
        } else if !FileManager.default.fileExists(atPath: path) {
            throw AuditStoreError(.cannotOpen, path: path, message: "no such file")
        }
        connection = try Connection(path: path, readOnly: readOnly)
        // Reading the schema is the first access to the file: a non-database fails here, before any write.
        let migrator = Migrator(connection: connection, migrations: EmbeddedMigrations.all)
        let pending = try migrator.pending()
        if readOnly {
            guard pending.isEmpty else {
                throw AuditStoreError(.cannotOpen, path: path, message: "its schema is older than this binary; open it once read-write")
            }
            return
        }
        // 1 KiB pages: a job's transaction dirties a dozen b-tree pages and the WAL writes each whole;
        // smaller pages cut the audit write time by about a quarter (docs/PERFORMANCE.md). Only applies when
        // the file is created.
        try connection.execute("PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 16384;")
        let now = Timestamp.string(Date())
        try migrator.migrate(at: now)
        // Rows written before the ledger existed are chained once, when the migration that adds it runs; a
        // ledger deleted later is not rebuilt (audit verify then reports every row as inserted).
        if pending.contains(where: { $0.version == Ledger.migrationVersion }) {
            try Ledger(connection: connection).adoptUnchainedRows(at: now)
        }
    }

    /// Runs `body` with the connection, one caller at a time.
    func locked<T>(_ body: (Connection) throws(AuditStoreError) -> T) throws(AuditStoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(connection)
    }

    /// Runs `body` in one write transaction, with the ledger to record what it changed, one caller at a
    /// time. The time it takes counts as audit write time.
    ///
    /// Concurrent writers share transactions (``GroupCommit``); each returns once its rows are committed.
    func write<T>(_ body: (Connection, Ledger, String) throws(AuditStoreError) -> T) throws(AuditStoreError) -> T {
        var result: T?
        try withoutActuallyEscaping(body) { body throws(AuditStoreError) in
            let ticket = GroupCommit.Ticket { connection, ledger, now throws(AuditStoreError) in
                result = try body(connection, ledger, now)
            }
            try groupCommit.submit(ticket) { batch in commit(batch) }
        }
        return result!
    }

    /// Queues a write without waiting for its commit: it is committed with the next batch, within
    /// ``GroupCommit/linger`` or ``GroupCommit/deferredBatch`` deferred writes, or by the next waiting write or
    /// ``flush()``, whichever comes first. A crash can lose it.
    func writeDeferred(_ body: @escaping @Sendable (Connection, Ledger, String) throws(AuditStoreError) -> Void) {
        groupCommit.submitDeferred(GroupCommit.Ticket(deferred: true, body)) { batch in commit(batch) }
    }

    /// Commits the deferred writes now. Returns the first error a deferred write met, if any.
    @discardableResult
    public func flush() -> AuditStoreError? {
        groupCommit.flush { batch in commit(batch) }
        return groupCommit.deferredError
    }

    private func commit(_ batch: [GroupCommit.Ticket]) {
        lock.lock()
        defer { lock.unlock() }
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = Self.threadCPUNanoseconds()
        defer {
            writeNanoseconds += DispatchTime.now().uptimeNanoseconds - start
            writeCPUNanoseconds += Self.threadCPUNanoseconds() &- cpuStart
        }
        GroupCommit.run(batch, on: connection, now: Timestamp.string(Date()))
    }

    deinit {
        flush()
    }

    /// Milliseconds spent in audit writes since the store was opened: wall clock (the store busy, including
    /// time the writing thread waited for a core) and the CPU time of the writing threads.
    public var writeMilliseconds: (wall: Int, cpu: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (Int(writeNanoseconds / 1_000_000), Int(writeCPUNanoseconds / 1_000_000))
    }

    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The applied migrations, oldest first.
    public func appliedMigrations() throws(AuditStoreError) -> [(version: Int, name: String)] {
        try locked { connection throws(AuditStoreError) in
            try Migrator(connection: connection, migrations: EmbeddedMigrations.all).applied().map { ($0.version, $0.name) }
        }
    }

    // MARK: Writes

    public func beginRun(_ run: NewRun) throws(AuditStoreError) -> RunID {
        try write { connection, ledger, now throws(AuditStoreError) in
            try connection.run("""
                INSERT INTO runs (command, command_line, tool_version, host, user, input_file, input_sha256, registry,
                                  namespace, options, status, started_at, parent_run_id, pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
                """, [.text(run.command), .text(run.commandLine), .text(run.toolVersion), .text(run.host), .text(run.user),
                      .text(run.inputFile), .text(run.inputSHA256), .text(run.registry), .text(run.namespace),
                      .text(run.options), .text(Timestamp.string(run.startedAt)), .int(run.parentRunID),
                      .int(run.pid.map(Int64.init))])
            let id = connection.lastInsertID
            try ledger.append(.runs, rowID: id, at: now)
            return id
        }
    }

    /// Closes a run; records the audit write time of this process with it.
    public func finishRun(_ id: RunID, status: RunStatus, at: Date) throws(AuditStoreError) {
        let audit = writeMilliseconds
        try write { connection, ledger, now throws(AuditStoreError) in
            try connection.run("""
                UPDATE runs SET status = ?, finished_at = ?, audit_write_ms = coalesce(audit_write_ms, 0) + ?,
                    audit_cpu_ms = coalesce(audit_cpu_ms, 0) + ?
                WHERE id = ?
                """, [.text(status.rawValue), .text(Timestamp.string(at)), .int(audit.wall), .int(audit.cpu), .int(id)])
            try ledger.append(.runs, rowID: id, at: now)
        }
    }

    /// Records every job of a run as pending, in one transaction.
    public func insertJobs(run: RunID, _ jobs: [NewJob]) throws(AuditStoreError) -> [JobID] {
        try write { connection, ledger, now throws(AuditStoreError) -> [JobID] in
            var ids: [JobID] = []
            ids.reserveCapacity(jobs.count)
            for job in jobs {
                try connection.run("""
                    INSERT INTO jobs (run_id, seq, service, registry, repository, tags, status)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending')
                    """, [.int(run), .int(job.seq), .text(job.service), .text(job.registry), .text(job.repository),
                          .text(JSONList.encode(job.tags))])
                ids.append(connection.lastInsertID)
            }
            try ledger.append(.jobs, rowIDs: ids, at: now)
            return ids
        }
    }

    public func markJobRunning(_ id: JobID, at: Date) throws(AuditStoreError) {
        try write { connection, ledger, now throws(AuditStoreError) in
            try connection.run("UPDATE jobs SET status = 'running', started_at = coalesce(started_at, ?) WHERE id = ?",
                               [.text(Timestamp.string(at)), .int(id)])
            try ledger.append(.jobs, rowID: id, at: now)
        }
    }

    public func recordAttempt(_ attempt: AttemptRecord) throws(AuditStoreError) {
        try write { connection, ledger, now throws(AuditStoreError) in
            try Self.insertAttempt(attempt, connection, ledger, now)
            try ledger.append(.jobs, rowID: attempt.jobID, at: now)
        }
    }

    /// The attempt row, and its job: at least this many attempts, running if it was pending, started
    /// when its first recorded attempt started. The caller chains the job row.
    private static func insertAttempt(_ attempt: AttemptRecord, _ connection: Connection, _ ledger: Ledger,
                                      _ now: String) throws(AuditStoreError) {
        let started = Timestamp.string(attempt.startedAt)
        try connection.run("""
            INSERT INTO attempts (job_id, number, started_at, duration_ms, outcome, http_status, error_code,
                                  error_class, message, requests, bytes_sent, wait_ms, wait_reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(attempt.jobID), .int(attempt.number), .text(started),
                  .int(attempt.durationMs), .text(attempt.outcome.rawValue), .int(attempt.httpStatus),
                  .text(attempt.errorCode), .text(attempt.errorClass), .text(attempt.message),
                  .int(attempt.requests), .int(attempt.bytesSent), .int(attempt.waitMs), .text(attempt.waitReason)])
        try ledger.append(.attempts, rowID: connection.lastInsertID, at: now)
        try connection.run("""
            UPDATE jobs SET attempts = max(attempts, ?), started_at = coalesce(started_at, ?),
                status = CASE status WHEN 'pending' THEN 'running' ELSE status END
            WHERE id = ?
            """, [.int(attempt.number), .text(started), .int(attempt.jobID)])
    }

    public func recordTagResult(_ result: TagResult) throws(AuditStoreError) {
        try write { connection, ledger, now throws(AuditStoreError) in
            try Self.insertTagResult(result, connection, ledger, now)
        }
    }

    private static func insertTagResult(_ result: TagResult, _ connection: Connection, _ ledger: Ledger,
                                        _ now: String) throws(AuditStoreError) {
        try connection.run("""
            INSERT INTO tag_results (job_id, tag, action, digest_before, digest_after, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, [.int(result.jobID), .text(result.tag), .text(result.action.rawValue), .text(result.digestBefore),
                  .text(result.digestAfter), .text(Timestamp.string(result.at))])
        try ledger.append(.tagResults, rowID: connection.lastInsertID, at: now)
    }

    /// Closes a job, with its last attempt (if not recorded yet) and what happened to each of its tags, in one
    /// transaction: a job that succeeds at its first attempt costs one write.
    public func finishJob(_ id: JobID, _ completion: JobCompletion, lastAttempt: AttemptRecord? = nil,
                          tagResults: [TagResult] = []) throws(AuditStoreError) {
        try write { connection, ledger, now throws(AuditStoreError) in
            try Self.finish(id, completion, lastAttempt, tagResults, connection, ledger, now)
        }
    }

    /// ``finishJob(_:_:lastAttempt:tagResults:)`` without waiting for the commit: concurrent workers' finishes
    /// share a commit (see ``flush()``). A crash can lose the record of a finished job; `resume` then finds
    /// its tags in the registry.
    public func finishJobDeferred(_ id: JobID, _ completion: JobCompletion, lastAttempt: AttemptRecord? = nil,
                                  tagResults: [TagResult] = []) {
        writeDeferred { connection, ledger, now throws(AuditStoreError) in
            try Self.finish(id, completion, lastAttempt, tagResults, connection, ledger, now)
        }
    }

    private static func finish(_ id: JobID, _ completion: JobCompletion, _ lastAttempt: AttemptRecord?,
                               _ tagResults: [TagResult], _ connection: Connection, _ ledger: Ledger,
                               _ now: String) throws(AuditStoreError) {
        let finished = Timestamp.string(completion.finishedAt)
        if let lastAttempt { try Self.insertAttempt(lastAttempt, connection, ledger, now) }
        for result in tagResults {
            try Self.insertTagResult(result, connection, ledger, now)
        }
        try connection.run("""
            UPDATE jobs SET status = ?, digest = ?, error_class = ?, error_message = ?, finished_at = ?,
                duration_ms = CASE WHEN started_at IS NULL THEN NULL
                    ELSE CAST(round((julianday(?) - julianday(started_at)) * 86400000) AS INTEGER) END
            WHERE id = ?
            """, [.text(completion.status.rawValue), .text(completion.digest), .text(completion.errorClass),
                  .text(completion.errorMessage), .text(finished), .text(finished), .int(id)])
        try ledger.append(.jobs, rowID: id, at: now)
    }

    /// Marks the run's pending and running jobs as cancelled; returns how many.
    public func cancelUnfinishedJobs(run: RunID, at: Date) throws(AuditStoreError) -> Int {
        try write { connection, ledger, now throws(AuditStoreError) in
            let ids = try connection.query("""
                UPDATE jobs SET status = 'cancelled', error_class = 'cancelled',
                    error_message = coalesce(error_message, 'not finished when the run stopped'), finished_at = ?
                WHERE run_id = ? AND status IN ('pending', 'running')
                RETURNING id
                """, [.text(Timestamp.string(at)), .int(run)]) { $0.int(0) }
            try ledger.append(.jobs, rowIDs: ids.sorted(), at: now)
            return ids.count
        }
    }
}

/// Tags are stored as a JSON array of strings.
enum JSONList {
    static func encode(_ values: [String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: values)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]) ?? []
    }
}
