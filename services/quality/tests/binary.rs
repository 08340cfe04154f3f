//! The `quality` binary as the Helm chart's migration Job runs it:
//! `--migrate-only` creates the schema, exits 0, and is safe to run again
//! (pre-upgrade runs it on every release).
//!
//! Being an integration test of this package, it also makes `cargo test
//! --workspace` build the binary that the cross-service tests in `tests/`
//! start as a process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

fn migrate(dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quality"))
        .arg("--migrate-only")
        .env("CE_QUALITY__DATA_DIR", dir)
        .env("CE_QUALITY__ENVIRONMENT", "development")
        .env("CE_QUALITY__SERVER__LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn migrate_only_creates_the_database_exits_cleanly_and_can_run_again() {
    let dir = tempfile::tempdir().unwrap();
    for run in ["install", "upgrade"] {
        let out = migrate(dir.path());
        assert!(
            out.status.success(),
            "{run}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let db = dir.path().join("quality.db");
    let len = std::fs::metadata(&db)
        .unwrap_or_else(|e| panic!("{}: {e}", db.display()))
        .len();
    assert!(len > 0, "{} is empty", db.display());
}
