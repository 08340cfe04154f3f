DROP INDEX violations_employer;
ALTER TABLE violations DROP COLUMN employer_id;
