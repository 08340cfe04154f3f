//! Crediting's SQL, one module per resource. Functions take a connection
//! so callers compose them in one transaction; rows are typed here, and
//! [`crate::convert`] turns them into the domain's and the wire's types.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

pub mod certificates;
pub mod claims;
pub mod deferrals;
pub mod feed;
pub mod followed;
pub mod records;
pub mod statuses;

pub use deferrals::*;
pub use followed::*;
pub use records::*;
pub use statuses::*;

/// Serialises, until commit, every transaction that reassesses these
/// engineers (PostgreSQL advisory locks; SQLite writes are serial
/// already), so two concurrent changes to one engineer's year cannot each
/// store a status that misses the other's record. Take all the engineers
/// a transaction will reassess in one call: the keys are locked in one
/// order, so two transactions cannot deadlock.
pub fn lock_engineers(conn: &mut DbConnection, ids: &[String]) -> Result<(), DbError> {
    use diesel::sql_types::{Array, BigInt};
    if let DbConnection::Pg(c) = conn {
        let mut keys: Vec<i64> = ids
            .iter()
            .map(|id| {
                let mut h = ce_server::hash::Fnv64::default();
                h.write(b"crediting/engineers/").write(id.as_bytes());
                h.finish() as i64
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest($1::bigint[]) AS k) AS keys",
        )
        .bind::<Array<BigInt>, _>(keys)
        .execute(c)?;
    }
    Ok(())
}
