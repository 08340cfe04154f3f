ALTER TABLE annual_statuses DROP COLUMN status_digest;
