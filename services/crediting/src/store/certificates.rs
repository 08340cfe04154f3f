//! Hour certificates as issued, and their revocations (Art. 27).

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{hour_certificates, status_list_head};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = hour_certificates)]
pub struct CertificateRow {
    pub id: String,
    pub engineer_id: String,
    pub year: i32,
    pub province: String,
    pub field: i32,
    pub employer_id: Option<String>,
    pub credential: String,
    pub issued_by: String,
    pub create_micros: i64,
    pub revoke_micros: Option<i64>,
    pub revocation_reason: Option<String>,
    /// Its bit in the revocation status list ([`allocate_status_index`]).
    pub status_index: Option<i64>,
}

/// A standing certificate, as `certificates::supersede` reads it.
#[derive(Debug, Queryable)]
pub struct Standing {
    pub id: String,
    pub engineer_id: String,
    pub year: i32,
    pub province: String,
    pub credential: String,
}

pub fn insert_certificate(conn: &mut DbConnection, row: &CertificateRow) -> Result<(), DbError> {
    diesel::insert_into(hour_certificates::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn get_certificate(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<CertificateRow>, DbError> {
    Ok(hour_certificates::table
        .find(id)
        .select(CertificateRow::as_select())
        .first(conn)
        .optional()?)
}

/// Revokes every standing certificate of an engineer's year, inside the
/// caller's transaction (Art. 27). Returns how many.
pub fn revoke_year(
    conn: &mut DbConnection,
    engineer_id: &str,
    year: i32,
    reason: &str,
    at: i64,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        hour_certificates::table
            .filter(hour_certificates::engineer_id.eq(engineer_id))
            .filter(hour_certificates::year.eq(year))
            .filter(hour_certificates::revoke_micros.is_null()),
    )
    .set((
        hour_certificates::revoke_micros.eq(Some(at)),
        hour_certificates::revocation_reason.eq(Some(reason)),
    ))
    .execute(conn)?)
}

/// The standing certificates of these engineers for any of `years`, by id.
pub fn standing(
    conn: &mut DbConnection,
    engineers: &[&str],
    years: &[i32],
) -> Result<Vec<Standing>, DbError> {
    Ok(hour_certificates::table
        .filter(hour_certificates::engineer_id.eq_any(engineers))
        .filter(hour_certificates::year.eq_any(years))
        .filter(hour_certificates::revoke_micros.is_null())
        .select((
            hour_certificates::id,
            hour_certificates::engineer_id,
            hour_certificates::year,
            hour_certificates::province,
            hour_certificates::credential,
        ))
        .order(hour_certificates::id)
        .load::<Standing>(conn)?)
}

/// Revokes one certificate unless it was revoked already; whether it was
/// standing.
pub fn revoke(conn: &mut DbConnection, id: &str, reason: &str, at: i64) -> Result<bool, DbError> {
    let n = diesel::update(
        hour_certificates::table
            .find(id)
            .filter(hour_certificates::revoke_micros.is_null()),
    )
    .set((
        hour_certificates::revoke_micros.eq(Some(at)),
        hour_certificates::revocation_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Gives a certificate its status-list number, inside the caller's
/// transaction: a number no certificate has, drawn at random (from the
/// operating system, so no caller can choose or predict it) among the lists
/// in use, which grow so that at most half their bits are given
/// ([`crate::published::lists_for`]). A certificate's number then tells
/// nothing of when it was issued or of its neighbours, as the Bitstring
/// Status List's privacy considerations ask. The head's row lock
/// (PostgreSQL) or the write lock (SQLite) serialises issues, so the free
/// number found is still free when stored, and a rolled-back issue gives it
/// back.
pub fn allocate_status_index(conn: &mut DbConnection) -> Result<i64, DbError> {
    use rand::Rng as _;
    diesel::update(status_list_head::table.find(1))
        .set(status_list_head::next_index.eq(status_list_head::next_index + 1))
        .execute(conn)?;
    let given: i64 = status_list_head::table
        .find(1)
        .select(status_list_head::next_index)
        .first(conn)?;
    let capacity = crate::published::lists_for(given) * crate::published::LIST_BITS;
    let mut rng = rand::rngs::OsRng;
    loop {
        let index = rng.gen_range(0..capacity);
        let taken = diesel::select(diesel::dsl::exists(
            hour_certificates::table.filter(hour_certificates::status_index.eq(index)),
        ))
        .get_result::<bool>(conn)?;
        if !taken {
            return Ok(index);
        }
    }
}

/// How many status-list numbers were given: lists past it hold nothing.
pub fn status_indexes_given(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(status_list_head::table
        .find(1)
        .select(status_list_head::next_index)
        .first(conn)?)
}

/// The status-list numbers in `from..until` of revoked certificates.
pub fn revoked_indexes(
    conn: &mut DbConnection,
    from: i64,
    until: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(hour_certificates::table
        .filter(hour_certificates::status_index.ge(from))
        .filter(hour_certificates::status_index.lt(until))
        .filter(hour_certificates::revoke_micros.is_not_null())
        .select(hour_certificates::status_index.assume_not_null())
        .load::<i64>(conn)?)
}
