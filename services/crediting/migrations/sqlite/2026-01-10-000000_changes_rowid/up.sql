-- The change feed's sequence number becomes the table's rowid. Declared
-- BIGINT PRIMARY KEY it was a separate unique index beside the rowid, a
-- third b-tree to write for every change, and the feed writes a change
-- for every record a bulk upload stores. Only INTEGER PRIMARY KEY aliases
-- the rowid; it is 64-bit all the same.
CREATE TABLE changes_rowid (
    seq INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    resource_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    province TEXT NOT NULL,
    create_micros BIGINT NOT NULL
);
INSERT INTO changes_rowid SELECT seq, kind, resource_id, year, province, create_micros FROM changes;
DROP TABLE changes;
ALTER TABLE changes_rowid RENAME TO changes;
CREATE INDEX changes_province ON changes (province, seq);
