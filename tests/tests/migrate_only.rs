//! Each service binary as the Helm chart's migration Job runs it:
//! `--migrate-only` on a fresh SQLite file creates every table the
//! service's migrations make (its own and the shared audit log's), exits 0,
//! and is safe to run again (pre-upgrade runs it on every release).
//!
//! The expected tables are read from the migrations themselves
//! (`services/<service>/migrations/sqlite`, `libs/db/migrations/sqlite`),
//! so a new table is checked as soon as a migration creates it.
//!
//! The binaries must be built (`make build`, which `make test` runs first).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diesel::prelude::*;
use diesel::sql_types::Text;

/// `service --migrate-only` with its data directory at `dir`, where it
/// makes its SQLite file `<service>.db`.
fn migrate(service: &str, dir: &Path) -> std::process::Output {
    let key = |k: &str| format!("CE_{}__{k}", service.to_uppercase());
    Command::new(ce_tests::process::binary(service))
        .arg("--migrate-only")
        .env(key("DATA_DIR"), dir)
        .env(key("ENVIRONMENT"), "development")
        .env(key("SERVER__LISTEN"), "127.0.0.1:0")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The repository's root (this package is `tests/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

/// The tables left by the `up.sql` files of the migration folders under
/// `dir`, applied in order: every `CREATE TABLE`, less those dropped, under
/// the name of their last `ALTER TABLE … RENAME TO`.
fn tables_made_by(dir: &Path, tables: &mut BTreeSet<String>) {
    let mut migrations: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    migrations.sort();
    for migration in migrations {
        let sql = std::fs::read_to_string(migration.join("up.sql")).unwrap();
        let sql: String = sql
            .lines()
            .map(|line| line.split("--").next().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        for statement in sql.split(';') {
            let words: Vec<String> = statement
                .split(|c: char| c.is_whitespace() || c == '(')
                .filter(|w| !w.is_empty())
                .map(|w| w.trim_matches('"').to_owned())
                .collect();
            let keywords: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
            let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
            match keywords.as_slice() {
                ["CREATE", "TABLE", "IF", "NOT", "EXISTS", ..] => {
                    tables.insert(words[5].clone());
                }
                ["CREATE", "TABLE", ..] => {
                    tables.insert(words[2].clone());
                }
                ["DROP", "TABLE", "IF", "EXISTS", ..] => {
                    tables.remove(&words[4]);
                }
                ["DROP", "TABLE", ..] => {
                    tables.remove(&words[2]);
                }
                ["ALTER", "TABLE", _, "RENAME", "TO", ..] => {
                    tables.remove(&words[2]);
                    tables.insert(words[5].clone());
                }
                _ => {}
            }
        }
    }
}

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The tables in the SQLite database at `path`, read from `sqlite_master`.
fn tables_in(path: &Path) -> BTreeSet<String> {
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table'")
        .load::<Table>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect()
}

#[test]
fn migrate_only_creates_every_table_exits_cleanly_and_can_run_again() {
    for service in ["registry", "crediting", "supervision", "quality"] {
        let mut expected = BTreeSet::new();
        tables_made_by(&root().join("libs/db/migrations/sqlite"), &mut expected);
        tables_made_by(
            &root().join(format!("services/{service}/migrations/sqlite")),
            &mut expected,
        );
        assert!(
            expected.contains("audit_log") && expected.len() > 3,
            "{service}: the migrations were not read: {expected:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(format!("{service}.db"));
        for run in ["install", "upgrade"] {
            let out = migrate(service, dir.path());
            assert!(
                out.status.success(),
                "{service} {run}: {:?}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(db.exists(), "{service} {run}: no {}", db.display());
            let found = tables_in(&db);
            let missing: Vec<_> = expected.difference(&found).collect();
            assert!(
                missing.is_empty(),
                "{service} {run}: tables missing from {}: {missing:?} (found {found:?})",
                db.display()
            );
        }
    }
}

/// A service that cannot start says why on its output without colour
/// codes when that output is a pipe (a log collector, a CI log), not a
/// terminal.
#[test]
fn a_failed_start_is_plain_text_on_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(ce_tests::process::binary("registry"))
        .env("CE_REGISTRY__DATA_DIR", dir.path())
        .env("CE_REGISTRY__ENVIRONMENT", "development")
        .env("CE_REGISTRY__SERVER__LISTEN", "127.0.0.1:0")
        .env(
            "CE_REGISTRY__DATABASE__URL",
            "sqlite:///proc/nowhere/registry.db",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "it started on a database it cannot use"
    );
    let said = [out.stdout, out.stderr].concat();
    let said = String::from_utf8_lossy(&said);
    assert!(said.contains("failed to start"), "{said}");
    assert!(!said.contains('\u{1b}'), "colour codes on a pipe: {said:?}");
}
