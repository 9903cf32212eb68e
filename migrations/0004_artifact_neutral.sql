-- Jobs of any kind (oci-image, maven-artifact, ...), item results instead of tag results, commands without a
-- closed list, and a versioned ledger encoding. Row ids are kept, so every ledger entry still names its row.
-- SQLite cannot alter a CHECK constraint: `runs` and `tag_results` are rebuilt (the migrator runs this with
-- foreign keys off and checks them afterwards); the views and the trigger that read them are recreated.

DROP VIEW v_job_latest;
DROP VIEW v_failures;
DROP VIEW v_state;
DROP VIEW v_attempts;
DROP TRIGGER tag_results_update_state;

-- One invocation of a command. `command` is any command name.
CREATE TABLE runs_0004 (
    id            INTEGER PRIMARY KEY,
    command       TEXT    NOT NULL,
    command_line  TEXT    NOT NULL,            -- redacted: no secret ever lands here
    tool_version  TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    user          TEXT    NOT NULL,
    input_file    TEXT,
    input_sha256  TEXT,
    registry      TEXT,
    namespace     TEXT,
    options       TEXT,                        -- JSON: concurrency, max_attempts, force, ...
    status        TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'died')),
    started_at    TEXT    NOT NULL,
    finished_at   TEXT,
    parent_run_id INTEGER REFERENCES runs (id), -- the run a `retry` re-runs
    pid           INTEGER,
    audit_write_ms INTEGER,
    audit_cpu_ms  INTEGER
) STRICT;
INSERT INTO runs_0004 (id, command, command_line, tool_version, host, user, input_file, input_sha256, registry, namespace,
                       options, status, started_at, finished_at, parent_run_id, pid, audit_write_ms, audit_cpu_ms)
SELECT id, command, command_line, tool_version, host, user, input_file, input_sha256, registry, namespace,
       options, status, started_at, finished_at, parent_run_id, pid, audit_write_ms, audit_cpu_ms
FROM runs;
DROP TABLE runs;
ALTER TABLE runs_0004 RENAME TO runs;
CREATE INDEX runs_started_at ON runs (started_at);
CREATE INDEX runs_status ON runs (status);

-- A job has a kind, a target and items (the tags of an image, the files of a Maven artifact).
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'oci-image';
ALTER TABLE jobs ADD COLUMN target TEXT;     -- the whole address written to; NULL for jobs recorded before 0004
ALTER TABLE jobs RENAME COLUMN tags TO items; -- JSON array of item names

-- What happened to each item of a job, in the domain's words (no closed list of actions).
CREATE TABLE item_results (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER NOT NULL REFERENCES jobs (id),
    item          TEXT    NOT NULL,            -- a tag, or a file name
    action        TEXT    NOT NULL,            -- pushed, skipped, kept, overwritten, verified, missing, different, uploaded, ...
    digest_before TEXT,
    digest_after  TEXT,
    size          INTEGER,                     -- bytes, where the item has a size (files)
    detail        TEXT,                        -- JSON object of kind-specific facts
    recorded_at   TEXT    NOT NULL
) STRICT;
INSERT INTO item_results (id, job_id, item, action, digest_before, digest_after, recorded_at)
SELECT id, job_id, tag, action, digest_before, digest_after, recorded_at FROM tag_results;
DROP TABLE tag_results;
CREATE INDEX item_results_job ON item_results (job_id);
CREATE INDEX item_results_digest_after ON item_results (digest_after);

-- What the log says each registry/repository:item holds now (was tag_state).
ALTER TABLE tag_state RENAME TO item_state;
ALTER TABLE item_state RENAME COLUMN tag TO item;
ALTER TABLE item_state RENAME COLUMN tag_result_id TO item_result_id;
ALTER TABLE item_state ADD COLUMN kind TEXT NOT NULL DEFAULT 'oci-image';
DROP INDEX tag_state_service;
DROP INDEX tag_state_repository;
CREATE INDEX item_state_service ON item_state (service);
CREATE INDEX item_state_repository ON item_state (repository);

