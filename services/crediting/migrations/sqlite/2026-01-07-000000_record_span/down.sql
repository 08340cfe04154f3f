ALTER TABLE hour_records DROP COLUMN last_year;
