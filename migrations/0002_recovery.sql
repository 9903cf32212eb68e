-- Resumed runs and rate-limiter pauses.

-- Each time `stevedore resume` picked a run up again.
CREATE TABLE run_resumptions (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    resumed_at   TEXT    NOT NULL,
    command_line TEXT    NOT NULL,
    pid          INTEGER,
    prior_status TEXT    NOT NULL
) STRICT;

CREATE INDEX run_resumptions_run ON run_resumptions (run_id);

-- Each time the per-registry rate limiter paused every worker after a throttling answer.
CREATE TABLE limiter_pauses (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    registry    TEXT    NOT NULL,
    paused_at   TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    rate_after  REAL,                          -- requests per second after backing off; NULL = unlimited
    reason      TEXT    NOT NULL
) STRICT;

CREATE INDEX limiter_pauses_run ON limiter_pauses (run_id);
