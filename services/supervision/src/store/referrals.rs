//! Referrals of officials (Art. 28).

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::referrals;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
pub struct ReferralRow {
    pub id: String,
    pub department: String,
    pub province: String,
    /// 1 once resolved; read it with `ReferralRow::is_resolved` (`convert`).
    pub resolved: i32,
    pub body: Vec<u8>,
    pub create_micros: i64,
}

/// Locks a referral's row until the transaction ends (PostgreSQL).
pub fn lock_referral(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    ce_db::lock_row(conn, "referrals", id)
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
