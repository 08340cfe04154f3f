//! Supervision's SQL. Functions take a connection so callers compose them in
//! one transaction.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{
    draw_secrets, inspections, notifications, quality_results, referrals, violations,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = violations, treat_none_as_null = true)]
pub struct ViolationRow {
    pub id: String,
    pub institution_id: Option<String>,
    pub engineer_id: Option<String>,
    pub category: i32,
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
    /// Every field of the subject, as [`encode_fields`] writes them.
    pub fields: String,
    /// The employer a violation is about (an Art. 24 refusal).
    pub employer_id: Option<String>,
}

/// A set of fields as stored: `,a,b,`, so one is found with `LIKE '%,a,%'`.
pub fn encode_fields(fields: &[i32]) -> String {
    let mut v = fields.to_vec();
    v.sort_unstable();
    v.dedup();
    let inner: Vec<String> = v.iter().map(i32::to_string).collect();
    format!(",{},", inner.join(","))
}

pub fn decode_fields(s: &str) -> Vec<i32> {
    s.split(',').filter_map(|p| p.parse().ok()).collect()
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub employer_id: String,
    pub violation_id: String,
    pub province: String,
    pub body: Vec<u8>,
    pub create_micros: i64,
    pub acknowledge_micros: Option<i64>,
    /// For a notification to the department that decided a violation.
    pub department: Option<String>,
}

/// Notifications about one violation, oldest first.
pub fn notifications_of_violation(
    conn: &mut DbConnection,
    violation_id: &str,
) -> Result<Vec<NotificationRow>, DbError> {
    Ok(notifications::table
        .filter(notifications::violation_id.eq(violation_id))
        .select(NotificationRow::as_select())
        .order(notifications::id.asc())
        .load(conn)?)
}

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

