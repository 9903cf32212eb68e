-- Real images: where a job's image came from, the manifests it put, and what each attempt did with each blob.

-- The image source of a job (`oci:DIR:TAG`, `docker-archive:FILE`, `placeholder`) and its manifest digest as read.
ALTER TABLE jobs ADD COLUMN source TEXT;
ALTER TABLE jobs ADD COLUMN source_digest TEXT;

-- Every manifest a job put into its repository: an index's children by digest, then the root under its tags.
CREATE TABLE job_manifests (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    digest      TEXT    NOT NULL,
    media_type  TEXT    NOT NULL,
    platform    TEXT,                          -- os/arch[/variant] of an index entry
    tags        TEXT    NOT NULL,              -- JSON array; empty for a child put by digest
    size        INTEGER NOT NULL,
    recorded_at TEXT    NOT NULL
) STRICT;
CREATE INDEX job_manifests_job ON job_manifests (job_id);

-- What one attempt did with one blob: uploaded, mounted from another repository, or found present.
CREATE TABLE blob_actions (
    id          INTEGER PRIMARY KEY,
    attempt_id  INTEGER NOT NULL REFERENCES attempts (id),
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    digest      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    media_type  TEXT    NOT NULL,
    action      TEXT    NOT NULL,              -- uploaded, mounted, present
    bytes_sent  INTEGER NOT NULL,              -- body bytes of this blob's requests
    duration_ms INTEGER NOT NULL,
    recorded_at TEXT    NOT NULL
) STRICT;
CREATE INDEX blob_actions_job ON blob_actions (job_id);
-- A repository known to hold a blob, to mount from: the newest action on it.
CREATE INDEX blob_actions_digest ON blob_actions (digest, id);
