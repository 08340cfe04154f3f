-- The last year a record counts in. An aid assignment counts in every
-- calendar year its period overlaps (Art. 19); every other record counts
-- in its own year only.
ALTER TABLE hour_records ADD COLUMN last_year INTEGER;
UPDATE hour_records SET last_year = year;
ALTER TABLE hour_records ALTER COLUMN last_year SET NOT NULL;
