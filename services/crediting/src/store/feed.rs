//! The change feed's rows (Art. 22): numbered from the single `feed_head`
//! row (see [`crate::feed`]). An hour record carries its own position;
//! every other change is a row of `changes`.

use ce_db::{DbConnection, DbError};
use ce_proto::crediting::ChangeKind;
use ce_server::call::now_micros;
use diesel::prelude::*;

use crate::schema::{changes, feed_head, hour_records};

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

/// A stored change: a row of `changes`, or a record at its position.
#[derive(Debug, Clone, Queryable, QueryableByName)]
pub struct ChangeRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub seq: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub kind: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub resource_id: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub year: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub province: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub create_micros: i64,
}

impl ChangeRow {
    /// What changed: an hour record or an annual status (an unknown number
    /// reads as unspecified).
    pub fn kind(&self) -> ChangeKind {
        ChangeKind::try_from(self.kind).unwrap_or(ChangeKind::Unspecified)
    }
}

/// Takes `n` positions after the feed's head, advancing it; returns the
/// first. The head's row lock (PostgreSQL) or the write lock (SQLite) is
/// held until commit, so positions are taken in commit order.
pub fn allocate(conn: &mut DbConnection, n: usize) -> Result<i64, DbError> {
    let n = n as i64;
    diesel::update(feed_head::table.find(1))
        .set(feed_head::seq.eq(feed_head::seq + n))
        .execute(conn)?;
    let head: i64 = feed_head::table
        .find(1)
        .select(feed_head::seq)
        .first(conn)?;
    Ok(head - n + 1)
}

/// Numbers `entries` after the feed's head ([`allocate`]) and stores them:
/// an hour record's position on the record itself, any other change as a
/// row of `changes`.
pub fn append(conn: &mut DbConnection, entries: Vec<Entry>) -> Result<(), DbError> {
    let first = allocate(conn, entries.len())?;
    let at = now_micros();
    let mut rows = Vec::with_capacity(entries.len());
    let mut records = Vec::new();
    for (i, (kind, resource_id, year, province)) in entries.into_iter().enumerate() {
        let seq = first + i as i64;
        if kind == ChangeKind::HourRecord as i32 {
            records.push((resource_id, seq));
        } else {
            rows.push(ChangeInsert {
                seq,
                kind,
                resource_id,
                year,
                province,
                create_micros: at,
            });
        }
    }
    stamp_records(conn, &records)?;
    match conn {
        _ if rows.is_empty() => {}
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

/// Gives each record its position in the feed.
fn stamp_records(conn: &mut DbConnection, records: &[(String, i64)]) -> Result<(), DbError> {
    use diesel::sql_types::{Array, BigInt, Text};
    match conn {
        _ if records.is_empty() => {}
        DbConnection::Pg(c) => {
            diesel::sql_query(
                "UPDATE hour_records AS r SET feed_seq = v.seq \
                 FROM unnest($1::text[], $2::bigint[]) AS v(id, seq) WHERE r.id = v.id",
            )
            .bind::<Array<Text>, _>(records.iter().map(|r| r.0.clone()).collect::<Vec<_>>())
            .bind::<Array<BigInt>, _>(records.iter().map(|r| r.1).collect::<Vec<_>>())
            .execute(c)?;
        }
        conn => {
            for (id, seq) in records {
                diesel::update(hour_records::table.find(id))
                    .set(hour_records::feed_seq.eq(seq))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// The changes after `after` (of one province, or all), at most `limit`,
/// in sequence order: the records whose position is past it and the other
/// changes, merged in one statement. One statement reads one snapshot:
/// read apart, a record numbered after a change but committed before it
/// could be read first, and the cursor moved past the change for good.
pub fn after(
    conn: &mut DbConnection,
    after: i64,
    province: Option<&str>,
    limit: i64,
) -> Result<Vec<ChangeRow>, DbError> {
    use diesel::sql_types::{BigInt, Text};
    // Numbered parameters, each bound once and named again where reused:
    // PostgreSQL's `$n`, and SQLite's `$name` numbered by first appearance.
    let (in_province, limit_is) = match province {
        Some(_) => (" AND province = $2", "$3"),
        None => ("", "$2"),
    };
    let part = |seq: &str, kind: &str, id: &str, micros: &str, table: &str| {
        format!(
            "SELECT * FROM (SELECT {seq} AS seq, {kind} AS kind, {id} AS resource_id, year, \
             province, {micros} AS create_micros FROM {table} \
             WHERE {seq} > $1{in_province} ORDER BY {seq} LIMIT {limit_is}) AS {table}_part"
        )
    };
    let sql = format!(
        "{} UNION ALL {} ORDER BY seq LIMIT {limit_is}",
        part("seq", "kind", "resource_id", "create_micros", "changes"),
        part("feed_seq", "1", "id", "update_micros", "hour_records"),
    );
    let mut q = diesel::sql_query(sql).into_boxed().bind::<BigInt, _>(after);
    if let Some(p) = province {
        q = q.bind::<Text, _>(p.to_owned());
    }
    Ok(q.bind::<BigInt, _>(limit).load(conn)?)
}
