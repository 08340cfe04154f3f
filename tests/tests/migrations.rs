//! Every migration runs down and up again and leaves the schema as it was
//! (after Lemmy's schema_setup check), on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_db::DbConnection;
use ce_tests::{Backend, Place, both_backends};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// A text rendering of the schema: tables, columns, types, indexes, triggers.
fn schema(conn: &mut DbConnection) -> Vec<String> {
    let sql = match conn {
        DbConnection::Pg(_) => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || \
             coalesce(column_default, '') AS line FROM information_schema.columns WHERE table_schema = 'public' \
             UNION ALL SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL SELECT trigger_name || ' ' || event_object_table || ' ' || event_manipulation \
             FROM information_schema.triggers ORDER BY 1"
        }
        DbConnection::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    diesel::sql_query(sql)
        .load::<Line>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

/// Reverts `set`'s migrations, newest first, through the one whose version
/// (without dashes) starts with `version`.
fn revert_through<C: MigrationHarness<B>, B: diesel::backend::Backend>(
    c: &mut C,
    set: impl Fn() -> EmbeddedMigrations,
    version: &str,
) {
    loop {
        let reverted = c.revert_last_migration(set()).unwrap().to_string();
        if reverted.replace('-', "").starts_with(version) {
            break;
        }
    }
}

/// A service's migrations, made fresh on each call (they are not `Clone`).
type MigrationSet = fn() -> ce_db::Migrations;

fn down_and_up(conn: &mut DbConnection, set: MigrationSet) {
    // Only the service's own migrations: the shared audit log (ce-db's) is
    // applied first and reverted by no service.
    fn run<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
        set: impl Fn() -> EmbeddedMigrations,
    ) {
        let count = diesel::migration::MigrationSource::<B>::migrations(&set())
            .unwrap()
            .len();
        for _ in 0..count {
            c.revert_last_migration(set()).unwrap();
        }
        c.run_pending_migrations(set()).unwrap();
    }
    match conn {
        DbConnection::Pg(c) => run(c, || set().postgres),
        DbConnection::Sqlite(c) => run(c, || set().sqlite),
    }
}

async fn every_service_schema_survives_its_migrations_down_and_up(b: Backend) {
    let services: [(&str, MigrationSet); 4] = [
        ("registry", registry::migrations),
        ("crediting", crediting::migrations),
        ("supervision", supervision::migrations),
        ("quality", quality::migrations),
    ];
    for (name, set) in services {
        let place = Place::new(b);
        let url = place.config(name).database.url;
        let db = ce_db::Db::connect(&url, 1, set()).unwrap();
        let mut conn = db.connection().unwrap();
        let before = schema(&mut conn);
        assert!(
            before.iter().any(|l| l.contains("audit_log")),
            "{name}: the audit log is there"
        );
        down_and_up(&mut conn, set);
        assert_eq!(
            schema(&mut conn),
            before,
            "{name}: down and up again changes nothing"
        );
    }
}

both_backends!(every_service_schema_survives_its_migrations_down_and_up);

#[derive(QueryableByName)]
struct Analyzed {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    analyzed: bool,
}

fn analyzed(conn: &mut DbConnection, table: &str) -> bool {
    // `last_analyze` is set by an ANALYZE statement only, never by autovacuum
    // (that is `last_autoanalyze`), so this sees what the service did.
    diesel::sql_query(
        "SELECT COALESCE((SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables \
         WHERE relname = $1), false) AS analyzed",
    )
    .bind::<Text, _>(table)
    .get_result::<Analyzed>(conn)
    .unwrap()
    .analyzed
}

