-- Where engineers are, as a feed: a row for every change of an engineer's
-- province, employer or field, in commit order, so crediting can keep each
-- engineer's open years with the province and employer they are with now
-- (Art. 22). SQLite has one writer at a time, so sequence numbers taken
-- from engineer_change_head commit in order. INTEGER PRIMARY KEY makes the
-- sequence the rowid (64-bit all the same).
CREATE TABLE engineer_changes (
    sequence INTEGER PRIMARY KEY,
    engineer_id TEXT NOT NULL REFERENCES engineers (id),
    -- Where the engineer is from this change on.
    province TEXT NOT NULL,
    employer_id TEXT,
    field INTEGER NOT NULL,
    change_micros BIGINT NOT NULL
);
CREATE TABLE engineer_change_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sequence BIGINT NOT NULL
);
-- Moves made before the feed existed are not carried over: the employer
-- and field an engineer moved with were not recorded then.
INSERT INTO engineer_change_head (id, sequence) VALUES (1, 0);
