//! The append-only audit log: every mutation, allowed or refused, is
//! recorded with who, when, what and why (`docs/product.md`, "What always
//! holds"; `docs/audit.md`).
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;
    use diesel_migrations::MigrationHarness;

    use super::*;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
        diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
    }

    /// The SQLite log moved from AUTOINCREMENT to a plain rowid id
    /// (2026-01-01-000001): the rows written before keep their ids, new
    /// ones follow them, sqlite_sequence is no longer written, and the
    /// rebuilt table still refuses UPDATE and DELETE.
    #[test]
    fn sqlite_rows_keep_their_ids_through_the_rowid_migration_and_stay_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
        // The first migration alone: the table as it was, with AUTOINCREMENT.
        conn.run_next_migration(SQLITE).unwrap();
        let row = "INSERT INTO audit_log (at_micros, actor, role, province, rpc, resource, \
                   request_id, outcome) VALUES (1, 'a', 'ministry', NULL, 'R', 'x/1', 'r', 'OK')";
        conn.batch_execute(&format!("{row}; {row}")).unwrap();
        assert_eq!(
            count(
                &mut conn,
                "SELECT seq AS n FROM sqlite_sequence WHERE name = 'audit_log'"
            ),
            2
        );

        conn.run_pending_migrations(SQLITE).unwrap();
        conn.batch_execute(row).unwrap();
        let ids: Vec<i64> = audit_log::table
            .select(audit_log::id)
            .order(audit_log::id.asc())
            .load(&mut conn)
            .unwrap();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM sqlite_sequence WHERE name = 'audit_log'"
            ),
            0,
            "no AUTOINCREMENT bookkeeping"
        );
        assert!(
            conn.batch_execute("UPDATE audit_log SET outcome = 'X'")
                .is_err()
        );
        assert!(conn.batch_execute("DELETE FROM audit_log").is_err());
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM audit_log"), 3);
    }
}
