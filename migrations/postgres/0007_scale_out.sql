-- PostgreSQL only: what several runner processes on several machines share besides the audit log. None of these
-- tables is audited or chained: they are coordination state; every attempt and finish they lead to is.

-- The queue carries each job's run (claims of one run, oldest first, through one index), when it may run next (a
-- retry is scheduled, not slept on), the retry policy's counters between claims, and how often its lease was lost.
-- A claim that was closed with its run is 'cancelled'.
ALTER TABLE job_claims ADD COLUMN run_id bigint;
UPDATE job_claims c SET run_id = j.run_id FROM jobs j WHERE j.id = c.job_id;
ALTER TABLE job_claims ALTER COLUMN run_id SET NOT NULL;
ALTER TABLE job_claims ADD COLUMN run_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE job_claims ADD COLUMN retries_counted bigint NOT NULL DEFAULT 0;     -- failures that count against --max-attempts
ALTER TABLE job_claims ADD COLUMN retries_consecutive bigint NOT NULL DEFAULT 0; -- failures since the job last advanced
ALTER TABLE job_claims ADD COLUMN leases_lost bigint NOT NULL DEFAULT 0;
ALTER TABLE job_claims ADD COLUMN claimed_at timestamptz;                       -- when the current lease began
ALTER TABLE job_claims DROP CONSTRAINT job_claims_status_check;
ALTER TABLE job_claims ADD CONSTRAINT job_claims_status_check
    CHECK (status IN ('pending', 'running', 'done', 'abandoned', 'cancelled'));
DROP INDEX job_claims_pending;
CREATE INDEX job_claims_pending ON job_claims (run_id, job_id) WHERE status = 'pending';
CREATE INDEX job_claims_run ON job_claims (run_id, status);

-- Every runner process (a run's starting process, `stevedore worker`): a heartbeat every lease/3 while it lives,
-- `left_at` when it stops. A run whose starting runner stopped beating for three leases without leaving is taken as
-- died, from any machine. `claims` and `queue_ms`: jobs it claimed and the time its queue statements took.
CREATE TABLE runners (
    id         text COLLATE "C" PRIMARY KEY,      -- host:pid:nonce
    host       text COLLATE "C" NOT NULL,
    pid        bigint NOT NULL,
    role       text COLLATE "C" NOT NULL CHECK (role IN ('starter', 'worker')),
    run_id     bigint,                             -- the run a starter started or resumed
    lease_ms   bigint NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now(),
    left_at    timestamptz,
    claims     bigint NOT NULL DEFAULT 0,
    queue_ms   bigint NOT NULL DEFAULT 0
);

CREATE INDEX runners_run ON runners (run_id) WHERE run_id IS NOT NULL;

-- One rate budget per registry host for every runner: a generic cell rate (the next free send slot, `due`), a
-- pause every runner honours (`paused_until`, set by whoever met a 429), and the rate after back-offs.
CREATE TABLE rate_budgets (
    host         text COLLATE "C" PRIMARY KEY,
    rate         double precision,                 -- the configured rate, requests per second; NULL: unlimited
    current_rate double precision,                 -- after back-offs, recovering towards `rate`
    due          timestamptz NOT NULL DEFAULT now(),
    paused_until timestamptz NOT NULL DEFAULT now(),
    last_change  timestamptz NOT NULL DEFAULT now(),
    last_backoff timestamptz,
    pauses       bigint NOT NULL DEFAULT 0
);
