-- Every field of the subject when recorded, as ",a,b," (an institution may
-- serve several): scope checks and the field filter use all of them, not
-- only `field`, the first.
ALTER TABLE violations ADD COLUMN fields TEXT NOT NULL DEFAULT '';
UPDATE violations SET fields = ',' || field || ',';
