-- An hour record carries its own position in the change feed (see
-- docs/architecture.md, "The change feed"): set when the record is created
-- and again whenever its state changes, from the same `feed_head` as every
-- other change. The feed reads records and the other changes in one order,
-- and no longer keeps a copy of every record in `changes`.
ALTER TABLE hour_records ADD COLUMN feed_seq BIGINT;
UPDATE hour_records SET feed_seq = (
    SELECT max(c.seq) FROM changes AS c WHERE c.kind = 1 AND c.resource_id = hour_records.id);
DELETE FROM changes WHERE kind = 1;
CREATE UNIQUE INDEX hour_records_feed ON hour_records (feed_seq);