/// A bulk load into a fresh table is analyzed while it runs, not a minute
/// later by autovacuum: planned without statistics, each lookup by a list
/// of ids reads the whole table (see `ce_db::stats`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_writes_keep_the_planner_statistics_fresh() {
    let place = Place::new(Backend::Postgres);
    let db = crediting_db(&place, 2);
    let mut conn = db.connection().unwrap();
    conn.batch_execute(
        "CREATE TABLE bulk_probe (id INTEGER PRIMARY KEY, engineer_id TEXT NOT NULL); \
         INSERT INTO bulk_probe SELECT i, 'e' || (i % 97) FROM generate_series(1, 800) AS i",
    )
    .unwrap();
    const PROBE: &[&str] = &["bulk_probe"];

    // Fewer rows than a check needs: nothing is analyzed.
    db.note_bulk_rows(PROBE, &[800]);
    assert_eq!(
        db.refresh_statistics(PROBE).await.unwrap(),
        Vec::<String>::new()
    );
    assert!(!analyzed(&mut conn, "bulk_probe"));

    // A load past the check size is analyzed in the background; a table
    // the same load wrote only a few rows to is not: each table's rows are
    // counted apart.
    conn.batch_execute(
        "INSERT INTO bulk_probe SELECT i, 'e' || (i % 97) FROM generate_series(801, 8000) AS i; \
         CREATE TABLE bulk_quiet (id INTEGER PRIMARY KEY); \
         INSERT INTO bulk_quiet SELECT i FROM generate_series(1, 600) AS i",
    )
    .unwrap();
    db.note_bulk_rows(&["bulk_probe", "bulk_quiet"], &[7_200, 600]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !analyzed(&mut conn, "bulk_probe") {
        assert!(
            std::time::Instant::now() < deadline,
            "bulk_probe was not analyzed within 30 s of 8000 rows"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!analyzed(&mut conn, "bulk_quiet"));
    // Fresh now: an explicit refresh finds nothing to do.
    assert_eq!(
        db.refresh_statistics(PROBE).await.unwrap(),
        Vec::<String>::new()
    );

    // SQLite: nothing to refresh, and noting rows is harmless.
    let lite = Place::new(Backend::Sqlite);
    let db = crediting_db(&lite, 1);
    db.note_bulk_rows(PROBE, &[1_000_000]);
    assert_eq!(
        db.refresh_statistics(PROBE).await.unwrap(),
        Vec::<String>::new()
    );
}

/// Crediting's database at `place`, migrated, with `connections` pooled.
fn crediting_db(place: &Place, connections: u32) -> ce_db::Db {
    ce_db::Db::connect(
        &place.config("crediting").database.url,
        connections,
        crediting::migrations(),
    )
    .unwrap()
}

fn status_write(engineer: &str, year: i32) -> crediting::store::StatusWrite {
    let body = format!("status of {engineer} in {year}").into_bytes();
    crediting::store::StatusWrite {
        head: crediting::store::StatusHead {
            engineer_id: engineer.into(),
            year,
            province: "44".into(),
            field: 1,
            employer_id: None,
            state: 1,
            total_centi: 0,
            professional_centi: 0,
            computed_on: "2026-06-01".into(),
            update_micros: 0,
            body_digest: Some(crediting::store::status_digest(&body)),
            rule_set: Some("national-2026@0".into()),
        },
        verdict: format!(" verdict of {engineer}").into_bytes(),
        body: Some(body),
    }
}

/// A status as stored by `write` reads: its verdict appended to its body.
fn as_read(write: &crediting::store::StatusWrite) -> crediting::store::StatusRow {
    let mut status = write.body.clone().unwrap();
    status.extend_from_slice(&write.verdict);
    crediting::store::StatusRow {
        head: write.head.clone(),
        status,
    }
}

/// Point reads asked for at once are answered by a few queries, each caller
/// with its own row (or none), including callers asking for the same row;
/// a write is seen by the next read; a failed query fails each of its
/// callers with the same kind of fault (see `ce_db::batch`).
// One thread, not `both_backends!`'s two: the reads are all queued before
// the lane first runs, which the bound on queries below relies on.
#[tokio::test]
async fn point_reads_asked_at_once_share_queries() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let place = Place::new(backend);
        let db = crediting_db(&place, 4);
        let stored = statuses_stored(&db);
        let batcher = reads_asked_at_once_share_queries(backend, &db, &stored).await;
        a_write_is_seen_by_the_next_read(&db, &batcher).await;
        a_caller_giving_up_stops_no_other(&batcher).await;
        a_failed_query_fails_each_caller(backend, &db).await;
    }
}

/// Statuses' batched point reads, keyed by (engineer, year).
type StatusReads = ce_db::batch::Batcher<(String, i32), crediting::store::StatusRow>;

/// 150 statuses of 2026 and 10 of 2027, stored; returns them.
fn statuses_stored(db: &ce_db::Db) -> Vec<crediting::store::StatusRow> {
    let writes: Vec<crediting::store::StatusWrite> = (0..150)
        .map(|i| status_write(&format!("e{i:03}"), 2026))
        .chain((0..10).map(|i| status_write(&format!("e{i:03}"), 2027)))
        .collect();
    let mut conn = db.connection().unwrap();
    crediting::store::insert_statuses(&mut conn, &writes).unwrap();
    writes.iter().map(as_read).collect()
}