CREATE TRIGGER item_results_update_state AFTER INSERT ON item_results
WHEN NEW.action <> 'planned'
BEGIN
    INSERT INTO item_state (registry, repository, item, service, digest, action, recorded_at, run_id, job_id,
                            item_result_id, kind)
    SELECT j.registry, j.repository, NEW.item, j.service, NEW.digest_after, NEW.action, NEW.recorded_at, j.run_id, j.id,
           NEW.id, j.kind
    FROM jobs j WHERE j.id = NEW.job_id
    ON CONFLICT (registry, repository, item) DO UPDATE SET
        service = excluded.service, digest = excluded.digest, action = excluded.action,
        recorded_at = excluded.recorded_at, run_id = excluded.run_id, job_id = excluded.job_id,
        item_result_id = excluded.item_result_id, kind = excluded.kind
    WHERE excluded.item_result_id > item_state.item_result_id;
END;

-- Each ledger entry names the canonical encoding its row hash was computed with (1: SQLite json_array over the
-- 0003 columns; 2: the binary form of docs/SCHEMA.md). Entries before this migration are version 1.
ALTER TABLE ledger ADD COLUMN encoding INTEGER NOT NULL DEFAULT 1;

-- Stable views (columns are added over time, never renamed). `tags` keeps its name: the job's items. The latest
-- job is per repository for images, per artifact (service) for other kinds.
CREATE VIEW v_job_latest AS
SELECT j.id AS job_id, j.run_id, r.started_at AS run_started_at, j.service, j.registry, j.repository, j.items AS tags,
       j.status, j.attempts, j.error_class, j.error_message, j.digest, j.started_at, j.finished_at, j.duration_ms,
       j.kind, coalesce(j.target, j.registry || '/' || j.repository) AS target
FROM jobs j JOIN runs r ON r.id = j.run_id
WHERE j.id = (SELECT max(j2.id) FROM jobs j2 WHERE j2.registry = j.registry AND j2.repository = j.repository
              AND (j.kind = 'oci-image' OR j2.service = j.service));

CREATE VIEW v_failures AS
SELECT j.id AS job_id, j.run_id, r.started_at AS run_started_at, j.service, j.registry, j.repository, j.items AS tags,
       j.attempts, j.error_class, j.error_message, a.http_status, a.error_code, j.finished_at,
       j.kind, coalesce(j.target, j.registry || '/' || j.repository) AS target
FROM jobs j JOIN runs r ON r.id = j.run_id
LEFT JOIN attempts a ON a.id = (SELECT max(a2.id) FROM attempts a2 WHERE a2.job_id = j.id AND a2.outcome <> 'succeeded')
WHERE j.status = 'failed';

CREATE VIEW v_state AS
SELECT s.registry, s.repository, s.item AS tag, s.service, s.digest, s.action, s.recorded_at, s.run_id, s.job_id,
       r.command AS run_command, s.kind, s.item
FROM item_state s LEFT JOIN runs r ON r.id = s.run_id;

CREATE VIEW v_attempts AS
SELECT a.id AS attempt_id, j.run_id, a.job_id, j.service, j.registry, j.repository, a.number, a.started_at,
       a.duration_ms, a.outcome, a.http_status, a.error_code, a.error_class, a.message, a.requests, a.bytes_sent,
       a.wait_ms, a.wait_reason, j.kind
FROM attempts a JOIN jobs j ON j.id = a.job_id;

-- For queries written against the tables before 0004: the image jobs' item results under their old names.
CREATE VIEW tag_results AS
SELECT r.id, r.job_id, r.item AS tag, r.action, r.digest_before, r.digest_after, r.recorded_at
FROM item_results r JOIN jobs j ON j.id = r.job_id WHERE j.kind = 'oci-image';

CREATE VIEW tag_state AS
SELECT registry, repository, item AS tag, service, digest, action, recorded_at, run_id, job_id,
       item_result_id AS tag_result_id
FROM item_state WHERE kind = 'oci-image';
