//! Monitoring periods closed (or reopened) for a province (Art. 25).

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use super::Closure;
use crate::schema::period_closures;

/// Whether `period` is closed for `province` (Art. 25: its scores are final).
pub fn period_closed(
    conn: &mut DbConnection,
    province: &str,
    period: &str,
) -> Result<bool, DbError> {
    let closed: Option<Closure> = period_closures::table
        .find((province, period))
        .select(period_closures::closed)
        .first(conn)
        .optional()?;
    Ok(closed == Some(Closure::Closed))
}

/// Marks `period` closed, or open again with `reason`, for `province`.
pub fn set_period_closed(
    conn: &mut DbConnection,
    province: &str,
    period: &str,
    reopened_because: Option<&str>,
    by: &str,
    at: i64,
) -> Result<(), DbError> {
    let values = (
        period_closures::closed.eq(if reopened_because.is_none() {
            Closure::Closed
        } else {
            Closure::Open
        }),
        period_closures::changed_by.eq(by),
        period_closures::change_micros.eq(at),
        period_closures::reason.eq(reopened_because),
    );
    let n = diesel::update(period_closures::table.find((province, period)))
        .set(values)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(period_closures::table)
            .values((
                period_closures::province.eq(province),
                period_closures::period.eq(period),
                values.0,
                values.1,
                values.2,
                values.3,
            ))
            .execute(conn)?;
    }
    Ok(())
}
