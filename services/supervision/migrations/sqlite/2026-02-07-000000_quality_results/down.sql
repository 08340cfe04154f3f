ALTER TABLE notifications DROP COLUMN department;
DROP TABLE quality_results;
