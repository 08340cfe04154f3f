//! Grade changes, for dashboards.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{grade_changes, institution_fields};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = grade_changes, treat_none_as_default_value = false)]
pub struct GradeChangeRow {
    pub id: String,
    pub institution_id: String,
    pub period: String,
    pub province: String,
    pub from_grade: Option<String>,
    pub to_grade: String,
    pub change_micros: i64,
}

pub fn insert_grade_change(conn: &mut DbConnection, row: &GradeChangeRow) -> Result<(), DbError> {
    diesel::insert_into(grade_changes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn list_grade_changes(
    conn: &mut DbConnection,
    period: Option<&str>,
    province: Option<&str>,
    field: Option<i32>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<GradeChangeRow>, DbError> {
    let mut q = grade_changes::table
        .select(GradeChangeRow::as_select())
        .into_boxed();
    if let Some(p) = period {
        q = q.filter(grade_changes::period.eq(p.to_owned()));
    }
    if let Some(p) = province {
        q = q.filter(grade_changes::province.eq(p.to_owned()));
    }
    if let Some(f) = field {
        q = q.filter(grade_changes::institution_id.eq_any(serving!(f)));
    }
    if let Some(a) = after {
        q = q.filter(grade_changes::id.gt(a.to_owned()));
    }
    Ok(q.order(grade_changes::id.asc()).limit(limit).load(conn)?)
}
