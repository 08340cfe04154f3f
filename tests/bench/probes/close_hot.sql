-- What the verdicts' fillfactor does to a year's close (#27): the close's
-- UPDATE of 20,000 open verdicts, rolled back each time, with the table
-- rewritten at a fillfactor of 90, then 70, and how many updates were HOT.
-- On a crediting database a bench run kept (it rewrites annual_statuses):
--   CE_TEST_KEEP_DATABASES=1 CE_BENCH_ONLY=upload target/release/ce-bench
--   psql postgres://postgres@127.0.0.1:5432/<kept crediting database> -f close_hot.sql
-- 2026-12-07 (2 cores, 100,000 statuses): 745 ms at 90, few HOT; 110 ms at
-- 70, all but 2 HOT; the table 25 MB against 33 MB.
\timing on
ALTER TABLE annual_statuses SET (fillfactor = 90);
VACUUM FULL annual_statuses;
ANALYZE annual_statuses;
SELECT pg_size_pretty(pg_relation_size('annual_statuses')) AS size_at_90;
BEGIN;
CREATE TEMP TABLE open ON COMMIT DROP AS
    SELECT engineer_id, state, update_micros FROM annual_statuses
    WHERE year = 2026 AND state = 1 LIMIT 20000;
EXPLAIN ANALYZE UPDATE annual_statuses AS a
    SET state = 6, verdict = '\x2006'::bytea, computed_on = '2027-01-05', update_micros = 1
    FROM open v WHERE a.engineer_id = v.engineer_id AND a.year = 2026 AND a.state = v.state;
SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'annual_statuses';
ROLLBACK;
ALTER TABLE annual_statuses SET (fillfactor = 70);
VACUUM FULL annual_statuses;
ANALYZE annual_statuses;
SELECT pg_size_pretty(pg_relation_size('annual_statuses')) AS size_at_70;
BEGIN;
CREATE TEMP TABLE open ON COMMIT DROP AS
    SELECT engineer_id, state, update_micros FROM annual_statuses
    WHERE year = 2026 AND state = 1 LIMIT 20000;
EXPLAIN ANALYZE UPDATE annual_statuses AS a
    SET state = 6, verdict = '\x2006'::bytea, computed_on = '2027-01-05', update_micros = 1
    FROM open v WHERE a.engineer_id = v.engineer_id AND a.year = 2026 AND a.state = v.state;
SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'annual_statuses';
ROLLBACK;
