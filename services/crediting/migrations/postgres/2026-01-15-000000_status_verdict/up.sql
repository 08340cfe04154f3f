-- A year's status becomes a narrow verdict and a body (see
-- docs/performance.md, "Statuses: a verdict and a body").
--
-- The body is the year's AnnualStatus without the fields a year's close
-- changes (its state, whether it is complete, when it was last written);
-- it is written only when it changes, which is when the year's records do.
-- The verdict row keeps those fields, encoded (`verdict`), and a read
-- answers the body with the verdict appended: protobuf takes the last value
-- of a field, so the verdict's state and time stand. Closing a year then
-- rewrites only narrow verdict rows, and, with no index on a column the
-- close changes, PostgreSQL updates them in place (HOT).
--
-- A status stored before this migration moves over whole as its body, with
-- an empty verdict: it reads exactly as before. Its body digest is unknown
-- (NULL), so the next reassessment compares and rewrites it.
CREATE TABLE annual_status_bodies (
    engineer_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (engineer_id, year)
);
DO $$
BEGIN
    ALTER TABLE annual_status_bodies ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: annual_status_bodies.body stays pglz';
END
$$;
INSERT INTO annual_status_bodies (engineer_id, year, body)
    SELECT engineer_id, year, status FROM annual_statuses;

ALTER TABLE annual_statuses DROP COLUMN status;
ALTER TABLE annual_statuses DROP COLUMN status_digest;
-- The first eight bytes of the SHA-256 of the body.
ALTER TABLE annual_statuses ADD COLUMN body_digest BIGINT;
-- The rule set the year was assessed with (its id and fingerprint), so a
-- changed rule set finds the years it must reassess.
ALTER TABLE annual_statuses ADD COLUMN rule_set TEXT;
-- The verdict's fields, encoded, appended to the body on every read.
ALTER TABLE annual_statuses ADD COLUMN verdict BYTEA NOT NULL DEFAULT ''::bytea;
-- State is what a close changes: no index on it, so the update is HOT.
-- Lists by state are planned by province or employer and filtered.
DROP INDEX annual_statuses_state;
-- Room on each page for the new versions of its rows: a close moves about
-- a third of a year's verdicts, and a page filled to 70% holds a new
-- version of a third of its rows. Measured on 100,000 statuses (psql,
-- EXPLAIN ANALYZE of the close's UPDATE of 20,000 verdicts): at 90% few
-- were HOT and it took 745 ms; at 70% all but 2 were, in 110 ms; the table
-- grows from 25 to 33 MB.
ALTER TABLE annual_statuses SET (fillfactor = 70);
