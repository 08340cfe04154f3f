ALTER TABLE violations DROP COLUMN fields;
