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
    let url = place.config("crediting").database.url;
    let db = ce_db::Db::connect(&url, 2, crediting::migrations()).unwrap();
    let mut conn = db.connection().unwrap();
    conn.batch_execute(
        "CREATE TABLE bulk_probe (id INTEGER PRIMARY KEY, engineer_id TEXT NOT NULL); \
         INSERT INTO bulk_probe SELECT i, 'e' || (i % 97) FROM generate_series(1, 800) AS i",
    )
    .unwrap();
    const PROBE: &[&str] = &["bulk_probe"];

    // Fewer rows than a check needs: nothing is analyzed.
    db.note_bulk_rows(800, PROBE);
    assert_eq!(
        db.refresh_statistics(PROBE).await.unwrap(),
        Vec::<String>::new()
    );
    assert!(!analyzed(&mut conn, "bulk_probe"));

    // A load past the check size is analyzed in the background.
    conn.batch_execute(
        "INSERT INTO bulk_probe SELECT i, 'e' || (i % 97) FROM generate_series(801, 8000) AS i",
    )
    .unwrap();
    db.note_bulk_rows(7_200, PROBE);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !analyzed(&mut conn, "bulk_probe") {
        assert!(
            std::time::Instant::now() < deadline,
            "bulk_probe was not analyzed within 30 s of 8000 rows"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Fresh now: an explicit refresh finds nothing to do.
    assert_eq!(
        db.refresh_statistics(PROBE).await.unwrap(),
        Vec::<String>::new()
    );

    // SQLite: nothing to refresh, and noting rows is harmless.
    let lite = Place::new(Backend::Sqlite);
    let db = ce_db::Db::connect(
        &lite.config("crediting").database.url,
        1,
        crediting::migrations(),
    )
    .unwrap();
    db.note_bulk_rows(1_000_000, PROBE);
    assert_eq!(
        db.refresh_statistics(PROBE).await.unwrap(),
        Vec::<String>::new()
    );
}
