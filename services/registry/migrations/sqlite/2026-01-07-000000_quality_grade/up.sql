-- The latest quality-monitoring grade (Art. 25), recorded by the quality
-- service: a key standard for judging an institution.
ALTER TABLE institutions ADD COLUMN quality_grade TEXT;
ALTER TABLE institutions ADD COLUMN quality_period TEXT;
ALTER TABLE institutions ADD COLUMN quality_model TEXT;
