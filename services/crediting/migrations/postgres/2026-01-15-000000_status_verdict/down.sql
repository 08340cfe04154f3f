-- Back to one row a status: the stored encoding is the body with the
-- verdict appended, exactly what reads answered.
ALTER TABLE annual_statuses RESET (fillfactor);
CREATE INDEX annual_statuses_state ON annual_statuses (year, state, engineer_id);
ALTER TABLE annual_statuses ADD COLUMN status BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE annual_statuses ADD COLUMN status_digest BIGINT;
UPDATE annual_statuses AS a SET status = b.body || a.verdict
    FROM annual_status_bodies AS b
    WHERE b.engineer_id = a.engineer_id AND b.year = a.year;
ALTER TABLE annual_statuses ALTER COLUMN status DROP DEFAULT;
DO $$
BEGIN
    ALTER TABLE annual_statuses ALTER COLUMN status SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: annual_statuses.status stays pglz';
END
$$;
ALTER TABLE annual_statuses DROP COLUMN verdict;
ALTER TABLE annual_statuses DROP COLUMN rule_set;
ALTER TABLE annual_statuses DROP COLUMN body_digest;
DROP TABLE annual_status_bodies;
