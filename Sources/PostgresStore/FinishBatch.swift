import AuditStore
import Foundation
import PostgresNIO

/// Several jobs' finishes written by one statement (data-modifying CTEs, arrays bound as parameters): the claims
/// they are fenced on are closed first (locked in job order, as every multi-row claim statement locks them), and
/// only the jobs whose claim was held, or that have none, get their last attempt, its blob actions, their item
/// results, manifests and end. Every row written comes back (as JSON) to be chained. One round trip whatever the
/// batch, where a statement per table and job took dozens.
enum FinishBatch {
    /// Writes `finishes`; returns the jobs written (a fenced job whose lease is gone is left out).
    static func write(_ finishes: [JobFinish], _ connection: PostgresConnection, _ ledger: PostgresLedger)
        async throws -> Set<JobID> {
        guard !finishes.isEmpty else { return [] }
        let fences = finishes.compactMap(\.fence)
        let attempts = finishes.compactMap(\.lastAttempt)
        let blobs = attempts.flatMap { attempt in attempt.blobs.map { (attempt.jobID, $0) } }
        let items = finishes.flatMap { finish in finish.items.map { (finish.jobID, $0) } }
        let manifests = finishes.flatMap { finish in finish.manifests.map { (finish.jobID, $0) } }
        var statement = SQLStatement()
        func bind(_ values: [PGValue]) -> [String] { values.map { statement.bind($0) } }
        let f = bind([.ints(fences.map(\.jobID)), .ints(fences.map { Int64($0.claim) }), .texts(fences.map(\.runner)),
                      .ints(finishes.filter { $0.fence == nil }.map(\.jobID))])
        let a = bind(attemptValues(attempts)), b = bind(blobValues(blobs)), i = bind(itemValues(items))
        let m = bind(manifestValues(manifests)), e = bind(endValues(finishes))
        let returning = { (table: AuditedTable) in ledger.returning(table).dropFirst("RETURNING ".count) }
        statement.sql = """
            WITH held AS MATERIALIZED (
                SELECT c.job_id FROM job_claims c
                JOIN unnest(\(f[0])::bigint[], \(f[1])::bigint[], \(f[2])::text[]) AS f(job_id, attempt, runner)
                  ON c.job_id = f.job_id AND c.attempt = f.attempt AND c.claimed_by = f.runner
                WHERE c.status = 'running' ORDER BY c.job_id FOR UPDATE OF c
            ), closed AS (
                UPDATE job_claims c SET status = 'done', claimed_until = NULL FROM held WHERE c.job_id = held.job_id
                RETURNING c.job_id
            ), go AS (
                SELECT job_id FROM closed UNION ALL SELECT unnest(\(f[3])::bigint[])
            ), w_att AS (
                INSERT INTO attempts (job_id, number, started_at, duration_ms, outcome, http_status, error_code,
                                      error_class, message, requests, bytes_sent, wait_ms, wait_reason)
                SELECT u.job_id, u.number, u.started_at, u.duration_ms, u.outcome, nullif(u.http_status, \(none)),
                       nullif(u.error_code, chr(1)), nullif(u.error_class, chr(1)), nullif(u.message, chr(1)),
                       u.requests, u.bytes_sent, nullif(u.wait_ms, \(none)), nullif(u.wait_reason, chr(1))
                FROM unnest(\(a[0])::bigint[], \(a[1])::bigint[], \(a[2])::text[], \(a[3])::bigint[], \(a[4])::text[],
                            \(a[5])::bigint[], \(a[6])::text[], \(a[7])::text[], \(a[8])::text[], \(a[9])::bigint[],
                            \(a[10])::bigint[], \(a[11])::bigint[], \(a[12])::text[], \(a[13])::bigint[])
                     AS u(job_id, number, started_at, duration_ms, outcome, http_status, error_code, error_class, message,
                          requests, bytes_sent, wait_ms, wait_reason, ord)
                WHERE u.job_id IN (SELECT job_id FROM go) ORDER BY u.ord RETURNING \(returning(.attempts))
            ), w_blob AS (
                INSERT INTO blob_actions (attempt_id, job_id, digest, size, media_type, action, bytes_sent, duration_ms,
                                          recorded_at)
                SELECT w_att.id, u.job_id, u.digest, u.size, u.media_type, u.action, u.bytes_sent, u.duration_ms, u.recorded_at
                FROM unnest(\(b[0])::bigint[], \(b[1])::text[], \(b[2])::bigint[], \(b[3])::text[], \(b[4])::text[],
                            \(b[5])::bigint[], \(b[6])::bigint[], \(b[7])::text[], \(b[8])::bigint[])
                     AS u(job_id, digest, size, media_type, action, bytes_sent, duration_ms, recorded_at, ord)
                JOIN w_att ON w_att.job_id = u.job_id ORDER BY u.ord RETURNING \(returning(.blobActions))
            ), w_item AS (
                INSERT INTO item_results (job_id, item, action, digest_before, digest_after, size, detail, recorded_at)
                SELECT u.job_id, u.item, u.action, nullif(u.digest_before, chr(1)), nullif(u.digest_after, chr(1)),
                       nullif(u.size, \(none)), nullif(u.detail, chr(1)), u.recorded_at
                FROM unnest(\(i[0])::bigint[], \(i[1])::text[], \(i[2])::text[], \(i[3])::text[], \(i[4])::text[],
                            \(i[5])::bigint[], \(i[6])::text[], \(i[7])::text[], \(i[8])::bigint[])
                     AS u(job_id, item, action, digest_before, digest_after, size, detail, recorded_at, ord)
                WHERE u.job_id IN (SELECT job_id FROM go) ORDER BY u.ord RETURNING \(returning(.itemResults))
            ), w_man AS (
                INSERT INTO job_manifests (job_id, digest, media_type, platform, tags, size, recorded_at)
                SELECT u.job_id, u.digest, u.media_type, nullif(u.platform, chr(1)), u.tags, u.size, u.recorded_at
                FROM unnest(\(m[0])::bigint[], \(m[1])::text[], \(m[2])::text[], \(m[3])::text[], \(m[4])::text[],
                            \(m[5])::bigint[], \(m[6])::text[], \(m[7])::bigint[])
                     AS u(job_id, digest, media_type, platform, tags, size, recorded_at, ord)
                WHERE u.job_id IN (SELECT job_id FROM go) ORDER BY u.ord RETURNING \(returning(.jobManifests))
            ), w_end AS (
                UPDATE jobs SET status = u.status, digest = nullif(u.digest, chr(1)),
                    error_class = nullif(u.error_class, chr(1)), error_message = nullif(u.error_message, chr(1)),
                    finished_at = u.finished_at, attempts = greatest(jobs.attempts, u.attempts),
                    started_at = coalesce(jobs.started_at, nullif(u.started, chr(1))),
                    duration_ms = CASE WHEN coalesce(jobs.started_at, nullif(u.started, chr(1))) IS NULL THEN NULL
                        ELSE round(extract(epoch FROM (u.finished_at::timestamptz
                            - coalesce(jobs.started_at, nullif(u.started, chr(1)))::timestamptz)) * 1000)::bigint END
                FROM unnest(\(e[0])::bigint[], \(e[1])::text[], \(e[2])::text[], \(e[3])::text[], \(e[4])::text[],
                            \(e[5])::text[], \(e[6])::bigint[], \(e[7])::text[])
                     AS u(job_id, status, digest, error_class, error_message, finished_at, attempts, started)
                WHERE jobs.id = u.job_id AND u.job_id IN (SELECT job_id FROM go) \(ledger.returning(.jobs, of: "jobs"))
            )
            SELECT 0, job_id, NULL FROM go
            UNION ALL SELECT 1, id, row_to_json(w_att)::text FROM w_att
            UNION ALL SELECT 2, id, row_to_json(w_blob)::text FROM w_blob
            UNION ALL SELECT 3, id, row_to_json(w_item)::text FROM w_item
            UNION ALL SELECT 4, id, row_to_json(w_man)::text FROM w_man
            UNION ALL SELECT 5, id, row_to_json(w_end)::text FROM w_end
            """
        let tables: [AuditedTable] = [.attempts, .blobActions, .itemResults, .jobManifests, .jobs]
        var written: Set<JobID> = []
        var rows: [Int: [AuditedRow]] = [:]
        for row in try await connection.rows(statement, logger: ledger.logger) {
            let kind = Int(row.int(0))
            guard kind > 0 else { written.insert(row.int(1)); continue }
            rows[kind, default: []].append(try decode(row.text(2), as: tables[kind - 1], ledger))
        }
        let runs = Dictionary(finishes.map { ($0.jobID, $0.runID) }, uniquingKeysWith: { first, _ in first })
        for (index, table) in tables.enumerated() {
            ledger.queue((rows[index + 1] ?? []).sorted { $0.id < $1.id }, runs: table == .jobs ? nil : runs)
        }
        return written
    }

