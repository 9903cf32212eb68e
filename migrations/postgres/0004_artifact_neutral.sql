-- Jobs of any kind, item results instead of tag results, commands without a closed list, a versioned ledger
-- encoding (PostgreSQL dialect of migrations/0004_artifact_neutral.sql). PostgreSQL alters constraints and renames
-- in place, so no table is rebuilt; row ids are kept.

DROP VIEW v_job_latest;
DROP VIEW v_failures;
DROP VIEW v_state;
DROP VIEW v_attempts;
DROP TRIGGER tag_results_update_state ON tag_results;
DROP FUNCTION tag_results_update_state();

ALTER TABLE runs DROP CONSTRAINT runs_command_check;

ALTER TABLE jobs ADD COLUMN kind text COLLATE "C" NOT NULL DEFAULT 'oci-image';
ALTER TABLE jobs ADD COLUMN target text COLLATE "C";
ALTER TABLE jobs RENAME COLUMN tags TO items;

ALTER TABLE tag_results RENAME TO item_results;
ALTER TABLE item_results RENAME COLUMN tag TO item;
ALTER TABLE item_results DROP CONSTRAINT tag_results_action_check;
ALTER TABLE item_results ADD COLUMN size bigint;
ALTER TABLE item_results ADD COLUMN detail text COLLATE "C";
DROP INDEX tag_results_job;
DROP INDEX tag_results_digest_after;
CREATE INDEX item_results_job ON item_results (job_id);
CREATE INDEX item_results_digest_after ON item_results (digest_after);

ALTER TABLE tag_state RENAME TO item_state;
ALTER TABLE item_state RENAME COLUMN tag TO item;
ALTER TABLE item_state RENAME COLUMN tag_result_id TO item_result_id;
ALTER TABLE item_state ADD COLUMN kind text COLLATE "C" NOT NULL DEFAULT 'oci-image';
DROP INDEX tag_state_service;
DROP INDEX tag_state_repository;
CREATE INDEX item_state_service ON item_state (service);
CREATE INDEX item_state_repository ON item_state (repository);

CREATE FUNCTION item_results_update_state() RETURNS trigger LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END;
$$;

CREATE TRIGGER item_results_update_state AFTER INSERT ON item_results
FOR EACH ROW WHEN (NEW.action <> 'planned') EXECUTE FUNCTION item_results_update_state();

ALTER TABLE ledger ADD COLUMN encoding bigint NOT NULL DEFAULT 1;

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

CREATE VIEW tag_results AS
SELECT r.id, r.job_id, r.item AS tag, r.action, r.digest_before, r.digest_after, r.recorded_at
FROM item_results r JOIN jobs j ON j.id = r.job_id WHERE j.kind = 'oci-image';

CREATE VIEW tag_state AS
SELECT registry, repository, item AS tag, service, digest, action, recorded_at, run_id, job_id,
       item_result_id AS tag_result_id
FROM item_state WHERE kind = 'oci-image';
