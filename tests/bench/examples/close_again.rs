//! Closes 2026 on a copy of a database a bench run left behind, twice (the
//! second close finds nothing to do), then reassesses it after a rule-set
//! change and assesses it again in memory (the reassessment's CPU floor),
//! and times them all against the bench's `GROUP BY`: the close
//! part of `make bench` without seeding and uploading a million records
//! each time. Runs of it differ by the noise of the machine, so compare two
//! builds by taking turns.
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
//! It prints where each phase starts and ends on `CLOCK_MONOTONIC`, for
//! `perf record -a -k CLOCK_MONOTONIC` and `perf report --time <from>,<to>`
//! (how the close's CPU divides between PostgreSQL and the service).
// A tool run by hand, like the bench: a failure is a panic with its cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use ce_bench::close;
use diesel::{Connection, PgConnection, RunQueryDsl};

// As the services and the bench: the allocator is part of what is measured.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    format!("{root}/{name}{query}")
}

/// Closes 2026 twice on a copy of crediting's database from a bench run
/// (CE_TEST_POSTGRES_URL names the server), then reassesses it under
/// changed rules, timed against the bench's GROUP BY.
#[derive(clap::Parser)]
struct Args {
    /// The crediting database a bench run kept (CE_TEST_KEEP_DATABASES=1).
    database: String,
}

#[tokio::main]
async fn main() {
    let template = <Args as clap::Parser>::parse().database;
    let server = std::env::var("CE_TEST_POSTGRES_URL").expect("CE_TEST_POSTGRES_URL");
    let copy = format!("{template}_close");
    ce_db::init_libpq();
    let admin = || PgConnection::establish(&ce_db::libpq_url(&server)).unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{copy}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{copy}\" TEMPLATE \"{template}\""),
    ] {
        diesel::sql_query(sql).execute(&mut admin()).unwrap();
    }
    let url = with_database(&server, &copy);
    // Settled as the bench's reads find it.
    let mut conn = PgConnection::establish(&ce_db::libpq_url(&url)).unwrap();
    for sql in ["VACUUM (ANALYZE)", "CHECKPOINT"] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    drop(conn);
    // The phases' bounds on CLOCK_MONOTONIC, for `perf report --time`.
    let phase = |phase: &str| eprintln!("{phase} at {:?}", Instant::now());
    let closed = close::close_twice(&url, phase).await;
    let recomputed = close::reassess_with(&url, close::changed_rules(), phase).await;
    let (assess, _) = close::assess_in_memory(&url, &close::changed_rules()).await;
    let group_url = url.clone();
    let [group] =
        tokio::task::spawn_blocking(move || close::best_of_three(&group_url, [close::GROUP_BY]))
            .await
            .unwrap();
    println!(
        "close {:.2} s ({} years moved, {:.2}×), again {:.2} s ({} moved, {:.2}×), \
         recompute after a rule-set change {:.2} s ({} statuses: {} rewritten, {} rule set only, {} unchanged; {:.2}×), \
         assessed in memory on one core {assess:.2} s ({:.2}×), GROUP BY {group:.2} s",
        closed.close_secs,
        closed.first.reassessed,
        closed.close_secs / group,
        closed.again_secs,
        closed.again.reassessed,
        closed.again_secs / group,
        recomputed.secs,
        recomputed.statuses,
        recomputed.rewritten,
        recomputed.rule_set_only,
        recomputed.unchanged,
        recomputed.secs / group,
        assess / group
    );
    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{copy}\" WITH (FORCE)"))
        .execute(&mut admin())
        .unwrap();
}
