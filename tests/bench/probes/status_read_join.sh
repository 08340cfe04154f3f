#!/usr/bin/env bash
# What a status read pays for the verdict kept apart from the body (#27):
# pgbench takes turns between a batch of 64 statuses read as the service
# reads them (the verdict joined to its body by primary key) and the same
# 64 bodies alone (what one wide row cost before), three rounds of 8 s each,
# 4 clients. On a crediting database a bench run kept:
#   CE_TEST_KEEP_DATABASES=1 CE_BENCH_ONLY=upload target/release/ce-bench
#   bash tests/bench/probes/status_read_join.sh <kept crediting database>
# 2026-12-07 (2 cores, the 100,000-status database): joined 872-912 tps,
# bodies alone 1295-1404 tps: the join takes about a third more of the
# database's time per batch.
set -euo pipefail
db=$1
psql=(psql -h 127.0.0.1 -U postgres -d "$db" -qAt)
"${psql[@]}" -c "DROP TABLE IF EXISTS probe_keys" \
    -c "CREATE TABLE probe_keys AS SELECT row_number() OVER () AS n, engineer_id FROM annual_statuses WHERE year = 2026" \
    -c "CREATE INDEX ON probe_keys (n)" -c "VACUUM ANALYZE"
last=$(("$("${psql[@]}" -c "SELECT count(*) FROM probe_keys")" - 63))
dir=$(mktemp -d)
cat > "$dir/joined.sql" <<SQL
\set k random(1, $last)
SELECT s.*, b.body FROM annual_statuses s JOIN annual_status_bodies b USING (engineer_id, year)
WHERE s.year = 2026 AND s.engineer_id IN (SELECT engineer_id FROM probe_keys WHERE n BETWEEN :k AND :k + 63);
SQL
cat > "$dir/bodies.sql" <<SQL
\set k random(1, $last)
SELECT b.body FROM annual_status_bodies b
WHERE b.year = 2026 AND b.engineer_id IN (SELECT engineer_id FROM probe_keys WHERE n BETWEEN :k AND :k + 63);
SQL
for round in 1 2 3; do
    for f in joined bodies; do
        echo -n "round $round, $f: "
        pgbench -h 127.0.0.1 -U postgres -n -c 4 -j 2 -T 8 -f "$dir/$f.sql" "$db" 2>/dev/null | grep -E '^tps'
    done
done
"${psql[@]}" -c "DROP TABLE probe_keys"
rm -r "$dir"
