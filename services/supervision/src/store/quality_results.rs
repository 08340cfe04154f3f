//! The last quality result applied for each institution and period (Art. 25).

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::quality_results;

/// The last quality result applied for an institution and period
/// (`id` is `{institution}|{period}`).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = quality_results, treat_none_as_null = true)]
pub struct QualityResultRow {
    pub id: String,
    pub violation_id: Option<String>,
    pub poor: i32,
    pub compute_micros: i64,
}

/// Locks an institution's period until the transaction ends (PostgreSQL),
/// so its results are applied one at a time.
pub fn lock_quality_result(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    ce_db::lock_row(conn, "quality_results", id)
}

pub fn get_quality_result(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<QualityResultRow>, DbError> {
    Ok(quality_results::table
        .find(id)
        .select(QualityResultRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores the row, creating it or replacing what was there.
pub fn put_quality_result(conn: &mut DbConnection, row: &QualityResultRow) -> Result<(), DbError> {
    let n = diesel::update(quality_results::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(quality_results::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}
