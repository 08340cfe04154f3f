ALTER TABLE institutions DROP COLUMN quality_model;
ALTER TABLE institutions DROP COLUMN quality_period;
ALTER TABLE institutions DROP COLUMN quality_grade;