    /// A row returned as `row_to_json`: the current encoding's columns, integers and texts (the finish tables hold no
    /// other types) as PostgreSQL wrote them.
    static func decode(_ json: String, as table: AuditedTable, _ ledger: PostgresLedger) throws -> AuditedRow {
        guard let object = FlatJSON.object(json) else {
            throw AuditStoreError(.engine(code: "json"), path: "", message: "a written \(table.rawValue) row came back unreadable")
        }
        var values: [String: LedgerValue] = [:]
        for name in ledger.encodings.current.columns(of: table) { values[name] = object[name] ?? .null }
        return AuditedRow(table: table, values: values)
    }

    // The parameters of each statement, one array per column, in the order of the statement's unnest.

    static func attemptValues(_ attempts: [AttemptRecord]) -> [PGValue] {
        var values: [PGValue] = [.ints(attempts.map(\.jobID)), .ints(attempts.map { Int64($0.number) })]
        values.append(.texts(attempts.map { Timestamp.string($0.startedAt) }))
        values.append(.ints(attempts.map { Int64($0.durationMs) }))
        values.append(.texts(attempts.map(\.outcome.rawValue)))
        values.append(nullableInts(attempts.map(\.httpStatus)))
        values.append(nullableTexts(attempts.map(\.errorCode)))
        values.append(nullableTexts(attempts.map(\.errorClass)))
        values.append(nullableTexts(attempts.map(\.message)))
        values.append(.ints(attempts.map { Int64($0.requests) }))
        values.append(.ints(attempts.map { Int64($0.bytesSent) }))
        values.append(nullableInts(attempts.map(\.waitMs)))
        values.append(nullableTexts(attempts.map(\.waitReason)))
        values.append(.ints(attempts.indices.map(Int64.init)))
        return values
    }

