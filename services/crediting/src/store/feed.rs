//! The change feed's rows (Art. 22): numbered from the single `feed_head`
//! row as a write transaction's last step (see [`crate::feed`]).

use ce_db::{DbConnection, DbError};
use ce_proto::crediting::ChangeKind;
use ce_server::call::now_micros;
use diesel::prelude::*;

use crate::schema::{changes, feed_head};

/// A change as noted: kind, resource id, year, province.
pub type Entry = (i32, String, i32, String);

#[derive(Debug, Insertable)]
#[diesel(table_name = changes, treat_none_as_default_value = false)]
struct ChangeInsert {
    seq: i64,
    kind: i32,
    resource_id: String,
    year: i32,
    province: String,
    create_micros: i64,
}

/// A stored change.
#[derive(Debug, Clone, Queryable)]
pub struct ChangeRow {
    pub seq: i64,
    pub kind: i32,
    pub resource_id: String,
    pub year: i32,
    pub province: String,
    pub create_micros: i64,
}

impl ChangeRow {
    /// What changed: an hour record or an annual status (an unknown number
    /// reads as unspecified).
    pub fn kind(&self) -> ChangeKind {
        ChangeKind::try_from(self.kind).unwrap_or(ChangeKind::Unspecified)
    }
}

/// Numbers `entries` after the feed's head, advancing it, and stores them.
/// The head's row lock (PostgreSQL) or the write lock (SQLite) is held
/// until commit.
pub fn append(conn: &mut DbConnection, entries: Vec<Entry>) -> Result<(), DbError> {
    let n = entries.len() as i64;
    diesel::update(feed_head::table.find(1))
        .set(feed_head::seq.eq(feed_head::seq + n))
        .execute(conn)?;
    let head: i64 = feed_head::table
        .find(1)
        .select(feed_head::seq)
        .first(conn)?;
    let at = now_micros();
    let rows: Vec<ChangeInsert> = entries
        .into_iter()
        .enumerate()
        .map(|(i, (kind, resource_id, year, province))| ChangeInsert {
            seq: head - n + 1 + i as i64,
            kind,
            resource_id,
            year,
            province,
            create_micros: at,
        })
        .collect();
    match conn {
        DbConnection::Pg(c) => {
            diesel::copy_from(changes::table)
                .from_insertable(&rows)
                .execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            // One cached prepared statement a row (see `insert_records`).
            for row in &rows {
                diesel::insert_into(changes::table).values(row).execute(c)?;
            }
        }
    }
    Ok(())
}

/// The changes after `after` (of one province, or all), at most `limit`,
/// in sequence order.
pub fn after(
    conn: &mut DbConnection,
    after: i64,
    province: Option<&str>,
    limit: i64,
) -> Result<Vec<ChangeRow>, DbError> {
    let mut q = changes::table
        .filter(changes::seq.gt(after))
        .select((
            changes::seq,
            changes::kind,
            changes::resource_id,
            changes::year,
            changes::province,
            changes::create_micros,
        ))
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(changes::province.eq(p.to_owned()));
    }
    Ok(q.order(changes::seq.asc()).limit(limit).load(conn)?)
}
