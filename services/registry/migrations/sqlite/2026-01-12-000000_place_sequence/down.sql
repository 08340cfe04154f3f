ALTER TABLE engineers DROP COLUMN place_sequence;