pub fn insert_notification(conn: &mut DbConnection, row: &NotificationRow) -> Result<(), DbError> {
    diesel::insert_into(notifications::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn get_notification(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<NotificationRow>, DbError> {
    Ok(notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn acknowledge(conn: &mut DbConnection, id: &str, body: &[u8], at: i64) -> Result<(), DbError> {
    diesel::update(notifications::table.find(id))
        .set((
            notifications::body.eq(body),
            notifications::acknowledge_micros.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Filters for a list of notifications; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct NotificationFilter {
    pub employer_id: Option<String>,
    pub province: Option<String>,
    pub unacknowledged_only: bool,
}

pub fn list_notifications(
    conn: &mut DbConnection,
    f: &NotificationFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<NotificationRow>, DbError> {
    let mut q = notifications::table
        .select(NotificationRow::as_select())
        .into_boxed();
    if let Some(v) = &f.employer_id {
        q = q.filter(notifications::employer_id.eq(v.clone()));
    }
    if let Some(v) = &f.province {
        q = q.filter(notifications::province.eq(v.clone()));
    }
    if f.unacknowledged_only {
        q = q.filter(notifications::acknowledge_micros.is_null());
    }
    if let Some(a) = after {
        q = q.filter(notifications::id.gt(a.to_owned()));
    }
    Ok(q.order(notifications::id.asc()).limit(limit).load(conn)?)
}

/// Decided violations whose rectification deadline is before `today`.
pub fn overdue(conn: &mut DbConnection, today: &str) -> Result<Vec<ViolationRow>, DbError> {
    Ok(violations::table
        .filter(violations::deadline.lt(today))
        .select(ViolationRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = inspections)]
pub struct InspectionRow {
    pub id: String,
    pub province: String,
    pub field: i32,
    pub state: i32,
    pub body: Vec<u8>,
    pub created_by: String,
    pub create_micros: i64,
    pub update_micros: i64,
}

pub fn insert_inspection(conn: &mut DbConnection, row: &InspectionRow) -> Result<(), DbError> {
    diesel::insert_into(inspections::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update_inspection(conn: &mut DbConnection, row: &InspectionRow) -> Result<(), DbError> {
    diesel::update(inspections::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn get_inspection(conn: &mut DbConnection, id: &str) -> Result<Option<InspectionRow>, DbError> {
    Ok(inspections::table
        .find(id)
        .select(InspectionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Inspections of one province (or all), or only published ones.
/// Every inspection of `province`, and every national one, oldest first.
pub fn inspections_covering(
    conn: &mut DbConnection,
    province: &str,
) -> Result<Vec<InspectionRow>, DbError> {
    Ok(inspections::table
        .filter(inspections::province.eq_any([province.to_owned(), String::new()]))
        .select(InspectionRow::as_select())
        .order(inspections::id.asc())
        .load(conn)?)
}

pub fn list_inspections(
    conn: &mut DbConnection,
    province: Option<&str>,
    field: Option<i32>,
    published_state: Option<i32>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<InspectionRow>, DbError> {
    let mut q = inspections::table
        .select(InspectionRow::as_select())
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(inspections::province.eq(p.to_owned()));
    }
    if let Some(f) = field {
        q = q.filter(inspections::field.eq(f));
    }
    if let Some(s) = published_state {
        q = q.filter(inspections::state.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(inspections::id.gt(a.to_owned()));
    }
    Ok(q.order(inspections::id.asc()).limit(limit).load(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
pub struct ReferralRow {
    pub id: String,
    pub department: String,
    pub province: String,
    pub resolved: i32,
    pub body: Vec<u8>,
    pub create_micros: i64,
}

pub fn insert_referral(conn: &mut DbConnection, row: &ReferralRow) -> Result<(), DbError> {
    diesel::insert_into(referrals::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn resolve_referral(conn: &mut DbConnection, id: &str, body: &[u8]) -> Result<(), DbError> {
    diesel::update(referrals::table.find(id))
        .set((referrals::resolved.eq(1), referrals::body.eq(body)))
        .execute(conn)?;
    Ok(())
}

pub fn get_referral(conn: &mut DbConnection, id: &str) -> Result<Option<ReferralRow>, DbError> {
    Ok(referrals::table
        .find(id)
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_referrals(
    conn: &mut DbConnection,
    province: Option<&str>,
    unresolved_only: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ReferralRow>, DbError> {
    let mut q = referrals::table
        .select(ReferralRow::as_select())
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(referrals::province.eq(p.to_owned()));
    }
    if unresolved_only {
        q = q.filter(referrals::resolved.eq(0));
    }
    if let Some(a) = after {
        q = q.filter(referrals::id.gt(a.to_owned()));
    }
    Ok(q.order(referrals::id.asc()).limit(limit).load(conn)?)
}

/// Keeps an inspection draw's secret seed until the draw reveals it.
pub fn put_draw_secret(
    conn: &mut DbConnection,
    inspection: &str,
    seed_hex: &str,
) -> Result<(), DbError> {
    diesel::insert_into(draw_secrets::table)
        .values((
            draw_secrets::inspection_id.eq(inspection),
            draw_secrets::seed_hex.eq(seed_hex),
        ))
        .execute(conn)?;
    Ok(())
}

/// An inspection draw's secret seed, left in the store.
pub fn draw_secret(conn: &mut DbConnection, inspection: &str) -> Result<Option<String>, DbError> {
    Ok(draw_secrets::table
        .find(inspection)
        .select(draw_secrets::seed_hex)
        .first(conn)
        .optional()?)
}

/// An inspection draw's secret seed, taken out of the store (the draw
/// reveals it).
pub fn take_draw_secret(
    conn: &mut DbConnection,
    inspection: &str,
) -> Result<Option<String>, DbError> {
    let seed: Option<String> = draw_secrets::table
        .find(inspection)
        .select(draw_secrets::seed_hex)
        .first(conn)
        .optional()?;
    diesel::delete(draw_secrets::table.find(inspection)).execute(conn)?;
    Ok(seed)
}
