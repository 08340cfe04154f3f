DROP TABLE referrals;
DROP TABLE inspections;
ALTER TABLE violations DROP COLUMN deadline;