/// 200 reads asked at once, each answered with its own row (or none) by a
/// few queries, as the batcher's counts say too; returns the batcher.
async fn reads_asked_at_once_share_queries(
    backend: Backend,
    db: &ce_db::Db,
    stored: &[crediting::store::StatusRow],
) -> StatusReads {
    use crediting::store::statuses_by_key;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (loads, largest) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let batcher = {
        let (loads, largest) = (loads.clone(), largest.clone());
        StatusReads::start(db.clone(), 1, 64, move |conn, keys: &[(String, i32)]| {
            loads.fetch_add(1, Ordering::SeqCst);
            largest.fetch_max(keys.len(), Ordering::SeqCst);
            statuses_by_key(conn, keys)
        })
    };
    // 150 stored of 2026, 10 of 2027, 25 asked twice, 15 never stored.
    let mut asked: Vec<(String, i32)> = (0..150).map(|i| (format!("e{i:03}"), 2026)).collect();
    asked.extend((0..10).map(|i| (format!("e{i:03}"), 2027)));
    asked.extend((0..25).map(|i| (format!("e{i:03}"), 2026)));
    asked.extend((150..165).map(|i| (format!("e{i:03}"), 2026)));
    let mut reads = tokio::task::JoinSet::new();
    for key in asked.clone() {
        let b = batcher.clone();
        reads.spawn(async move { (key.clone(), b.get(key).await.unwrap()) });
    }
    let mut answered = 0;
    while let Some(read) = reads.join_next().await {
        let ((engineer, year), row) = read.unwrap();
        let expected = stored
            .iter()
            .find(|r| r.engineer_id == engineer && r.year == year);
        assert_eq!(row.as_ref(), expected, "{backend:?}: {engineer}/{year}");
        answered += 1;
    }
    assert_eq!(answered, asked.len());
    let (loads_now, largest_now) = (loads.load(Ordering::SeqCst), largest.load(Ordering::SeqCst));
    // 200 reads, 64 a batch: 4 queries when all were queued before the
    // first ran; a few more at most, never one a read.
    assert!(
        loads_now <= 8 && largest_now > 32,
        "{backend:?}: {} reads took {loads_now} queries, the largest of {largest_now} keys",
        asked.len()
    );

    // The counts the service's metrics read agree with what ran.
    let stats = batcher.counter().stats();
    assert_eq!(
        (stats.queries, stats.reads),
        (loads_now as u64, asked.len() as u64),
        "{backend:?}"
    );
    assert!(stats.query_time > std::time::Duration::ZERO);
    batcher
}

/// Read-your-writes: a row stored now is read by the next call.
async fn a_write_is_seen_by_the_next_read(db: &ce_db::Db, batcher: &StatusReads) {
    assert_eq!(batcher.get(("e150".into(), 2026)).await.unwrap(), None);
    let late = status_write("e150", 2026);
    crediting::store::put_status(&mut db.connection().unwrap(), &late).unwrap();
    assert_eq!(
        batcher.get(("e150".into(), 2026)).await.unwrap(),
        Some(as_read(&late))
    );
}

/// A caller that gives up after asking does not stop the others.
async fn a_caller_giving_up_stops_no_other(batcher: &StatusReads) {
    tokio::select! {
        biased;
        _ = batcher.get(("e001".into(), 2026)) => panic!("answered before the lane ran"),
        () = std::future::ready(()) => {}
    }
    assert!(batcher.get(("e001".into(), 2026)).await.unwrap().is_some());
}

/// A failed query: unavailability reaches every caller as such; any other
/// fault as an internal one.
async fn a_failed_query_fails_each_caller(backend: Backend, db: &ce_db::Db) {
    use crediting::store::statuses_by_key;
    use std::sync::Arc;
    for (fault, unavailable) in [
        (ce_db::DbError::Unavailable("down".into()), true),
        (
            ce_db::DbError::Query(diesel::result::Error::NotFound),
            false,
        ),
    ] {
        let fault = Arc::new(std::sync::Mutex::new(Some(fault)));
        let failing =
            StatusReads::start(
                db.clone(),
                1,
                64,
                move |conn, keys: &[(String, i32)]| match fault.lock().unwrap().take() {
                    Some(e) => Err(e),
                    None => statuses_by_key(conn, keys),
                },
            );
        let mut reads = tokio::task::JoinSet::new();
        for i in 0..3 {
            let b = failing.clone();
            reads.spawn(async move { b.get((format!("e{i:03}"), 2026)).await });
        }
        while let Some(read) = reads.join_next().await {
            match read.unwrap() {
                Err(ce_db::DbError::Unavailable(_)) => assert!(unavailable),
                Err(ce_db::DbError::Task(_)) => assert!(!unavailable),
                other => panic!("{backend:?}: a read of the failed batch got {other:?}"),
            }
        }
        // The next batch runs again.
        assert!(failing.get(("e002".into(), 2026)).await.unwrap().is_some());
    }
}

