//! Notifications: to employers (Art. 27) and to deciding departments.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::notifications;

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

/// Locks a notification's row until the transaction ends (PostgreSQL).
pub fn lock_notification(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    ce_db::lock_row(conn, "notifications", id)
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
