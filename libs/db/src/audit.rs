//! The append-only audit log (PRODUCT.md: "every mutation is recorded in an
//! append-only audit log with who, when, what and why").
//!
//! Every service's database has the same `audit_log` table, created by the
//! migrations of this crate, which [`crate::Db::connect`] runs before the
//! service's own. Triggers on both backends refuse UPDATE and DELETE.

use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

use crate::{DbConnection, DbError};

pub(crate) const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub(crate) const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at_micros -> BigInt,
        actor -> Text,
        role -> Text,
        province -> Nullable<Text>,
        rpc -> Text,
        resource -> Text,
        request_id -> Text,
        outcome -> Text,
    }
}

/// One audit row. `outcome` is `OK` for an applied mutation, or the gRPC
/// code name of a refused one (for example `PERMISSION_DENIED`).
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditEntry {
    pub at_micros: i64,
    pub actor: String,
    pub role: String,
    pub province: Option<String>,
    pub rpc: String,
    pub resource: String,
    pub request_id: String,
    pub outcome: String,
}

/// Appends one row. Call it inside the mutation's transaction so the row and
/// the change commit together.
pub fn append(conn: &mut DbConnection, entry: &AuditEntry) -> Result<(), DbError> {
    diesel::insert_into(audit_log::table)
        .values(entry)
        .execute(conn)?;
    Ok(())
}

/// Appends many rows in few statements (a bulk upload's answers): on
/// PostgreSQL one binary `COPY`.
pub fn append_many(conn: &mut DbConnection, entries: &[AuditEntry]) -> Result<(), DbError> {
    if entries.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Pg(c) => {
            diesel::copy_from(audit_log::table)
                .from_insertable(entries)
                .execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            // One cached prepared statement a row: a many-row INSERT is
            // built and parsed afresh for every size.
            for entry in entries {
                diesel::insert_into(audit_log::table)
                    .values(entry)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The rows about one resource, oldest first.
pub fn for_resource(conn: &mut DbConnection, resource: &str) -> Result<Vec<AuditEntry>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::resource.eq(resource))
        .order(audit_log::id.asc())
        .select(AuditEntry::as_select())
        .load(conn)?)
}

/// The most recent `limit` rows, newest first.
pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    Ok(audit_log::table
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)?)
}
