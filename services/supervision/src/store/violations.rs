//! Violations: the cases, their states and rectification deadlines.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::violations;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = violations, treat_none_as_null = true)]
pub struct ViolationRow {
    pub id: String,
    pub institution_id: Option<String>,
    pub engineer_id: Option<String>,
    pub category: i32,
    /// A `ViolationState`; read it with `ViolationRow::state` (`convert`).
    pub state: i32,
    pub province: String,
    pub field: i32,
    pub body: Vec<u8>,
    pub recorded_by: String,
    pub request_id: Option<String>,
    pub request_digest: Option<String>,
    pub create_micros: i64,
    pub update_micros: i64,
    /// A decided rectification order's deadline, until it is closed.
    pub deadline: Option<String>,
    /// Every field of the subject, as [`super::encode_fields`] writes them.
    pub fields: String,
    /// The employer a violation is about (an Art. 24 refusal).
    pub employer_id: Option<String>,
}

/// Locks a violation's row until the transaction ends (PostgreSQL), so
/// two writers of one case take turns.
pub fn lock_violation(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    ce_db::lock_row(conn, "violations", id)
}

pub fn insert_violation(conn: &mut DbConnection, row: &ViolationRow) -> Result<(), DbError> {
    diesel::insert_into(violations::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update_violation(conn: &mut DbConnection, row: &ViolationRow) -> Result<(), DbError> {
    diesel::update(violations::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn get_violation(conn: &mut DbConnection, id: &str) -> Result<Option<ViolationRow>, DbError> {
    Ok(violations::table
        .find(id)
        .select(ViolationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn violation_by_request(
    conn: &mut DbConnection,
    recorded_by: &str,
    request_id: &str,
) -> Result<Option<ViolationRow>, DbError> {
    Ok(violations::table
        .filter(violations::recorded_by.eq(recorded_by))
        .filter(violations::request_id.eq(request_id))
        .select(ViolationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every violation recorded about one institution.
pub fn violations_of_institution(
    conn: &mut DbConnection,
    institution_id: &str,
) -> Result<Vec<ViolationRow>, DbError> {
    Ok(violations::table
        .filter(violations::institution_id.eq(institution_id))
        .select(ViolationRow::as_select())
        .load(conn)?)
}

/// Filters for a list of violations; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct ViolationFilter {
    pub province: Option<String>,
    /// One of the subject's fields.
    pub field: Option<i32>,
    pub category: Option<i32>,
    pub state: Option<i32>,
    pub institution_id: Option<String>,
    pub engineer_id: Option<String>,
    pub employer_id: Option<String>,
    /// Only institutions' (true) or only engineers' (false) violations.
    pub institutions_only: Option<bool>,
    /// Recorded in [from, to) microseconds.
    pub created: Option<(i64, i64)>,
}

pub fn list_violations(
    conn: &mut DbConnection,
    f: &ViolationFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ViolationRow>, DbError> {
    let mut q = violations::table
        .select(ViolationRow::as_select())
        .into_boxed();
    if let Some(v) = &f.province {
        q = q.filter(violations::province.eq(v.clone()));
    }
    if let Some(v) = f.field {
        q = q.filter(violations::fields.like(format!("%,{v},%")));
    }
    if let Some(v) = f.category {
        q = q.filter(violations::category.eq(v));
    }
    if let Some(v) = f.state {
        q = q.filter(violations::state.eq(v));
    }
    if let Some(v) = &f.institution_id {
        q = q.filter(violations::institution_id.eq(v.clone()));
    }
    if let Some(v) = &f.engineer_id {
        q = q.filter(violations::engineer_id.eq(v.clone()));
    }
    if let Some(v) = &f.employer_id {
        q = q.filter(violations::employer_id.eq(v.clone()));
    }
    if let Some((from, to)) = f.created {
        q = q
            .filter(violations::create_micros.ge(from))
            .filter(violations::create_micros.lt(to));
    }
    match f.institutions_only {
        Some(true) => q = q.filter(violations::institution_id.is_not_null()),
        Some(false) => q = q.filter(violations::engineer_id.is_not_null()),
        None => {}
    }
    if let Some(a) = after {
        q = q.filter(violations::id.gt(a.to_owned()));
    }
    Ok(q.order(violations::id.asc()).limit(limit).load(conn)?)
}

/// Decided violations whose rectification deadline is before `today`.
pub fn overdue(conn: &mut DbConnection, today: &str) -> Result<Vec<ViolationRow>, DbError> {
    Ok(violations::table
        .filter(violations::deadline.lt(today))
        .select(ViolationRow::as_select())
        .load(conn)?)
}
