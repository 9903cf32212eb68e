-- PostgreSQL only (no SQLite counterpart: a queue shared by several machines needs a server): the leases of the
-- jobs workers claim. A claim is not an audit row and is not chained; the job's attempts and its finish are.

CREATE TABLE job_claims (
    job_id        bigint PRIMARY KEY REFERENCES jobs (id),
    status        text COLLATE "C" NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'done', 'abandoned')),
    claimed_by    text COLLATE "C",           -- the runner holding the lease
    claimed_until timestamptz,                 -- the lease's end; a heartbeat extends it
    attempt       bigint NOT NULL DEFAULT 0    -- claims so far: the fence of the finish
);

-- Claims read pending jobs in id order, rescues expired leases: each through its own partial index.
CREATE INDEX job_claims_pending ON job_claims (job_id) WHERE status = 'pending';
CREATE INDEX job_claims_expiry ON job_claims (claimed_until) WHERE status = 'running';
