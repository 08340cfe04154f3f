-- What closing a year must cost PostgreSQL before the service does anything
-- itself: the bench's GROUP BY, the records handed over, and the writes a
-- close that turns every engineer's year final has to make.
--
-- Run it on the crediting database a close-only bench run leaves behind:
--   CE_TEST_KEEP_DATABASES=1 CE_BENCH_ONLY=close \
--     CE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test target/release/ce-bench
--   (it prints "kept database ce_test_…"; the crediting one has hour_records)
--   psql postgres://postgres@127.0.0.1:5432/<that database> -f tests/bench/probes/close_floor.sql
-- Every write is rolled back, so the database is as the bench left it,
-- except for dead tuples: run the writes on a fresh database to compare
-- them with each other.
\timing on
\o /dev/null
-- 1. The baseline, as the bench runs it (PostgreSQL plans it in parallel).
SELECT engineer_id, COUNT(*), SUM(LENGTH(activity)), SUM(LENGTH(explanation)), MAX(update_micros)
FROM hour_records WHERE year = 2026 AND state IN (2, 4) GROUP BY engineer_id;
SELECT engineer_id, COUNT(*), SUM(LENGTH(activity)), SUM(LENGTH(explanation)), MAX(update_micros)
FROM hour_records WHERE year = 2026 AND state IN (2, 4) GROUP BY engineer_id;
-- 2. The records the rules read, a row each (the bench's "floor" row).
SELECT id, engineer_id, year, state, activity, registry_activity, institution_id, claimed_centi,
       make_up_for, last_year
FROM hour_records WHERE year = 2026 AND state IN (2, 4);
-- 3. The same, an engineer a row: PostgreSQL aggregates, fewer rows cross
--    the connection, but array_agg does not run in parallel (PostgreSQL 15).
SELECT engineer_id, array_agg(id), array_agg(state), array_agg(activity),
       array_agg(registry_activity), array_agg(institution_id), array_agg(claimed_centi),
       array_agg(make_up_for), array_agg(last_year)
FROM hour_records WHERE year = 2026 AND state IN (2, 4) GROUP BY engineer_id;
\o
-- 4. The least a close that turns every year final writes, in one statement:
--    a new state in every stored status (the status bytes left as they are),
--    then a change-feed entry for each.
CHECKPOINT;
BEGIN;
UPDATE annual_statuses SET state = 5, update_micros = update_micros + 1,
       status_digest = status_digest + 1
WHERE year = 2026;
ROLLBACK;
CHECKPOINT;
BEGIN;
INSERT INTO changes (seq, kind, resource_id, year, province, create_micros)
SELECT 1000000000 + row_number() OVER (), 2, engineer_id, year, province, 1
FROM annual_statuses WHERE year = 2026;
ROLLBACK;
-- 5. The state in a narrow table of its own with room on each page and no
--    index on it, so every update is HOT: what a status split into a stored
--    body and a small verdict could write.
CREATE TEMP TABLE probe_verdicts (engineer_id TEXT, year INTEGER, state INTEGER,
    total_centi BIGINT, update_micros BIGINT, PRIMARY KEY (engineer_id, year))
    WITH (fillfactor = 50);
INSERT INTO probe_verdicts
SELECT engineer_id, year, state, total_centi, update_micros FROM annual_statuses;
VACUUM ANALYZE probe_verdicts;
CHECKPOINT;
BEGIN;
UPDATE probe_verdicts SET state = 5, update_micros = update_micros + 1 WHERE year = 2026;
ROLLBACK;
DROP TABLE probe_verdicts;
