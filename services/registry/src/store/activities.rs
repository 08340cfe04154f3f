use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::activities;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = activities)]
pub struct ActivityRow {
    pub id: String,
    pub title: String,
    pub organiser_kind: i32,
    pub organiser: String,
    pub province: String,
    pub field: i32,
    pub subject_category: i32,
    pub delivery_mode: i32,
    pub start_date: String,
    pub end_date: String,
    pub hours_per_day: f64,
    pub fee_fen: i64,
    pub create_micros: i64,
    pub update_micros: i64,
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<ActivityRow>, DbError> {
    Ok(activities::table
        .find(id)
        .select(ActivityRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_many(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<ActivityRow>, DbError> {
    Ok(activities::table
        .filter(activities::id.eq_any(ids))
        .select(ActivityRow::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut DbConnection, row: &ActivityRow) -> Result<(), DbError> {
    diesel::insert_into(activities::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, row: &ActivityRow) -> Result<(), DbError> {
    diesel::update(activities::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Filters for a list of activities; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct ActivityFilter {
    pub province: Option<String>,
    pub field: Option<i32>,
    pub organiser: Option<String>,
    pub subject_category: Option<i32>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &ActivityFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ActivityRow>, DbError> {
    let mut q = activities::table
        .select(ActivityRow::as_select())
        .into_boxed();
    if let Some(p) = &f.province {
        q = q.filter(activities::province.eq(p.clone()));
    }
    if let Some(v) = f.field {
        q = q.filter(activities::field.eq(v));
    }
    if let Some(o) = &f.organiser {
        q = q.filter(activities::organiser.eq(o.clone()));
    }
    if let Some(v) = f.subject_category {
        q = q.filter(activities::subject_category.eq(v));
    }
    if let Some(a) = after {
        q = q.filter(activities::id.gt(a.to_owned()));
    }
    Ok(q.order(activities::id.asc()).limit(limit).load(conn)?)
}