    static func blobValues(_ blobs: [(JobID, BlobActionRecord)]) -> [PGValue] {
        var values: [PGValue] = [.ints(blobs.map(\.0))]
        values.append(.texts(blobs.map(\.1.digest)))
        values.append(.ints(blobs.map { $0.1.size }))
        values.append(.texts(blobs.map(\.1.mediaType)))
        values.append(.texts(blobs.map(\.1.action)))
        values.append(.ints(blobs.map { $0.1.bytesSent }))
        values.append(.ints(blobs.map { Int64($0.1.durationMs) }))
        values.append(.texts(blobs.map { Timestamp.string($0.1.at) }))
        values.append(.ints(blobs.indices.map(Int64.init)))
        return values
    }

    static func itemValues(_ items: [(JobID, ItemResult)]) -> [PGValue] {
        var values: [PGValue] = [.ints(items.map(\.0)), .texts(items.map(\.1.item)), .texts(items.map(\.1.action))]
        values.append(nullableTexts(items.map(\.1.digestBefore)))
        values.append(nullableTexts(items.map(\.1.digestAfter)))
        values.append(nullableInts(items.map { $0.1.size.map(Int.init) }))
        values.append(nullableTexts(items.map(\.1.detail)))
        values.append(.texts(items.map { Timestamp.string($0.1.at) }))
        values.append(.ints(items.indices.map(Int64.init)))
        return values
    }

    static func manifestValues(_ manifests: [(JobID, ManifestRecord)]) -> [PGValue] {
        var values: [PGValue] = [.ints(manifests.map(\.0)), .texts(manifests.map(\.1.digest))]
        values.append(.texts(manifests.map(\.1.mediaType)))
        values.append(nullableTexts(manifests.map(\.1.platform)))
        values.append(.texts(manifests.map { JSONList.encode($0.1.tags) }))
        values.append(.ints(manifests.map { Int64($0.1.size) }))
        values.append(.texts(manifests.map { Timestamp.string($0.1.at) }))
        values.append(.ints(manifests.indices.map(Int64.init)))
        return values
    }

    static func endValues(_ finishes: [JobFinish]) -> [PGValue] {
        var values: [PGValue] = [.ints(finishes.map(\.jobID)), .texts(finishes.map(\.completion.status.rawValue))]
        values.append(nullableTexts(finishes.map(\.completion.digest)))
        values.append(nullableTexts(finishes.map(\.completion.errorClass)))
        values.append(nullableTexts(finishes.map(\.completion.errorMessage)))
        values.append(.texts(finishes.map { Timestamp.string($0.completion.finishedAt) }))
        values.append(.ints(finishes.map { Int64($0.lastAttempt?.number ?? 0) }))
        values.append(nullableTexts(finishes.map { $0.lastAttempt.map { Timestamp.string($0.startedAt) } }))
        return values
    }

    /// Texts with NULLs, bound as a text array: NULL travels as chr(1), which no recorded text contains.
    static func nullableTexts(_ values: [String?]) -> PGValue { .texts(values.map { $0 ?? "\u{1}" }) }

    /// Integers with NULLs, bound as a bigint array: NULL travels as ``none`` (text columns use chr(1) the same way).
    static func nullableInts(_ values: [Int?]) -> PGValue { .ints(values.map { $0.map(Int64.init) ?? Int64.min }) }
    static let none = "-9223372036854775808"
}