#[derive(QueryableByName)]
struct Compression {
    #[diesel(sql_type = Text)]
    method: String,
}

/// Stored statuses' bodies are compressed with LZ4 where the server has it
/// (see crediting's migrations `2026-01-09-000000_status_lz4` and
/// `2026-01-15-000000_status_verdict`), and read back the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_statuses_are_compressed_with_lz4() {
    let place = Place::new(Backend::Postgres);
    let db = crediting_db(&place, 1);
    let mut conn = db.connection().unwrap();
    let method = |conn: &mut DbConnection, sql: &str| {
        diesel::sql_query(sql)
            .load::<Compression>(conn)
            .unwrap()
            .remove(0)
            .method
    };
    let has_lz4 = conn
        .batch_execute("SET default_toast_compression = lz4")
        .is_ok();
    conn.batch_execute("RESET default_toast_compression")
        .unwrap();
    let set = method(
        &mut conn,
        "SELECT attcompression::text AS method FROM pg_attribute \
         WHERE attrelid = 'annual_status_bodies'::regclass AND attname = 'body'",
    );
    assert_eq!(set, if has_lz4 { "l" } else { "" });

    let mut write = status_write("e001", 2026);
    write.body = Some((0..4000u32).flat_map(|i| (i % 251).to_le_bytes()).collect());
    crediting::store::put_status(&mut conn, &write).unwrap();
    let stored = method(
        &mut conn,
        "SELECT coalesce(pg_column_compression(body), 'none') AS method \
         FROM annual_status_bodies WHERE engineer_id = 'e001'",
    );
    assert_eq!(stored, if has_lz4 { "lz4" } else { "pglz" });
    let back = crediting::store::get_status(&mut conn, "e001", 2026)
        .unwrap()
        .unwrap();
    assert_eq!(back, as_read(&write));
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// On SQLite, the lookups of given engineers' records are planned by
/// engineer, not by state: planned by the `(state, id)` index, each message
/// of a bulk upload read every confirmed record stored so far. The plan is
/// asked of the very SQL each function sends, caught as it runs.
#[tokio::test]
async fn sqlite_looks_records_up_by_engineer() {
    use crediting::store;

    let place = Place::new(Backend::Sqlite);
    let db = crediting_db(&place, 1);
    let mut conn = db.connection().unwrap();
    assert!(
        matches!(&*conn, DbConnection::Sqlite(_)),
        "a SQLite place gives SQLite connections"
    );
    let caught = ce_tests::catch_queries(&mut conn);
    let engineers: Vec<String> = (0..100).map(|i| format!("e{i:03}")).collect();
    use ce_proto::crediting::RecordState::{Confirmed, Rejected};
    type Lookup<'a> = (&'static str, &'a dyn Fn(&mut DbConnection));
    let lookups: [Lookup; 5] = [
        ("records_of", &|c| {
            store::records_of(c, &engineers, 2026, &[Confirmed, Rejected]).unwrap();
        }),
        ("records_for_rules_of", &|c| {
            store::records_for_rules_of(c, &engineers, 2026, &[Confirmed]).unwrap();
        }),
        ("explanations_of", &|c| {
            store::explanations_of(c, &engineers, 2026, &[Confirmed]).unwrap();
        }),
        ("make_up_records", &|c| {
            store::make_up_records(c, "e001", 2026, &[Confirmed]).unwrap();
        }),
        ("list_records", &|c| {
            let filter = store::RecordFilter {
                engineer_id: Some("e001".into()),
                state: Some(2),
                ..Default::default()
            };
            store::list_records(c, &filter, None, 50).unwrap();
        }),
    ];
    for (name, lookup) in lookups {
        caught.lock().unwrap().clear();
        lookup(&mut conn);
        let sql = caught
            .lock()
            .unwrap()
            .iter()
            .find(|q| q.contains("FROM `hour_records`"))
            .cloned()
            .unwrap_or_else(|| panic!("{name} queried hour_records"));
        // The SQL without its binds, each placeholder a literal (the plan
        // does not depend on the values).
        let sql = sql.split(" -- binds:").next().unwrap().replace('?', "0");
        let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<PlanLine>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|l| l.detail)
            .collect();
        assert!(
            plan.iter()
                .any(|l| l.contains("hour_records_engineer_year"))
                && !plan.iter().any(|l| l.contains("hour_records_state")),
            "{name} is planned {plan:?}"
        );
    }
}

