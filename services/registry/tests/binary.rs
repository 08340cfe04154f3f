//! The `registry` binary as an operator meets it: configuration errors name
//! the key, production refuses the development key, JSON logs on request,
//! and SIGTERM stops it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn registry(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_registry"));
    c.env("CE_REGISTRY__DATA_DIR", dir)
        .env("CE_REGISTRY__ENVIRONMENT", "development")
        .env("CE_REGISTRY__SERVER__LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null());
    c
}

fn fails_with(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "configuration errors exit with 2"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_bad_value_in_the_environment_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        fails_with(registry(dir.path()).env("CE_REGISTRY__SERVER__REQUEST_TIMEOUT_SECS", "soon"));
    assert!(err.contains("server.request_timeout_secs"), "{err}");
}

#[test]
fn an_unknown_key_in_the_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.toml");
    std::fs::write(&file, "[server]\nlisten_address = \"127.0.0.1:1\"\n").unwrap();
    let err = fails_with(registry(dir.path()).arg("--config").arg(&file));
    assert!(err.contains("listen_address"), "{err}");
}

#[test]
fn an_argument_it_does_not_take_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails_with(registry(dir.path()).arg("--migrate_only"));
    assert!(err.contains("--migrate_only"), "{err}");
    let out = registry(dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && help.contains("--config <FILE>") && help.contains("--migrate-only"),
        "{help}"
    );
}

#[test]
fn a_provincial_overlay_that_raises_a_maximum_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("31.toml"),
        "id = \"31-2026\"\nprovince = \"31\"\neffective_from = \"2026-01-01\"\n[maxima]\ncompetition = 40\n",
    )
    .unwrap();
    let err = fails_with(registry(dir.path()).env("CE_REGISTRY__RULES__DIR", &rules));
    assert!(
        err.contains("rules.dir")
            && err.contains("province 31")
            && err.contains("maxima.competition")
            && err.contains("Art. 18(10)"),
        "{err}"
    );
}

#[test]
fn production_refuses_to_start_without_a_key_or_with_the_development_key() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails_with(registry(dir.path()).env("CE_REGISTRY__ENVIRONMENT", "production"));
    assert!(err.contains("auth.public_key_path"), "{err}");

    let key = ce_server::auth::DevKey::load_or_create(dir.path()).unwrap();
    let public = dir.path().join("verification.pem");
    std::fs::write(&public, key.public_pem()).unwrap();
    let err = fails_with(
        registry(dir.path())
            .env("CE_REGISTRY__ENVIRONMENT", "production")
            .env("CE_REGISTRY__AUTH__PUBLIC_KEY_PATH", &public),
    );
    assert!(err.contains("refuses the development signing key"), "{err}");
}

#[test]
fn it_logs_json_on_request_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = registry(dir.path())
        .env("CE_REGISTRY__TELEMETRY__LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let mut serving = None;
    while serving.is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "never started");
        let line = lines.next().unwrap().unwrap();
        let json: serde_json::Value = serde_json::from_str(&line).expect("every log line is JSON");
        if json["fields"]["message"] == "serving" {
            serving = Some(json);
        }
    }
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}");
    assert!(
        rest.iter().any(|l| l.contains("SIGTERM received")),
        "{rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("registry stopped")),
        "{rest:?}"
    );
}
