-- A decided rectification order's deadline (China date, YYYY-MM-DD): the
-- worker escalates it when the day passes unmet.
ALTER TABLE violations ADD COLUMN deadline TEXT;

-- Inspections (Art. 24), the whole Inspection message in body.
CREATE TABLE inspections (
    id TEXT PRIMARY KEY,
    province TEXT NOT NULL,
    field INTEGER NOT NULL,
    state INTEGER NOT NULL,
    body BYTEA NOT NULL,
    created_by TEXT NOT NULL,
    create_micros BIGINT NOT NULL,
    update_micros BIGINT NOT NULL
);
CREATE INDEX inspections_province ON inspections (province, id);

-- Referrals of officials (Art. 28). province is the official's
-- department's province ("00" for the ministry).
CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    province TEXT NOT NULL,
    resolved INTEGER NOT NULL,
    body BYTEA NOT NULL,
    create_micros BIGINT NOT NULL
);
CREATE INDEX referrals_province ON referrals (province, id);