#[derive(QueryableByName)]
struct IndexName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// On SQLite the change feed's sequence number is the table's rowid
/// (2026-01-10): no unique index beside it to write for every change.
/// The changes stored before the migration keep their numbers through it,
/// and through its reversal.
#[tokio::test]
async fn sqlite_feed_sequence_is_the_rowid_and_changes_survive_the_migration() {
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Change {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = Text)]
        resource_id: String,
    }
    fn changes(conn: &mut SqliteConnection) -> Vec<Change> {
        diesel::sql_query("SELECT seq, resource_id FROM changes ORDER BY seq")
            .load(conn)
            .unwrap()
    }
    /// The names of the table's indexes, automatic ones included.
    fn indexes(conn: &mut SqliteConnection) -> Vec<String> {
        let mut names: Vec<String> =
            diesel::sql_query("SELECT name FROM pragma_index_list('changes')")
                .load::<IndexName>(conn)
                .unwrap()
                .into_iter()
                .map(|i| i.name)
                .collect();
        names.sort();
        names
    }
    let place = Place::new(Backend::Sqlite);
    let db = crediting_db(&place, 1);
    let mut conn = db.connection().unwrap();
    let DbConnection::Sqlite(lite) = &mut *conn else {
        panic!("a SQLite place gives SQLite connections");
    };
    assert_eq!(indexes(lite), ["changes_province"]);
    lite.batch_execute(
        "INSERT INTO changes (seq, kind, resource_id, year, province, create_micros) VALUES \
         (7, 2, 'e7', 2026, '35', 1), (9, 2, 'e9', 2026, '35', 2)",
    )
    .unwrap();
    let stored = changes(lite);
    assert_eq!(stored.len(), 2);

    // Back to before `2026-01-10-000000_changes_rowid`, through any later ones.
    revert_through(lite, || crediting::migrations().sqlite, "20260110");
    assert_eq!(
        indexes(lite),
        ["changes_province", "sqlite_autoindex_changes_1"],
        "reverted: the sequence number is a unique column beside the rowid again"
    );
    assert_eq!(changes(lite), stored);

    lite.run_pending_migrations(crediting::migrations().sqlite)
        .unwrap();
    assert_eq!(indexes(lite), ["changes_province"]);
    assert_eq!(changes(lite), stored);
}

/// `Engineer.place_sequence` (2026-01-12) starts, for the engineers already
/// stored, at their last change of place in `engineer_changes`, and at 0
/// for one who never moved.
async fn registry_place_sequence_starts_at_each_engineers_last_change(b: Backend) {
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Placed {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        place_sequence: i64,
    }
    let place = Place::new(b);
    let url = place.config("registry").database.url;
    let db = ce_db::Db::connect(&url, 1, registry::migrations()).unwrap();
    let mut conn = db.connection().unwrap();
    match &mut *conn {
        DbConnection::Pg(c) => revert_through(c, || registry::migrations().postgres, "20260112"),
        DbConnection::Sqlite(c) => revert_through(c, || registry::migrations().sqlite, "20260112"),
    }
    let sql = "INSERT INTO engineers (id, id_number, display_name, province, field, title_level, \
               employer_id, create_micros, update_micros) VALUES \
               ('moved', 'n1', 'Moved Twice', '31', 1, 1, NULL, 1, 1), \
               ('stayed', 'n2', 'Never Moved', '44', 1, 1, NULL, 1, 1), \
               ('other', 'n3', 'Moved Once', '35', 1, 1, NULL, 1, 1); \
               INSERT INTO engineer_changes (sequence, engineer_id, province, employer_id, field, \
               change_micros) VALUES \
               (1, 'moved', '44', NULL, 1, 1), (2, 'other', '35', NULL, 1, 2), \
               (3, 'moved', '31', NULL, 1, 3)";
    conn.batch_execute(sql).unwrap();
    match &mut *conn {
        DbConnection::Pg(c) => c
            .run_pending_migrations(registry::migrations().postgres)
            .map(drop),
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(registry::migrations().sqlite)
            .map(drop),
    }
    .unwrap();
    let placed: Vec<Placed> =
        diesel::sql_query("SELECT id, place_sequence FROM engineers ORDER BY id")
            .load(&mut *conn)
            .unwrap();
    assert_eq!(
        placed,
        [
            Placed {
                id: "moved".into(),
                place_sequence: 3
            },
            Placed {
                id: "other".into(),
                place_sequence: 2
            },
            Placed {
                id: "stayed".into(),
                place_sequence: 0
            },
        ]
    );
}

both_backends!(registry_place_sequence_starts_at_each_engineers_last_change);

