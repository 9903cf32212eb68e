-- Report support (indexes, the tag_state projection, stable views) and the tamper-evidence ledger.

-- Time the process spent inside audit writes during the run (milliseconds; wall clock, and CPU of the writing
-- thread); NULL before this migration.
ALTER TABLE runs ADD COLUMN audit_write_ms INTEGER;
ALTER TABLE runs ADD COLUMN audit_cpu_ms INTEGER;

-- Indexes for the report filters: every report reads through one of these, never a full scan.
CREATE INDEX jobs_target ON jobs (registry, repository, id);
CREATE INDEX jobs_service_id ON jobs (service, id);
CREATE INDEX jobs_failed ON jobs (run_id, error_class) WHERE status = 'failed';
DROP INDEX jobs_service;
-- Covered by the UNIQUE (job_id, number) index; one index fewer to write per attempt.
DROP INDEX attempts_job;

-- What the log says each registry/repository:tag holds now: the latest tag result that observed it.
-- Kept up to date by the trigger below; rebuilt here from the existing tag results.
CREATE TABLE tag_state (
    registry      TEXT    NOT NULL,
    repository    TEXT    NOT NULL,
    tag           TEXT    NOT NULL,
    service       TEXT    NOT NULL,
    digest        TEXT,                        -- NULL: the last look found the tag missing
    action        TEXT    NOT NULL,            -- the tag_results.action that wrote it
    recorded_at   TEXT    NOT NULL,
    run_id        INTEGER NOT NULL,
    job_id        INTEGER NOT NULL,
    tag_result_id INTEGER NOT NULL,
    PRIMARY KEY (registry, repository, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX tag_state_service ON tag_state (service);
CREATE INDEX tag_state_repository ON tag_state (repository);

CREATE TRIGGER tag_results_update_state AFTER INSERT ON tag_results
WHEN NEW.action <> 'planned'
BEGIN
    INSERT INTO tag_state (registry, repository, tag, service, digest, action, recorded_at, run_id, job_id, tag_result_id)
    SELECT j.registry, j.repository, NEW.tag, j.service, NEW.digest_after, NEW.action, NEW.recorded_at, j.run_id, j.id,
           NEW.id
    FROM jobs j WHERE j.id = NEW.job_id
    ON CONFLICT (registry, repository, tag) DO UPDATE SET
        service = excluded.service, digest = excluded.digest, action = excluded.action,
        recorded_at = excluded.recorded_at, run_id = excluded.run_id, job_id = excluded.job_id,
        tag_result_id = excluded.tag_result_id
    WHERE excluded.tag_result_id > tag_state.tag_result_id;
END;

INSERT INTO tag_state (registry, repository, tag, service, digest, action, recorded_at, run_id, job_id, tag_result_id)
SELECT j.registry, j.repository, t.tag, j.service, t.digest_after, t.action, t.recorded_at, j.run_id, j.id, t.id
FROM tag_results t JOIN jobs j ON j.id = t.job_id
WHERE t.id = (SELECT max(t2.id) FROM tag_results t2 JOIN jobs j2 ON j2.id = t2.job_id
              WHERE j2.registry = j.registry AND j2.repository = j.repository AND t2.tag = t.tag
                AND t2.action <> 'planned');

-- The tamper-evidence ledger: one entry per audit row written or changed, chained by sha256.
--   entry  = sha256(id ‖ run_id ‖ tbl ‖ row_id ‖ row_sha256)            (fixed-width integers, big-endian)
--   hash   = sha256(previous entry's hash ‖ entry)                        (global chain, 32 zero bytes first)
--   run_hash = sha256(previous run_hash of the same run ‖ entry)          (per-run chain)
-- row_sha256 is the sha256 of the row's canonical JSON (see docs/SCHEMA.md, "Tamper evidence").
CREATE TABLE ledger (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL,               -- no foreign key: entries of pruned runs stay
    tbl        TEXT    NOT NULL,
    row_id     INTEGER NOT NULL,
    row_sha256 BLOB    NOT NULL,
    hash       BLOB    NOT NULL,
    run_hash   BLOB    NOT NULL,
    written_at TEXT    NOT NULL
) STRICT;

CREATE INDEX ledger_run ON ledger (run_id, id);

-- Where the chain starts after `stevedore prune` removed its beginning: the hash of the last removed entry.
CREATE TABLE ledger_anchor (
    first_id   INTEGER NOT NULL,               -- the first entry kept
    prev_hash  BLOB    NOT NULL,               -- the hash of the entry before it
    created_at TEXT    NOT NULL
) STRICT;

-- Runs removed by `stevedore prune`: their ledger entries stay (chain only), their rows are gone.
CREATE TABLE pruned_runs (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL UNIQUE,
    started_at  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    jobs        INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    run_head    BLOB,                          -- the run's last run_hash when it was pruned
    pruned_at   TEXT    NOT NULL
) STRICT;

-- Stable views for your own sqlite3 queries (columns are added over time, never renamed).

-- The latest job for every registry/repository.
CREATE VIEW v_job_latest AS
SELECT j.id AS job_id, j.run_id, r.started_at AS run_started_at, j.service, j.registry, j.repository, j.tags,
       j.status, j.attempts, j.error_class, j.error_message, j.digest, j.started_at, j.finished_at, j.duration_ms
FROM jobs j JOIN runs r ON r.id = j.run_id
WHERE j.id = (SELECT max(j2.id) FROM jobs j2 WHERE j2.registry = j.registry AND j2.repository = j.repository);

-- Failed jobs with the last failed attempt's HTTP status and registry error code.
CREATE VIEW v_failures AS
SELECT j.id AS job_id, j.run_id, r.started_at AS run_started_at, j.service, j.registry, j.repository, j.tags,
       j.attempts, j.error_class, j.error_message, a.http_status, a.error_code, j.finished_at
FROM jobs j JOIN runs r ON r.id = j.run_id
LEFT JOIN attempts a ON a.id = (SELECT max(a2.id) FROM attempts a2 WHERE a2.job_id = j.id AND a2.outcome <> 'succeeded')
WHERE j.status = 'failed';

-- Every registry/repository:tag ever pushed or looked at, and what the log says it holds now.
CREATE VIEW v_state AS
SELECT s.registry, s.repository, s.tag, s.service, s.digest, s.action, s.recorded_at, s.run_id, s.job_id,
       r.command AS run_command
FROM tag_state s LEFT JOIN runs r ON r.id = s.run_id;

-- Every attempt with its job and run.
CREATE VIEW v_attempts AS
SELECT a.id AS attempt_id, j.run_id, a.job_id, j.service, j.registry, j.repository, a.number, a.started_at,
       a.duration_ms, a.outcome, a.http_status, a.error_code, a.error_class, a.message, a.requests, a.bytes_sent,
       a.wait_ms, a.wait_reason
FROM attempts a JOIN jobs j ON j.id = a.job_id;
