//! The items engineers' own submissions name, indexed by evidence key
//! (Art. 27): what [`crate::claims`] compares across engineers.

use ce_db::{DbConnection, DbError};
use ce_proto::crediting::{RecordState, Route};
use diesel::prelude::*;

use crate::schema::{claims, hour_records};
use crate::store::RecordRow;

/// Notes that record `record_id` of `engineer_id` names the item `key`
/// (empty: it names none).
pub fn insert_claim(
    conn: &mut DbConnection,
    record_id: &str,
    engineer_id: &str,
    key: &str,
) -> Result<(), DbError> {
    diesel::insert_into(claims::table)
        .values((
            claims::record_id.eq(record_id),
            claims::engineer_id.eq(engineer_id),
            claims::evidence_key.eq(key),
        ))
        .execute(conn)?;
    Ok(())
}

/// The records in `states` that name one of the items `keys`: (key, record).
pub fn records_naming(
    conn: &mut DbConnection,
    keys: &[String],
    states: &[RecordState],
) -> Result<Vec<(String, RecordRow)>, DbError> {
    let states: Vec<i32> = states.iter().map(|s| *s as i32).collect();
    Ok(claims::table
        .inner_join(hour_records::table.on(hour_records::id.eq(claims::record_id)))
        .filter(claims::evidence_key.eq_any(keys))
        .filter(hour_records::state.eq_any(states))
        .select((claims::evidence_key, RecordRow::as_select()))
        .load(conn)?)
}

/// The engineers' own submissions with no claims row: stored before
/// claims were kept.
pub fn unindexed_submissions(conn: &mut DbConnection) -> Result<Vec<RecordRow>, DbError> {
    Ok(hour_records::table
        .filter(hour_records::route.eq(Route::SelfSubmission as i32))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            claims::table.filter(claims::record_id.eq(hour_records::id)),
        )))
        .select(RecordRow::as_select())
        .load(conn)?)
}