/// Every pooled connection at work until the wait runs out is "busy, retry"
/// (RESOURCE_EXHAUSTED), not "the database is unavailable": the service is
/// up, and health stays SERVING.
#[tokio::test]
async fn a_pool_with_every_connection_at_work_is_busy_not_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("busy.db").display());
    let db = ce_db::Db::connect(&url, 1, registry::migrations()).unwrap();
    let held = db.connection().unwrap();
    let waited = db.read(|_| Ok::<_, ce_db::DbError>(())).await.unwrap_err();
    assert!(matches!(waited, ce_db::DbError::Busy(_)), "{waited:?}");
    let answered = ce_server::ApiError::from(waited);
    assert_eq!(answered.code(), tonic::Code::ResourceExhausted);
    assert!(answered.to_string().contains("retry"), "{answered}");
    drop(held);
    db.read(|_| Ok::<_, ce_db::DbError>(())).await.unwrap();
}

/// Crediting's migrations against `conn`: reverted newest first through the
/// one whose version starts with `version` (`up` false), or every pending
/// one applied (`up` true).
fn crediting_migrations(conn: &mut DbConnection, version: &str, up: bool) {
    match (conn, up) {
        (DbConnection::Pg(c), false) => {
            revert_through(c, || crediting::migrations().postgres, version)
        }
        (DbConnection::Sqlite(c), false) => {
            revert_through(c, || crediting::migrations().sqlite, version)
        }
        (DbConnection::Pg(c), true) => {
            c.run_pending_migrations(crediting::migrations().postgres)
                .unwrap();
        }
        (DbConnection::Sqlite(c), true) => {
            c.run_pending_migrations(crediting::migrations().sqlite)
                .unwrap();
        }
    }
}

/// Crediting's migration `2026-01-15-000000_status_verdict`: reverted, or
/// applied.
fn status_verdict_migration(conn: &mut DbConnection, up: bool) {
    crediting_migrations(conn, "20260115", up);
}

/// A whole status, as the service stored one before bodies were kept
/// apart: explanations, figures, and a time with nanoseconds.
fn old_status(engineer: &str) -> ce_proto::crediting::AnnualStatus {
    use ce_proto::crediting::{AnnualState, AnnualStatus, Explanation, RecordExplanation};
    AnnualStatus {
        name: format!("engineers/{engineer}/annualStatuses/2026"),
        engineer: format!("engineers/{engineer}"),
        year: 2026,
        state: AnnualState::InProgress as i32,
        total_hours: 42.5,
        professional_hours: 30.0,
        public_hours: 12.5,
        shortfall_total_hours: 47.5,
        shortfall_professional_hours: 30.0,
        rule_set: "national-2026".into(),
        province: "44".into(),
        explanations: vec![RecordExplanation {
            hour_record: "hourRecords/r1".into(),
            explanation: Some(Explanation {
                text: "a course".into(),
                ..Default::default()
            }),
        }],
        update_time: Some(prost_types::Timestamp {
            seconds: 1_780_000_000,
            nanos: 123_456_000,
        }),
        ..Default::default()
    }
}

/// The stored encoding of every status, by engineer, decoded, read as the
/// schema before `2026-01-15` keeps it (one `status` column).
fn old_statuses(conn: &mut DbConnection) -> Vec<(String, ce_proto::crediting::AnnualStatus)> {
    use prost::Message;
    #[derive(QueryableByName)]
    struct Old {
        #[diesel(sql_type = Text)]
        engineer_id: String,
        #[diesel(sql_type = diesel::sql_types::Binary)]
        status: Vec<u8>,
    }
    diesel::sql_query("SELECT engineer_id, status FROM annual_statuses ORDER BY engineer_id")
        .load::<Old>(conn)
        .unwrap()
        .into_iter()
        .map(|o| {
            let s = ce_proto::crediting::AnnualStatus::decode(o.status.as_slice()).unwrap();
            (o.engineer_id, s)
        })
        .collect()
}

/// Every status as the service reads it now, decoded.
fn statuses_now(conn: &mut DbConnection) -> Vec<(String, ce_proto::crediting::AnnualStatus)> {
    ["closed", "old"]
        .into_iter()
        .filter_map(|e| crediting::store::get_status(conn, e, 2026).unwrap())
        .map(|r| {
            (
                r.engineer_id.clone(),
                crediting::convert::decode_status(&r).unwrap(),
            )
        })
        .collect()
}

