import AuditStore
import Foundation
import PostgresNIO

/// Several jobs' finishes in one transaction with one statement per table (arrays bound as parameters, as
/// `insertJobs` does): the claims they are fenced on, their last attempts, the attempts' blob actions, the item
/// results, the manifests and the jobs' ends. A batch of thirty jobs is seven statements, not two hundred.
enum FinishBatch {
    /// Closes the claims of `fences` still held (locked in job order, as every multi-row claim statement locks them);
    /// returns the jobs whose claim was held.
    static func closeClaims(_ fences: [ClaimFence], _ connection: PostgresConnection, _ ledger: PostgresLedger)
        async throws -> Set<JobID> {
        guard !fences.isEmpty else { return [] }
        return Set(try await connection.rows("""
            WITH held AS MATERIALIZED (
                SELECT c.job_id FROM job_claims c
                JOIN unnest($1::bigint[], $2::bigint[], $3::text[]) AS f(job_id, attempt, runner)
                  ON c.job_id = f.job_id AND c.attempt = f.attempt AND c.claimed_by = f.runner
                WHERE c.status = 'running' ORDER BY c.job_id FOR UPDATE OF c
            )
            UPDATE job_claims c SET status = 'done', claimed_until = NULL FROM held WHERE c.job_id = held.job_id
            RETURNING c.job_id
            """, [.ints(fences.map(\.jobID)), .ints(fences.map { Int64($0.claim) }), .texts(fences.map(\.runner))],
            logger: ledger.logger).map { $0.int(0) })
    }

    /// Writes `finishes` (already fenced), each table's rows in one statement, every row chained.
    static func write(_ finishes: [JobFinish], _ ledger: PostgresLedger) async throws {
        guard !finishes.isEmpty else { return }
        let runs = Dictionary(finishes.map { ($0.jobID, $0.runID) }, uniquingKeysWith: { first, _ in first })
        let attempts = finishes.compactMap(\.lastAttempt)
        var attemptIDs: [JobID: Int64] = [:]
        if !attempts.isEmpty {
            for row in try await ledger.write(.attempts, runs: runs, SQLStatement("""
                INSERT INTO attempts (job_id, number, started_at, duration_ms, outcome, http_status, error_code,
                                      error_class, message, requests, bytes_sent, wait_ms, wait_reason)
                SELECT u.job_id, u.number, u.started_at, u.duration_ms, u.outcome, nullif(u.http_status, \(none)),
                       nullif(u.error_code, chr(1)), nullif(u.error_class, chr(1)), nullif(u.message, chr(1)),
                       u.requests, u.bytes_sent, nullif(u.wait_ms, \(none)), nullif(u.wait_reason, chr(1))
                FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[],
                            $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::bigint[])
                     AS u(job_id, number, started_at, duration_ms, outcome, http_status, error_code, error_class, message,
                          requests, bytes_sent, wait_ms, wait_reason, ord)
                ORDER BY u.ord \(ledger.returning(.attempts))
                """, attemptValues(attempts))) {
                if case .integer(let job) = row["job_id"] { attemptIDs[job] = row.id }
            }
        }
        let blobs = attempts.flatMap { attempt in attempt.blobs.map { (attempt.jobID, $0) } }
            .filter { attemptIDs[$0.0] != nil }
        if !blobs.isEmpty {
            try await ledger.write(.blobActions, runs: runs, SQLStatement("""
                INSERT INTO blob_actions (attempt_id, job_id, digest, size, media_type, action, bytes_sent, duration_ms,
                                          recorded_at)
                SELECT u.attempt_id, u.job_id, u.digest, u.size, u.media_type, u.action, u.bytes_sent, u.duration_ms,
                       u.recorded_at
                FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[],
                            $8::bigint[], $9::text[], $10::bigint[])
                     AS u(attempt_id, job_id, digest, size, media_type, action, bytes_sent, duration_ms, recorded_at, ord)
                ORDER BY u.ord \(ledger.returning(.blobActions))
                """, blobValues(blobs, attemptIDs)))
        }
        let items = finishes.flatMap { finish in finish.items.map { (finish.jobID, $0) } }
        if !items.isEmpty {
            try await ledger.write(.itemResults, runs: runs, SQLStatement("""
                INSERT INTO item_results (job_id, item, action, digest_before, digest_after, size, detail, recorded_at)
                SELECT u.job_id, u.item, u.action, nullif(u.digest_before, chr(1)), nullif(u.digest_after, chr(1)),
                       nullif(u.size, \(none)), nullif(u.detail, chr(1)), u.recorded_at
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                            $8::text[], $9::bigint[])
                     AS u(job_id, item, action, digest_before, digest_after, size, detail, recorded_at, ord)
                ORDER BY u.ord \(ledger.returning(.itemResults))
                """, itemValues(items)))
        }
        let manifests = finishes.flatMap { finish in finish.manifests.map { (finish.jobID, $0) } }
        if !manifests.isEmpty {
            try await ledger.write(.jobManifests, runs: runs, SQLStatement("""
                INSERT INTO job_manifests (job_id, digest, media_type, platform, tags, size, recorded_at)
                SELECT u.job_id, u.digest, u.media_type, nullif(u.platform, chr(1)), u.tags, u.size, u.recorded_at
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                            $8::bigint[]) AS u(job_id, digest, media_type, platform, tags, size, recorded_at, ord)
                ORDER BY u.ord \(ledger.returning(.jobManifests))
                """, manifestValues(manifests)))
        }
        try await ledger.write(.jobs, SQLStatement("""
            UPDATE jobs SET status = u.status, digest = nullif(u.digest, chr(1)), error_class = nullif(u.error_class, chr(1)),
                error_message = nullif(u.error_message, chr(1)), finished_at = u.finished_at,
                attempts = greatest(jobs.attempts, u.attempts), started_at = coalesce(jobs.started_at, nullif(u.started, chr(1))),
                duration_ms = CASE WHEN coalesce(jobs.started_at, nullif(u.started, chr(1))) IS NULL THEN NULL
                    ELSE round(extract(epoch FROM (u.finished_at::timestamptz
                        - coalesce(jobs.started_at, nullif(u.started, chr(1)))::timestamptz)) * 1000)::bigint END
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
                 AS u(job_id, status, digest, error_class, error_message, finished_at, attempts, started)
            WHERE jobs.id = u.job_id \(ledger.returning(.jobs, of: "jobs"))
            """, endValues(finishes)))
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

    static func blobValues(_ blobs: [(JobID, BlobActionRecord)], _ attemptIDs: [JobID: Int64]) -> [PGValue] {
        var values: [PGValue] = [.ints(blobs.map { attemptIDs[$0.0] ?? 0 }), .ints(blobs.map(\.0))]
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
