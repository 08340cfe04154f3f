CREATE TABLE changes_bigint (
    seq BIGINT PRIMARY KEY,
    kind INTEGER NOT NULL,
    resource_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    province TEXT NOT NULL,
    create_micros BIGINT NOT NULL
);
INSERT INTO changes_bigint SELECT seq, kind, resource_id, year, province, create_micros FROM changes;
DROP TABLE changes;
ALTER TABLE changes_bigint RENAME TO changes;
CREATE INDEX changes_province ON changes (province, seq);
