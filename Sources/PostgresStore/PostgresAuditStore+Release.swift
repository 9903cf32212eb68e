import AuditStore
import Foundation

extension PostgresAuditStore {
    /// Per repository, the newest result that put `version`, with the tags that moved to the same digest; repositories
    /// whose jobs for the version never got there are listed with their newest job's status (as the SQLite store).
    public func release(_ version: String, _ filter: ReportFilter) async throws(AuditStoreError) -> [ReleaseRow] {
        var conditions = SQLStatement("", [.text(version)])
        Self.jobConditions(filter, &conditions, withStatus: false)
        let sql = """
            WITH wanted AS (
                SELECT j.id, j.registry, j.repository FROM jobs j
                WHERE j.kind = 'oci-image'
                  AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(j.items::jsonb) AS e(value) WHERE e.value = $1)\(conditions.sql)
            ), results AS (
                SELECT r.id, r.digest_after, j.registry, j.repository, j.id AS job_id
                FROM item_results r JOIN jobs j ON j.id = r.job_id
                WHERE r.item = $1 AND r.action IN ('pushed', 'skipped', 'overwritten') AND j.id IN (SELECT id FROM wanted)
            ), firsts AS (
                SELECT registry, repository, digest_after, min(job_id) AS first_job FROM results GROUP BY 1, 2, 3
            ), landed AS (
                SELECT j.registry, j.repository, j.service, j.source, j.run_id, j.id AS job_id, r.digest_after AS digest,
                       f.first_job
                FROM (SELECT max(id) AS id FROM results GROUP BY registry, repository) n
                JOIN item_results r ON r.id = n.id JOIN jobs j ON j.id = r.job_id
                JOIN firsts f ON f.registry = j.registry AND f.repository = j.repository
                             AND f.digest_after = r.digest_after
            )
            SELECT l.service, l.registry, l.repository, 'released', l.digest, l.source,
                   (SELECT coalesce(json_agg(m.item ORDER BY m.item), '[]')::text FROM (
                        SELECT DISTINCT r2.item FROM item_results r2 JOIN jobs j2 ON j2.id = r2.job_id
                        WHERE j2.registry = l.registry AND j2.repository = l.repository AND j2.id >= l.first_job
                          AND r2.item <> $1 AND r2.digest_after = l.digest
                          AND r2.action IN ('pushed', 'moved', 'overwritten')) AS m),
                   NULL, l.run_id, l.job_id
            FROM landed l
            UNION ALL
            SELECT j.service, j.registry, j.repository, j.status, NULL, j.source, '[]', j.error_class, j.run_id, j.id
            FROM jobs j
            WHERE j.id = (SELECT max(w.id) FROM wanted w WHERE w.registry = j.registry AND w.repository = j.repository)
              AND NOT EXISTS (SELECT 1 FROM landed l WHERE l.registry = j.registry AND l.repository = j.repository)
            ORDER BY 2, 3
            """
        return try await rows(sql, conditions.values).map { row in
            let moved = (try? JSONSerialization.jsonObject(with: Data(row.text(6).utf8))) as? [String] ?? []
            return ReleaseRow(service: row.text(0), registry: row.text(1), repository: row.text(2), version: version,
                              status: row.text(3), digest: row.optionalText(4), source: row.optionalText(5),
                              moved: moved, errorClass: row.optionalText(7), runID: row.int(8), jobID: row.int(9))
        }
    }
}
