-- Two of a close's queries, each the way the close asked before 2026-12-03
-- and the way it asks now, over the same rows, a batch at a time as the
-- close sends them:
--   1. the changed years' stored explanations: by record id, a thousand
--      ids a query (before), or through the engineers, a thousand a query,
--      with the records query's filter (`store::explanations_of` now);
--   2. the records the rules read, ordered by engineer and id (before), or
--      unordered (`store::records_for_rules_of` now).
-- Each loop runs twice; the second, warm, is the one to compare. Run it on
-- the crediting database a bench run leaves behind (see close_floor.sql):
--   psql postgres://postgres@127.0.0.1:5432/<that database> -f tests/bench/probes/close_lookups.sql
\set ON_ERROR_STOP on
CREATE TEMP TABLE probe_ids AS
  SELECT id, (row_number() OVER (ORDER BY engineer_id, id) - 1) / 1000 AS chunk
  FROM hour_records WHERE year = 2026 AND state IN (2, 4);
CREATE TEMP TABLE probe_id_chunks AS
  SELECT chunk, array_agg(id) AS ids FROM probe_ids GROUP BY chunk;
CREATE TEMP TABLE probe_engineer_chunks AS
  SELECT (row_number() OVER (ORDER BY engineer_id) - 1) / 1000 AS chunk, engineer_id
  FROM (SELECT DISTINCT engineer_id FROM hour_records WHERE year = 2026 AND state IN (2, 4)) e;
CREATE TEMP TABLE probe_engineers AS
  SELECT chunk, array_agg(engineer_id) AS engineers FROM probe_engineer_chunks GROUP BY chunk;
DO $$
DECLARE
  t0 timestamptz;
  c record;
  r record;
  n bigint;
BEGIN
  FOR pass IN 1..2 LOOP
    t0 := clock_timestamp(); n := 0;
    FOR c IN SELECT ids FROM probe_id_chunks LOOP
      FOR r IN SELECT id, explanation FROM hour_records WHERE id = ANY (c.ids) LOOP
        n := n + 1;
      END LOOP;
    END LOOP;
    RAISE NOTICE 'pass %: explanations by record id: % rows in %', pass, n, clock_timestamp() - t0;
    t0 := clock_timestamp(); n := 0;
    FOR c IN SELECT engineers FROM probe_engineers LOOP
      FOR r IN SELECT id, explanation FROM hour_records
               WHERE engineer_id = ANY (c.engineers) AND year <= 2026 AND last_year >= 2026
                 AND (state + 0) IN (2, 4) LOOP
        n := n + 1;
      END LOOP;
    END LOOP;
    RAISE NOTICE 'pass %: explanations through the engineers: % rows in %', pass, n, clock_timestamp() - t0;
    t0 := clock_timestamp(); n := 0;
    FOR c IN SELECT engineers FROM probe_engineers LOOP
      FOR r IN SELECT id, engineer_id, year, state, activity, registry_activity, institution_id,
                      claimed_centi, make_up_for, last_year FROM hour_records
               WHERE engineer_id = ANY (c.engineers) AND year <= 2026 AND last_year >= 2026
                 AND (state + 0) IN (2, 4) ORDER BY engineer_id, id LOOP
        n := n + 1;
      END LOOP;
    END LOOP;
    RAISE NOTICE 'pass %: the rules'' columns, ordered: % rows in %', pass, n, clock_timestamp() - t0;
    t0 := clock_timestamp(); n := 0;
    FOR c IN SELECT engineers FROM probe_engineers LOOP
      FOR r IN SELECT id, engineer_id, year, state, activity, registry_activity, institution_id,
                      claimed_centi, make_up_for, last_year FROM hour_records
               WHERE engineer_id = ANY (c.engineers) AND year <= 2026 AND last_year >= 2026
                 AND (state + 0) IN (2, 4) LOOP
        n := n + 1;
      END LOOP;
    END LOOP;
    RAISE NOTICE 'pass %: the rules'' columns, unordered: % rows in %', pass, n, clock_timestamp() - t0;
  END LOOP;
END $$;
