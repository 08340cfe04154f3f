//! Closes 2026 on a copy of a database a bench run left behind, twice (the
//! second close finds nothing changed), and times both against the bench's
//! `GROUP BY`: the close's part of `make bench` without seeding and
//! uploading a million records each time. Runs of it differ by the noise
//! of the machine, so compare two builds by taking turns.
//!
//! ```sh
//! # once: a run that stops after the upload (no part is called `upload`,
//! # and the upload always runs), its databases kept; crediting's is the
//! # one with `hour_records`, the second the bench made
//! CE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   CE_TEST_KEEP_DATABASES=1 CE_BENCH_ONLY=upload target/release/ce-bench
//! # then, as often as needed: each run closes a fresh copy (CREATE DATABASE … TEMPLATE)
//! CE_TEST_POSTGRES_URL=… cargo run --release -p ce-bench --example close_again -- <database>
//! ```
//!
//! It prints where each close starts and ends on `CLOCK_MONOTONIC`, for
//! `perf record -a -k CLOCK_MONOTONIC` and `perf report --time <from>,<to>`
//! (how the close's CPU divides between PostgreSQL and the service).
// A tool run by hand, like the bench: a failure is a panic with its cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use diesel::{Connection, PgConnection, RunQueryDsl};

// As the services and the bench: the allocator is part of what is measured.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The day the bench closes 2026 on.
const NEW_YEAR: time::Date = time::macros::date!(2027 - 01 - 05);

fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    format!("{root}/{name}{query}")
}

#[tokio::main]
async fn main() {
    let server = std::env::var("CE_TEST_POSTGRES_URL").expect("CE_TEST_POSTGRES_URL");
    let template = std::env::args()
        .nth(1)
        .expect("the name of the kept crediting database");
    let copy = format!("{template}_close");
    ce_db::init_libpq();
    {
        let mut admin = PgConnection::establish(&ce_db::libpq_url(&server)).unwrap();
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{copy}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{copy}\" TEMPLATE \"{template}\""),
        ] {
            diesel::sql_query(sql).execute(&mut admin).unwrap();
        }
    }
    let url = with_database(&server, &copy);
    let db = ce_db::Db::connect(&url, 4, crediting::migrations()).unwrap();
    {
        let mut conn = PgConnection::establish(&ce_db::libpq_url(&url)).unwrap();
        for sql in ["VACUUM (ANALYZE)", "CHECKPOINT"] {
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        }
    }
    let rules = Arc::new(ce_rules::RuleBook::national());
    let feed = crediting::feed::Feed::default();
    // The phases' bounds on CLOCK_MONOTONIC, for `perf record -k CLOCK_MONOTONIC --time`.
    let t = Instant::now();
    eprintln!("close from {t:?}");
    let first = crediting::sweep::reassess(&db, &feed, &rules, NEW_YEAR, 2026, None)
        .await
        .unwrap();
    let close = t.elapsed().as_secs_f64();
    let t = Instant::now();
    eprintln!("again from {t:?}");
    crediting::sweep::reassess(&db, &feed, &rules, NEW_YEAR, 2026, None)
        .await
        .unwrap();
    let again = t.elapsed().as_secs_f64();
    eprintln!("again until {:?}", Instant::now());
    let group = tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&ce_db::libpq_url(&url)).unwrap();
        (0..3)
            .map(|_| {
                let t = Instant::now();
                diesel::sql_query(
                    "SELECT engineer_id, COUNT(*), SUM(LENGTH(activity)), \
                     SUM(LENGTH(explanation)), MAX(update_micros) FROM hour_records \
                     WHERE year = 2026 AND state IN (2, 4) GROUP BY engineer_id",
                )
                .execute(&mut conn)
                .unwrap();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    })
    .await
    .unwrap();
    println!(
        "close {close:.2} s ({} engineers, {:.2}×), again {again:.2} s ({:.2}×), GROUP BY {group:.2} s",
        first.reassessed,
        close / group,
        again / group
    );
    drop(db);
    let mut admin = PgConnection::establish(&ce_db::libpq_url(&server)).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{copy}\" WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
}
