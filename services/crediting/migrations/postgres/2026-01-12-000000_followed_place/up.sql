-- Where each followed engineer is as of their last applied change, so a
-- status write that looked the engineer up before that change (a cached
-- lookup, or one made on another replica) still writes the place they
-- moved to. NULL for rows written before this column: the next change
-- fills it in.
ALTER TABLE followed_engineers ADD COLUMN province TEXT;
ALTER TABLE followed_engineers ADD COLUMN field INTEGER;
ALTER TABLE followed_engineers ADD COLUMN employer_id TEXT;
