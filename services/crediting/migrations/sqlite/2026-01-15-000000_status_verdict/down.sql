-- Back to one row a status: the stored encoding is the body with the
-- verdict appended, exactly what reads answered (`||` makes text of two
-- blobs, byte for byte; the cast makes it a blob again).
CREATE INDEX annual_statuses_state ON annual_statuses (year, state, engineer_id);
ALTER TABLE annual_statuses ADD COLUMN status BLOB NOT NULL DEFAULT X'';
ALTER TABLE annual_statuses ADD COLUMN status_digest BIGINT;
UPDATE annual_statuses SET status = CAST(
    (SELECT b.body FROM annual_status_bodies AS b
     WHERE b.engineer_id = annual_statuses.engineer_id AND b.year = annual_statuses.year)
    || verdict AS BLOB);
ALTER TABLE annual_statuses DROP COLUMN verdict;
ALTER TABLE annual_statuses DROP COLUMN rule_set;
ALTER TABLE annual_statuses DROP COLUMN body_digest;
DROP TABLE annual_status_bodies;
