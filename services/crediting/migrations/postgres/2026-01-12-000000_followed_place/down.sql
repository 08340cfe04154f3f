ALTER TABLE followed_engineers DROP COLUMN employer_id;
ALTER TABLE followed_engineers DROP COLUMN field;
ALTER TABLE followed_engineers DROP COLUMN province;
