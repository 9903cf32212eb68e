-- Stevedore audit log, initial schema.
-- Timestamps are TEXT, ISO-8601 UTC with milliseconds: 2026-11-25T03:31:19.123Z (they sort as text).

-- One invocation of a command that talks to a registry.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    command       TEXT    NOT NULL CHECK (command IN ('provision', 'verify', 'retry', 'resume')),
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
    pid           INTEGER
) STRICT;

CREATE INDEX runs_started_at ON runs (started_at);
CREATE INDEX runs_status ON runs (status);

-- One repository (service) with all its tags, within a run. Written before its first request.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    seq           INTEGER NOT NULL,            -- order in the input
    service       TEXT    NOT NULL,
    registry      TEXT    NOT NULL,
    repository    TEXT    NOT NULL,
    tags          TEXT    NOT NULL,            -- JSON array of tags
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'skipped', 'failed', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    error_class   TEXT,
    error_message TEXT,
    digest        TEXT,                        -- manifest digest the tags hold after the job
    started_at    TEXT,
    finished_at   TEXT,
    duration_ms   INTEGER,
    UNIQUE (run_id, seq)
) STRICT;

CREATE INDEX jobs_run_status ON jobs (run_id, status);
CREATE INDEX jobs_repository ON jobs (repository);
CREATE INDEX jobs_service ON jobs (service);

-- One try of a job; written when it ends, before the next one starts.
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    number      INTEGER NOT NULL,
    started_at  TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'cancelled')),
    http_status INTEGER,                       -- of the request that failed
    error_code  TEXT,                          -- the registry's code, e.g. DENIED, BLOB_UPLOAD_UNKNOWN
    error_class TEXT,                          -- see the README's table of error classes
    message     TEXT,
    requests    INTEGER NOT NULL DEFAULT 0,    -- HTTP requests this attempt sent
    bytes_sent  INTEGER NOT NULL DEFAULT 0,
    wait_ms     INTEGER,                       -- back-off chosen before the next attempt
    wait_reason TEXT,                          -- backoff | server_hint
    UNIQUE (job_id, number)
) STRICT;

CREATE INDEX attempts_job ON attempts (job_id);

-- What happened to each tag of a job.
CREATE TABLE tag_results (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER NOT NULL REFERENCES jobs (id),
    tag           TEXT    NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('pushed', 'skipped', 'kept', 'overwritten', 'verified',
                                                     'missing', 'different', 'planned')),
    digest_before TEXT,
    digest_after  TEXT,
    recorded_at   TEXT    NOT NULL
) STRICT;

CREATE INDEX tag_results_job ON tag_results (job_id);
CREATE INDEX tag_results_digest_after ON tag_results (digest_after);
