//! Employers' certified deferrals (Art. 20).

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::deferrals;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = deferrals)]
pub struct DeferralRow {
    pub engineer_id: String,
    pub year: i32,
    pub reason: i32,
    pub explanation: String,
    pub certified_by: String,
    pub create_micros: i64,
}

pub fn insert_deferral(conn: &mut DbConnection, row: &DeferralRow) -> Result<(), DbError> {
    diesel::insert_into(deferrals::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn get_deferral(
    conn: &mut DbConnection,
    engineer: &str,
    year: i32,
) -> Result<Option<DeferralRow>, DbError> {
    Ok(deferrals::table
        .find((engineer, year))
        .select(DeferralRow::as_select())
        .first(conn)
        .optional()?)
}

/// Which of these engineers have a deferral for one of `years`.
pub fn deferred_among(
    conn: &mut DbConnection,
    engineers: &[String],
    years: &[i32],
) -> Result<Vec<String>, DbError> {
    Ok(deferrals::table
        .filter(deferrals::engineer_id.eq_any(engineers))
        .filter(deferrals::year.eq_any(years))
        .select(deferrals::engineer_id)
        .distinct()
        .load(conn)?)
}

/// The engineers with a status of `year` (in one province, or any) whom a
/// deferral of `year` or the year before links to a neighbouring year
/// (Art. 20), in order.
pub fn deferred_of_year(
    conn: &mut DbConnection,
    year: i32,
    province: Option<&str>,
) -> Result<Vec<String>, DbError> {
    use crate::schema::annual_statuses;
    let deferred = deferrals::table
        .filter(deferrals::year.eq_any([year - 1, year]))
        .select(deferrals::engineer_id);
    let mut q = annual_statuses::table
        .filter(annual_statuses::year.eq(year))
        .filter(annual_statuses::engineer_id.eq_any(deferred))
        .select(annual_statuses::engineer_id)
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(annual_statuses::province.eq(p.to_owned()));
    }
    Ok(q.order(annual_statuses::engineer_id.asc()).load(conn)?)
}
