ALTER TABLE hour_records DROP COLUMN supersedes;
