ALTER TABLE hour_records DROP COLUMN make_up_for;
DROP TABLE deferrals;