/// A status stored before bodies were kept apart reads the same after the
/// migration; a close then moves its verdict alone, and the verdict's
/// state and time stand over the old body's (nanoseconds included, though
/// the new time has none); down and up again carry both statuses over,
/// each reading as before.
async fn statuses_stored_before_bodies_read_the_same_after_up_down_and_up(b: Backend) {
    use ce_proto::crediting::AnnualState;
    use prost::Message;
    let place = Place::new(b);
    let db = crediting_db(&place, 1);
    let mut conn = db.connection().unwrap();
    status_verdict_migration(&mut conn, false);
    let old = old_status("old");
    diesel::sql_query(
        "INSERT INTO annual_statuses (engineer_id, year, province, field, employer_id, state, \
         total_centi, professional_centi, status, computed_on, update_micros, status_digest) \
         VALUES ('old', 2026, '44', 1, NULL, 1, 4250, 3000, $1, '2026-05-30', 1780000000123456, 7)",
    )
    .bind::<diesel::sql_types::Binary, _>(old.encode_to_vec())
    .execute(&mut *conn)
    .unwrap();

    status_verdict_migration(&mut conn, true);
    assert_eq!(statuses_now(&mut conn), [("old".to_owned(), old.clone())]);
    let head = crediting::store::get_status(&mut conn, "old", 2026)
        .unwrap()
        .unwrap()
        .head;
    assert_eq!(
        (head.body_digest, head.rule_set.as_deref()),
        (None, None),
        "unknown until reassessed"
    );

    // Closed: a new state at a whole second, over the old body.
    let at = 1_800_000_000_000_000;
    let verdict = crediting::convert::status_verdict(AnnualState::NonCompliant, false, at);
    let moved = crediting::store::close_verdicts(
        &mut conn,
        &crediting::store::Close {
            year: 2026,
            province: "44",
            from: AnnualState::InProgress,
            to: AnnualState::NonCompliant,
            verdict: &verdict,
            on: "2027-01-05",
            at_micros: at,
        },
    )
    .unwrap();
    assert_eq!(moved, ["old".to_owned()]);
    let closed_old = ce_proto::crediting::AnnualStatus {
        state: AnnualState::NonCompliant as i32,
        update_time: Some(prost_types::Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }),
        ..old.clone()
    };
    // A status written since: its body without the verdict's fields.
    let mut closed = old_status("closed");
    closed.state = AnnualState::MadeUp as i32;
    closed.complete = true;
    closed.update_time = Some(prost_types::Timestamp {
        seconds: 1_790_000_000,
        nanos: 5_000,
    });
    let body = crediting::convert::status_body(&closed);
    crediting::store::put_status(
        &mut conn,
        &crediting::store::StatusWrite {
            head: crediting::store::StatusHead {
                engineer_id: "closed".into(),
                state: closed.state,
                update_micros: 1_790_000_000_000_005,
                body_digest: Some(crediting::store::status_digest(&body)),
                rule_set: Some("national-2026@1".into()),
                ..head.clone()
            },
            verdict: crediting::convert::status_verdict(
                AnnualState::MadeUp,
                true,
                1_790_000_000_000_005,
            ),
            body: Some(body),
        },
    )
    .unwrap();
    let now = vec![
        ("closed".to_owned(), closed.clone()),
        ("old".to_owned(), closed_old.clone()),
    ];
    assert_eq!(statuses_now(&mut conn), now);

    status_verdict_migration(&mut conn, false);
    assert_eq!(
        old_statuses(&mut conn),
        now,
        "down: one encoding a status, as read"
    );
    status_verdict_migration(&mut conn, true);
    assert_eq!(statuses_now(&mut conn), now, "up again");
}

both_backends!(statuses_stored_before_bodies_read_the_same_after_up_down_and_up);

