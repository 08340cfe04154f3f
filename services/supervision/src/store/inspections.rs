//! Inspections (Art. 24) and their draws' secret seeds.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{draw_secrets, inspections};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = inspections)]
pub struct InspectionRow {
    pub id: String,
    pub province: String,
    pub field: i32,
    /// An `InspectionState`; read it with `InspectionRow::state` (`convert`).
    pub state: i32,
    pub body: Vec<u8>,
    pub created_by: String,
    pub create_micros: i64,
    pub update_micros: i64,
}

/// Locks an inspection's row until the transaction ends (PostgreSQL).
pub fn lock_inspection(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    ce_db::lock_row(conn, "inspections", id)
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

/// Inspections of one province (or all), one field (or all), in one state
/// (or any).
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
