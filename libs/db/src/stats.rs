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
//! tables were never analyzed or have about doubled since they last were,
//! and analyzes those. Long batch jobs (closing a year) call
//! [`Db::refresh_statistics`] before they start. On SQLite both do nothing:
//! its planner uses an index for `IN (…)` without statistics, but given a
//! choice between a list on one column and an equality on another it takes
//! the equality, so queries that must go by the list are written so no
//! other index can serve them (crediting's `store::counted_in`).
//!
//! Why doubling, not autovacuum's tenth: the planner scales a table's row
//! count by its current size in pages whatever its statistics' age, so
//! what goes stale is only the shape of the data (distinct values, common
//! values), which a bulk load of id-keyed rows keeps. An `ANALYZE` samples
//! 30,000 rows whatever the table's size (a third of a second on a million
//! records, measured), so analyzing at every fifth of growth cost a load of
//! a million records some thirty analyses of each table; at each doubling,
//! eight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Text};

use crate::{Db, DbConnection, DbError};

/// Rows noted between two checks.
pub const CHECK_EVERY: u64 = 5_000;

/// A table is stale once more rows than this changed since it was last
/// analyzed, plus as many as it had then (see the module). Autovacuum's own
/// threshold is 50 plus a tenth, checked once a minute.
const STALE_ROWS: f64 = 1_000.0;
const STALE_FRACTION: f64 = 1.0;

/// What a [`Db`] remembers between checks; shared by its clones.
#[derive(Default)]
pub(crate) struct Freshness {
    /// Rows noted since the last check.
    pending: AtomicU64,
    /// Rows noted in each table since this process last analyzed it: the
    /// server's own counters reach `pg_stat_user_tables` up to a second
    /// late, and this process knows what it wrote.
    unanalyzed: Mutex<HashMap<&'static str, u64>>,
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

/// Analyzes those of `tables` that are stale, counting the changed rows
/// `known` of each that the server may not report yet; returns the tables
/// analyzed.
fn analyze_stale(
    conn: &mut DbConnection,
    tables: &[&str],
    known: &HashMap<&'static str, u64>,
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
        let noted = known.get(t.name.as_str()).copied().unwrap_or(0);
        if stale(t.tuples, t.modified.max(noted as i64)) {
            // The name is one of `tables`, which come from code.
            c.batch_execute(&format!("ANALYZE \"{}\"", t.name.replace('"', "\"\"")))?;
            analyzed.push(t.name);
        }
    }
    Ok(analyzed)
}

impl Db {
    /// Notes that a bulk write changed `counts[i]` rows of `tables[i]`;
    /// every [`CHECK_EVERY`] rows, the stale ones among `tables` are
    /// analyzed in the background. Cheap enough to call after every
    /// message. Must be called inside a tokio runtime.
    pub fn note_bulk_rows(&self, tables: &'static [&'static str], counts: &[u64]) {
        if self.backend() != crate::Backend::Postgres {
            return;
        }
        let f = &self.freshness;
        if let Ok(mut unanalyzed) = f.unanalyzed.lock() {
            for (table, n) in tables.iter().zip(counts) {
                *unanalyzed.entry(table).or_default() += n;
            }
        }
        let rows: u64 = counts.iter().sum();
        if rows == 0 {
            return;
        }
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
        let known: HashMap<&'static str, u64> = freshness
            .unanalyzed
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default();
        let counted = known.clone();
        let analyzed = self
            .read(move |conn| analyze_stale(conn, tables, &counted))
            .await?;
        if !analyzed.is_empty() {
            if let Ok(mut unanalyzed) = freshness.unanalyzed.lock() {
                for table in &analyzed {
                    if let Some(n) = unanalyzed.get_mut(table.as_str()) {
                        *n = n.saturating_sub(known.get(table.as_str()).copied().unwrap_or(0));
                    }
                }
            }
            tracing::info!(tables = ?analyzed, "planner statistics refreshed");
        }
        Ok(analyzed)
    }
}

#[cfg(test)]
mod tests {
    use super::stale;

    #[test]
    fn a_table_is_stale_once_it_about_doubled() {
        // Never analyzed (reltuples -1): a thousand rows are enough.
        assert!(!stale(-1.0, 1_000));
        assert!(stale(-1.0, 1_001));
        // A million rows: 1,001,000 changes.
        assert!(!stale(1e6, 1_001_000));
        assert!(stale(1e6, 1_001_001));
    }
}
