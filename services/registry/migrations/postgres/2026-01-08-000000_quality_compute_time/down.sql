ALTER TABLE institutions DROP COLUMN quality_compute_micros;
