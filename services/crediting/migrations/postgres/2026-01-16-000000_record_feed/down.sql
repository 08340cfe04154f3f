-- Each record's position back as a change of its own.
INSERT INTO changes (seq, kind, resource_id, year, province, create_micros)
    SELECT feed_seq, 1, id, year, province, update_micros FROM hour_records
    WHERE feed_seq IS NOT NULL;
DROP INDEX hour_records_feed;
ALTER TABLE hour_records DROP COLUMN feed_seq;
