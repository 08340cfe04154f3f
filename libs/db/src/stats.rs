//! Planner statistics kept fresh after bulk writes.
//!
//! PostgreSQL plans a query from the statistics `ANALYZE` gathers. A table
//! that was never analyzed is planned from defaults: `engineer_id =
//! ANY($1)` over a hundred engineers is then guessed to match half the
//! table, and the planner reads an index over every row of the table
//! instead (measured: a bulk message's status lookup read all 20,000
//! statuses of the year to find 100). Each message of a bulk upload then
//! costs as much as the table is large, until autovacuum analyzes, which it
//! does at most once a minute (`autovacuum_naptime`) and only after 10% of
//! the table changed. A provincial system loading a million records into a
//! fresh database is planned as if the table were empty for most of it.
//!
//! PostgreSQL's own advice for bulk loading is to run `ANALYZE` afterwards
//! ("Populating a Database"). [`Db::note_bulk_rows`] does that while the
//! load runs: every [`CHECK_EVERY`] rows it checks, in the background, which
//! tables changed by more than a fifth since they were last analyzed, and
//! analyzes those. Long batch jobs (closing a year) call
//! [`Db::refresh_statistics`] before they start. SQLite needs neither: its
//! planner uses an index for `IN (…)` without statistics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Text};

use crate::{Db, DbConnection, DbError};

/// Rows noted between two checks.
pub const CHECK_EVERY: u64 = 5_000;

/// A table is stale once more rows than this changed since it was last
/// analyzed, plus a fifth of its rows then. Autovacuum's own threshold is
/// 50 plus a tenth, checked once a minute; this one is checked as the rows
/// arrive, so it can afford to wait for more.
const STALE_ROWS: f64 = 1_000.0;
const STALE_FRACTION: f64 = 0.2;

/// What a [`Db`] remembers between checks; shared by its clones.
#[derive(Default)]
pub(crate) struct Freshness {
    /// Rows noted since the last check.
    pending: AtomicU64,
    /// Rows noted since the tables were last analyzed by this process: the
    /// server's own counters reach `pg_stat_user_tables` up to a second
    /// late, and this process knows what it wrote.
    unanalyzed: AtomicU64,
    /// A check is running: at most one at a time per process.
    running: AtomicBool,
}

#[derive(QueryableByName)]
struct TableChanges {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Double)]
    tuples: f64,
    #[diesel(sql_type = BigInt)]
    modified: i64,
}

/// Whether a table of about `tuples` rows (negative: never analyzed) with
/// `modified` rows changed since its last analysis needs a new one.
fn stale(tuples: f64, modified: i64) -> bool {
    modified as f64 > STALE_ROWS + STALE_FRACTION * tuples.max(0.0)
}

/// Analyzes those of `tables` that are stale, counting `known` changed
/// rows the server may not report yet; returns the tables analyzed.
fn analyze_stale(
    conn: &mut DbConnection,
    tables: &[&str],
    known: u64,
) -> Result<Vec<String>, DbError> {
    let DbConnection::Pg(c) = conn else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = tables.iter().map(|t| (*t).to_owned()).collect();
    let changes: Vec<TableChanges> = diesel::sql_query(
        "SELECT c.relname::text AS name, c.reltuples::float8 AS tuples, \
                COALESCE(s.n_mod_since_analyze, 0)::int8 AS modified \
         FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
         WHERE c.oid IN (SELECT to_regclass(t)::oid FROM unnest($1::text[]) AS t)",
    )
    .bind::<Array<Text>, _>(&names)
    .load(c)?;
    let mut analyzed = Vec::new();
    for t in changes {
        if stale(t.tuples, t.modified.max(known as i64)) {
            // The name is one of `tables`, which come from code.
            c.batch_execute(&format!("ANALYZE \"{}\"", t.name.replace('"', "\"\"")))?;
            analyzed.push(t.name);
        }
    }
    Ok(analyzed)
}

impl Db {
    /// Notes that a bulk write stored `rows` rows in `tables`; every
    /// [`CHECK_EVERY`] rows, the stale ones among `tables` are analyzed in
    /// the background. Cheap enough to call after every message. Must be
    /// called inside a tokio runtime.
    pub fn note_bulk_rows(&self, rows: u64, tables: &'static [&'static str]) {
        if self.backend() != crate::Backend::Postgres || rows == 0 {
            return;
        }
        let f = &self.freshness;
        f.unanalyzed.fetch_add(rows, Ordering::Relaxed);
        if f.pending.fetch_add(rows, Ordering::Relaxed) + rows < CHECK_EVERY {
            return;
        }
        if f.running.swap(true, Ordering::AcqRel) {
            return;
        }
        f.pending.store(0, Ordering::Relaxed);
        let db = self.clone();
        tokio::spawn(async move {
            if let Err(e) = db.refresh_statistics(tables).await {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
            }
            db.freshness.running.store(false, Ordering::Release);
        });
    }

    /// Analyzes those of `tables` whose planner statistics are missing or
    /// stale (see the module); returns which. On SQLite, none.
    pub async fn refresh_statistics(
        &self,
        tables: &'static [&'static str],
    ) -> Result<Vec<String>, DbError> {
        let freshness: Arc<Freshness> = self.freshness.clone();
        let known = freshness.unanalyzed.load(Ordering::Relaxed);
        let analyzed = self
            .read(move |conn| analyze_stale(conn, tables, known))
            .await?;
        if !analyzed.is_empty() {
            freshness.unanalyzed.fetch_sub(known, Ordering::Relaxed);
            tracing::info!(tables = ?analyzed, "planner statistics refreshed");
        }
        Ok(analyzed)
    }
}

#[cfg(test)]
mod tests {
    use super::stale;

    #[test]
    fn a_table_is_stale_after_a_fifth_of_it_changed() {
        // Never analyzed (reltuples -1): a thousand rows are enough.
        assert!(!stale(-1.0, 1_000));
        assert!(stale(-1.0, 1_001));
        // A million rows: 201,000 changes.
        assert!(!stale(1e6, 201_000));
        assert!(stale(1e6, 201_001));
    }
}
