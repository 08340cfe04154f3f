//! Where each engineer is, as of the last registry change applied to them
//! (Art. 22).

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

/// The last registry engineer change applied to `engineer` (0: none).
pub fn followed_sequence(conn: &mut DbConnection, engineer: &str) -> Result<i64, DbError> {
    use crate::schema::followed_engineers as f;
    Ok(f::table
        .find(engineer)
        .select(f::sequence)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// An engineer's place as of the last registry change applied to them.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct FollowedRow {
    pub engineer_id: String,
    pub sequence: i64,
    /// `None` for a row written before places were kept.
    pub province: Option<String>,
    pub field: Option<i32>,
    pub employer_id: Option<String>,
}

/// The places applied to these engineers, for those that have one.
pub fn followed(
    conn: &mut DbConnection,
    engineers: &[String],
) -> Result<Vec<FollowedRow>, DbError> {
    use crate::schema::followed_engineers as f;
    Ok(f::table
        .filter(f::engineer_id.eq_any(engineers))
        .select((
            f::engineer_id,
            f::sequence,
            f::province,
            f::field,
            f::employer_id,
        ))
        .load(conn)?)
}

/// Records that registry change `sequence` put `engineer` in `province`,
/// `field`, with `employer_id`, unless a later change was recorded already.
pub fn follow(
    conn: &mut DbConnection,
    engineer: &str,
    sequence: i64,
    province: &str,
    field: i32,
    employer_id: Option<&str>,
) -> Result<(), DbError> {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text};
    let query = diesel::sql_query(
        "INSERT INTO followed_engineers (engineer_id, sequence, province, field, employer_id) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (engineer_id) DO UPDATE SET sequence = excluded.sequence, \
         province = excluded.province, field = excluded.field, employer_id = excluded.employer_id \
         WHERE followed_engineers.sequence <= excluded.sequence",
    )
    .bind::<Text, _>(engineer)
    .bind::<BigInt, _>(sequence)
    .bind::<Text, _>(province)
    .bind::<Integer, _>(field)
    .bind::<Nullable<Text>, _>(employer_id);
    match conn {
        DbConnection::Pg(c) => query.execute(c)?,
        DbConnection::Sqlite(c) => query.execute(c)?,
    };
    Ok(())
}
