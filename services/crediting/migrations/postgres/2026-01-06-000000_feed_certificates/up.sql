-- The change feed (Art. 22): one row per changed record or status, in
-- commit order. A transaction takes its sequence numbers from feed_head
-- as its last step, so the row lock on feed_head orders commits: a reader
-- never sees sequence N+1 while N can still appear.
CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    -- 1 hour record, 2 annual status (ChangeKind).
    kind INTEGER NOT NULL,
    -- The record id, or the status's engineer id.
    resource_id TEXT NOT NULL,
    -- The status's year; the record's year.
    year INTEGER NOT NULL,
    -- Where the record was registered, or the status's province.
    province TEXT NOT NULL,
    create_micros BIGINT NOT NULL
);
CREATE INDEX changes_province ON changes (province, seq);

CREATE TABLE feed_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO feed_head (id, seq) VALUES (1, 0);

-- Signed certificates of an engineer's year (Art. 15, 21). Revoked when
-- the year's records are revoked (Art. 27); never deleted.
CREATE TABLE hour_certificates (
    id TEXT PRIMARY KEY,
    engineer_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    employer_id TEXT,
    -- The signed credential exactly as issued.
    credential TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    create_micros BIGINT NOT NULL,
    revoke_micros BIGINT,
    revocation_reason TEXT
);
CREATE INDEX hour_certificates_engineer_year ON hour_certificates (engineer_id, year);