/// Crediting's `2026-01-16-000000_record_feed` moves each record's last
/// feed position from `changes` onto the record, leaves every other change
/// where it was, and back again on the way down; reading the feed gives
/// the same positions before and after.
async fn records_take_their_feed_positions_with_them(b: Backend) {
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Change {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        kind: i32,
        #[diesel(sql_type = Text)]
        resource_id: String,
    }
    fn changes(conn: &mut DbConnection) -> Vec<Change> {
        diesel::sql_query("SELECT seq, kind, resource_id FROM changes ORDER BY seq")
            .load(conn)
            .unwrap()
    }
    fn migration(conn: &mut DbConnection, up: bool) {
        crediting_migrations(conn, "20260116", up);
    }
    let place = Place::new(b);
    let db = crediting_db(&place, 1);
    let mut conn = db.connection().unwrap();
    migration(&mut conn, false);
    // Record r1 created (1) and confirmed (3); r2 created (4); a status (2).
    let blob = match b {
        Backend::Postgres => "'\\x00'::bytea",
        Backend::Sqlite => "X'00'",
    };
    conn.batch_execute(&format!(
        "INSERT INTO hour_records (id, engineer_id, year, province, field, route, state, \
         activity, registry_activity, submitted_by, submitted_role, submitter, content_digest, \
         create_micros, update_micros, last_year) VALUES \
         ('r1', 'e1', 2026, '44', 1, 1, 2, {blob}, '', 's', 'r', 's', 'd1', 1, 3, 2026), \
         ('r2', 'e1', 2026, '44', 1, 1, 1, {blob}, '', 's', 'r', 's', 'd2', 4, 4, 2026), \
         ('r3', 'e1', 2026, '44', 1, 1, 1, {blob}, '', 's', 'r', 's', 'd3', 5, 5, 2026); \
         INSERT INTO changes (seq, kind, resource_id, year, province, create_micros) VALUES \
         (1, 1, 'r1', 2026, '44', 1), (2, 2, 'e1', 2026, '44', 2), \
         (3, 1, 'r1', 2026, '44', 3), (4, 1, 'r2', 2026, '44', 4); \
         UPDATE feed_head SET seq = 4;"
    ))
    .unwrap();
    let before = changes(&mut conn);
    migration(&mut conn, true);
    let page = crediting::store::feed::after(&mut conn, 0, None, 100).unwrap();
    let read: Vec<(i64, i32, String)> = page
        .iter()
        .map(|c| (c.seq, c.kind, c.resource_id.clone()))
        .collect();
    assert_eq!(
        read,
        [
            (2, 2, "e1".to_owned()),
            (3, 1, "r1".to_owned()),
            (4, 1, "r2".to_owned())
        ],
        "each record at its last position; r3, never in the feed, is not"
    );
    assert_eq!(
        changes(&mut conn),
        [Change {
            seq: 2,
            kind: 2,
            resource_id: "e1".into()
        }],
        "no copy of a record is left in changes"
    );
    migration(&mut conn, false);
    let back = changes(&mut conn);
    assert_eq!(
        back,
        before
            .into_iter()
            .filter(|c| c.seq != 1)
            .collect::<Vec<_>>(),
        "down: each record's last position as a change again"
    );
    migration(&mut conn, true);
    let again = crediting::store::feed::after(&mut conn, 0, None, 100).unwrap();
    assert_eq!(again.len(), 3);
}

both_backends!(records_take_their_feed_positions_with_them);

/// Certificates issued before status lists get their numbers in the order
/// they were issued, and the next certificate the number after them; a
/// revoked one's number is in the list's revoked bits.
async fn certificates_issued_before_status_lists_get_their_numbers(b: Backend) {
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Numbered {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        status_index: i64,
    }
    let place = Place::new(b);
    let db = crediting_db(&place, 1);
    let mut conn = db.connection().unwrap();
    crediting_migrations(&mut conn, "20260117", false);
    conn.batch_execute(
        "INSERT INTO hour_certificates (id, engineer_id, year, province, field, employer_id, \
         credential, issued_by, create_micros, revoke_micros, revocation_reason) VALUES \
         ('c-second', 'e1', 2026, '44', 1, NULL, '{}', 'x', 20, 30, 'superseded'), \
         ('c-first', 'e2', 2026, '44', 1, NULL, '{}', 'x', 10, NULL, NULL), \
         ('c-third', 'e1', 2026, '44', 1, NULL, '{}', 'x', 40, NULL, NULL)",
    )
    .unwrap();
    crediting_migrations(&mut conn, "", true);
    let numbered: Vec<Numbered> =
        diesel::sql_query("SELECT id, status_index FROM hour_certificates ORDER BY status_index")
            .load(&mut *conn)
            .unwrap();
    let expected = [("c-first", 0), ("c-second", 1), ("c-third", 2)].map(|(id, i)| Numbered {
        id: id.into(),
        status_index: i,
    });
    assert_eq!(numbered, expected);
    use crediting::store::certificates as certs;
    assert_eq!(certs::status_indexes_given(&mut conn).unwrap(), 3);
    // New numbers are drawn at random among the free ones of the lists in
    // use (one list while at most half of it is given), and counted.
    for given in [4, 5] {
        let drawn = certs::allocate_status_index(&mut conn).unwrap();
        assert!((3..131_072).contains(&drawn), "{drawn}");
        assert_eq!(certs::status_indexes_given(&mut conn).unwrap(), given);
    }
    assert_eq!(certs::revoked_indexes(&mut conn, 0, 131_072).unwrap(), [1]);
    assert!(
        certs::revoked_indexes(&mut conn, 2, 131_072)
            .unwrap()
            .is_empty()
    );
}

both_backends!(certificates_issued_before_status_lists_get_their_numbers);
