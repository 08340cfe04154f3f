-- A year's status becomes a narrow verdict and a body (see
-- docs/performance.md, "Statuses: a verdict and a body").
--
-- The body is the year's AnnualStatus without the fields a year's close
-- changes (its state, whether it is complete, when it was last written);
-- it is written only when it changes, which is when the year's records do.
-- The verdict row keeps those fields, encoded (`verdict`), and a read
-- answers the body with the verdict appended: protobuf takes the last value
-- of a field, so the verdict's state and time stand.
--
-- A status stored before this migration moves over whole as its body, with
-- an empty verdict: it reads exactly as before. Its body digest is unknown
-- (NULL), so the next reassessment compares and rewrites it.
CREATE TABLE annual_status_bodies (
    engineer_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (engineer_id, year)
);
INSERT INTO annual_status_bodies (engineer_id, year, body)
    SELECT engineer_id, year, status FROM annual_statuses;

DROP INDEX annual_statuses_state;
ALTER TABLE annual_statuses DROP COLUMN status;
ALTER TABLE annual_statuses DROP COLUMN status_digest;
-- The first eight bytes of the SHA-256 of the body.
ALTER TABLE annual_statuses ADD COLUMN body_digest BIGINT;
-- The rule set the year was assessed with (its id and fingerprint), so a
-- changed rule set finds the years it must reassess.
ALTER TABLE annual_statuses ADD COLUMN rule_set TEXT;
-- The verdict's fields, encoded, appended to the body on every read.
ALTER TABLE annual_statuses ADD COLUMN verdict BLOB NOT NULL DEFAULT X'';
