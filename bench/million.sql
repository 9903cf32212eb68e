-- make bench: a large audit log for the report latencies, generated in bulk (sqlite3 CLI) into a database
-- that `stevedore` has created and migrated (by a provision that could not reach its registry: its run is removed). 500 runs of the same 1 000 services (2 tags each), every job with
-- a failed then a succeeded attempt (2% of the jobs fail for good): 500 000 jobs, 1 000 000 attempts,
-- 1 000 000 item results. Rows are written directly, not through Stevedore, so this database has no ledger
-- entries: `audit verify` is measured on a log Stevedore wrote (BenchAudit), not here.
PRAGMA synchronous = OFF;
BEGIN;
DELETE FROM ledger;
DELETE FROM item_results;
DELETE FROM attempts;
DELETE FROM jobs;
DELETE FROM runs;
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 500)
INSERT INTO runs (id, command, command_line, tool_version, host, user, input_file, input_sha256, registry, namespace,
                  options, status, started_at, finished_at, pid)
SELECT i, 'provision', 'stevedore provision services.yaml', 'bench', 'bench-host', 'ci', 'services.yaml',
       'sha256:5d41402abc4b2a76b9719d911017c592', 'registry.local:5000', 'bench', '{}',
       CASE WHEN i % 50 = 0 THEN 'succeeded' ELSE 'failed' END,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (i * 3) || ' hours'),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (i * 3) || ' hours', '+9 minutes'), NULL
FROM r;

WITH RECURSIVE s(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM s WHERE j < 1000)
INSERT INTO jobs (run_id, seq, service, registry, repository, items, status, attempts, error_class, error_message, digest,
                  started_at, finished_at, duration_ms)
SELECT r.id, s.j, printf('svc-%04d', s.j), 'registry.local:5000', printf('bench/svc-%04d', s.j), '["latest","0.1.0"]',
       CASE WHEN (r.id * 7 + s.j) % 50 = 0 THEN 'failed' ELSE 'succeeded' END, 2,
       CASE WHEN (r.id * 7 + s.j) % 50 = 0 THEN 'server' END,
       CASE WHEN (r.id * 7 + s.j) % 50 = 0 THEN 'PUT manifest: registry answered 503 UNAVAILABLE' END,
       CASE WHEN (r.id * 7 + s.j) % 50 = 0 THEN NULL
            ELSE 'sha256:ad1beab491c0153acd1e77807acfe4b25c32c74254a7fc02e3f71b49368230cb' END,
       r.started_at, r.finished_at, 480
FROM runs r, s ORDER BY r.id, s.j;

INSERT INTO attempts (job_id, number, started_at, duration_ms, outcome, http_status, error_code, error_class, message,
                      requests, bytes_sent, wait_ms, wait_reason)
SELECT j.id, n.n, j.started_at, 120 + (j.id % 97),
       CASE WHEN n.n = 1 OR j.status = 'failed' THEN 'failed' ELSE 'succeeded' END,
       CASE WHEN n.n = 1 OR j.status = 'failed' THEN 503 END,
       CASE WHEN n.n = 1 OR j.status = 'failed' THEN 'UNAVAILABLE' END,
       CASE WHEN n.n = 1 OR j.status = 'failed' THEN 'server' END,
       CASE WHEN n.n = 1 OR j.status = 'failed' THEN 'registry answered 503' END,
       3, 1200, CASE WHEN n.n = 1 THEN 200 END, CASE WHEN n.n = 1 THEN 'backoff' END
FROM jobs j, (SELECT 1 AS n UNION ALL SELECT 2) n ORDER BY j.id, n.n;

INSERT INTO item_results (job_id, item, action, digest_before, digest_after, recorded_at)
SELECT j.id, t.tag, CASE WHEN j.run_id = 1 THEN 'pushed' ELSE 'skipped' END, NULL, j.digest, j.finished_at
FROM jobs j, (SELECT 'latest' AS tag UNION ALL SELECT '0.1.0') t WHERE j.status = 'succeeded' ORDER BY j.id, t.tag;
COMMIT;
ANALYZE;
