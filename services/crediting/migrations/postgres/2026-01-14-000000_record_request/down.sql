ALTER TABLE hour_records DROP COLUMN request_id;
