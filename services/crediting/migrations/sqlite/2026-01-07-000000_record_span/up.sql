-- The last year a record counts in. An aid assignment counts in every
-- calendar year its period overlaps (Art. 19); every other record counts
-- in its own year only.
ALTER TABLE hour_records ADD COLUMN last_year INTEGER NOT NULL DEFAULT 0;
UPDATE hour_records SET last_year = year;
