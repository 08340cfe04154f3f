use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{engineer_change_head, engineer_changes, engineer_moves, engineers};
use crate::scope::EngineerFilter;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = engineers, treat_none_as_null = true)]
pub struct EngineerRow {
    pub id: String,
    pub id_number: String,
    pub display_name: String,
    pub province: String,
    pub field: i32,
    pub title_level: i32,
    pub employer_id: Option<String>,
    pub create_micros: i64,
    pub update_micros: i64,
    /// The engineer's last change in `engineer_changes`; 0 before the first.
    pub place_sequence: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = engineer_moves)]
pub struct MoveRow {
    pub engineer_id: String,
    pub from_province: String,
    pub to_province: String,
    pub at_micros: i64,
    pub request_id: String,
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<EngineerRow>, DbError> {
    Ok(engineers::table
        .find(id)
        .select(EngineerRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_many(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<EngineerRow>, DbError> {
    Ok(engineers::table
        .filter(engineers::id.eq_any(ids))
        .select(EngineerRow::as_select())
        .load(conn)?)
}

pub fn find_by_id_number(
    conn: &mut DbConnection,
    id_number: &str,
) -> Result<Option<EngineerRow>, DbError> {
    Ok(engineers::table
        .filter(engineers::id_number.eq(id_number))
        .select(EngineerRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &EngineerRow) -> Result<(), DbError> {
    diesel::insert_into(engineers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, row: &EngineerRow) -> Result<(), DbError> {
    diesel::update(engineers::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn record_move(conn: &mut DbConnection, m: &MoveRow) -> Result<(), DbError> {
    diesel::insert_into(engineer_moves::table)
        .values(m)
        .execute(conn)?;
    Ok(())
}

/// A change of where an engineer is, as the feed keeps it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = engineer_changes, treat_none_as_null = true)]
pub struct ChangeRow {
    pub sequence: i64,
    pub engineer_id: String,
    pub province: String,
    pub employer_id: Option<String>,
    pub field: i32,
    pub change_micros: i64,
}

/// Notes that `row`'s place (province, employer or field) changed, as of
/// its update time: the feed's next sequence number, taken from the head
/// row as the transaction's last step so that changes commit in sequence
/// order. Returns the sequence number, which the engineer row keeps.
pub fn record_change(conn: &mut DbConnection, row: &EngineerRow) -> Result<i64, DbError> {
    diesel::update(engineer_change_head::table.find(1))
        .set(engineer_change_head::sequence.eq(engineer_change_head::sequence + 1))
        .execute(conn)?;
    let sequence: i64 = engineer_change_head::table
        .find(1)
        .select(engineer_change_head::sequence)
        .first(conn)?;
    diesel::insert_into(engineer_changes::table)
        .values(ChangeRow {
            sequence,
            engineer_id: row.id.clone(),
            province: row.province.clone(),
            employer_id: row.employer_id.clone(),
            field: row.field,
            change_micros: row.update_micros,
        })
        .execute(conn)?;
    diesel::update(engineers::table.find(&row.id))
        .set(engineers::place_sequence.eq(sequence))
        .execute(conn)?;
    Ok(sequence)
}

/// Up to `limit` changes after the sequence `after`, in sequence order.
pub fn changes_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<ChangeRow>, DbError> {
    Ok(engineer_changes::table
        .filter(engineer_changes::sequence.gt(after))
        .order(engineer_changes::sequence.asc())
        .limit(limit)
        .select(ChangeRow::as_select())
        .load(conn)?)
}

/// A page of engineers matching `filter` (and `id_number`), after the id
/// `after`, in id order.
pub fn list(
    conn: &mut DbConnection,
    filter: &EngineerFilter,
    id_number: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<EngineerRow>, DbError> {
    let mut q = engineers::table
        .select(EngineerRow::as_select())
        .into_boxed();
    if let Some(p) = &filter.province {
        q = q.filter(engineers::province.eq(p.clone()));
    }
    if let Some(f) = filter.field {
        q = q.filter(engineers::field.eq(f));
    }
    if let Some(e) = &filter.employer {
        q = q.filter(engineers::employer_id.eq(e.clone()));
    }
    if let Some(n) = &filter.name {
        q = q.filter(engineers::id.eq(n.clone()));
    }
    if let Some(n) = id_number {
        q = q.filter(engineers::id_number.eq(n.to_owned()));
    }
    if let Some(a) = after {
        q = q.filter(engineers::id.gt(a.to_owned()));
    }
    Ok(q.order(engineers::id.asc()).limit(limit).load(conn)?)
}
