-- A correction names the record it replaces; the old one becomes SUPERSEDED.
ALTER TABLE hour_records ADD COLUMN supersedes TEXT;
