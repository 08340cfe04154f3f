DROP TABLE annual_statuses;
DROP TABLE hour_records;
