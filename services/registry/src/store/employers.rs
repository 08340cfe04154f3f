use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::employers;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = employers)]
pub struct EmployerRow {
    pub id: String,
    pub credit_code: String,
    pub display_name: String,
    pub kind: i32,
    pub province: String,
    pub create_micros: i64,
    pub update_micros: i64,
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<EmployerRow>, DbError> {
    Ok(employers::table
        .find(id)
        .select(EmployerRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn exists_with_code(conn: &mut DbConnection, code: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        employers::table.filter(employers::credit_code.eq(code)),
    ))
    .get_result(conn)?)
}

pub fn insert(conn: &mut DbConnection, row: &EmployerRow) -> Result<(), DbError> {
    diesel::insert_into(employers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, row: &EmployerRow) -> Result<(), DbError> {
    diesel::update(employers::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Filters for a list of employers; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct EmployerFilter {
    pub province: Option<String>,
    pub kind: Option<i32>,
    pub credit_code: Option<String>,
    pub id: Option<String>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &EmployerFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<EmployerRow>, DbError> {
    let mut q = employers::table
        .select(EmployerRow::as_select())
        .into_boxed();
    if let Some(p) = &f.province {
        q = q.filter(employers::province.eq(p.clone()));
    }
    if let Some(k) = f.kind {
        q = q.filter(employers::kind.eq(k));
    }
    if let Some(c) = &f.credit_code {
        q = q.filter(employers::credit_code.eq(c.clone()));
    }
    if let Some(id) = &f.id {
        q = q.filter(employers::id.eq(id.clone()));
    }
    if let Some(a) = after {
        q = q.filter(employers::id.gt(a.to_owned()));
    }
    Ok(q.order(employers::id.asc()).limit(limit).load(conn)?)
}
