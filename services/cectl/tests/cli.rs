//! `cectl` against a running registry: a development token, a call that
//! succeeds, and one whose bad fields are named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn cectl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cectl"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_mints_a_token_and_calls_the_registry_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let mut config = ce_server::app::ServiceConfig::load("registry", 0, None).unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.environment = ce_server::config::Environment::Development;
    config.telemetry.log_filter = "warn".into();
    let running = registry::start(config, std::future::pending())
        .await
        .unwrap();
    let addr = format!("http://{}", running.local_addr());

    let out = tokio::task::spawn_blocking(move || {
        cectl(&[
            "token",
            "--role",
            "provincial_hrss",
            "--province",
            "44",
            "--data-dir",
            &data,
        ])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let (a, t) = (addr.clone(), token.clone());
    let code = registry::ids::credit_code_with_check("91440101MA59ABCD5").unwrap();
    let request = format!(
        r#"{{"employer": {{"creditCode": "{code}", "displayName": "Pearl River Power",
            "kind": "EMPLOYER_KIND_ENTERPRISE", "province": "44"}}}}"#
    );
    let ok = tokio::task::spawn_blocking(move || {
        cectl(&[
            "call",
            "--addr",
            &a,
            "--token",
            &t,
            "RegistryService/CreateEmployer",
            &request,
        ])
    })
    .await
    .unwrap();
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert!(json["name"].as_str().unwrap().starts_with("employers/"));
    assert_eq!(json["kind"], "EMPLOYER_KIND_ENTERPRISE");
    assert_eq!(json["creditCode"], code.as_str());

    let bad = tokio::task::spawn_blocking(move || {
        cectl(&[
            "call",
            "--addr",
            &addr,
            "--token",
            &token,
            "RegistryService/CreateEngineer",
            r#"{"engineer": {"idNumber": "110105194912310021", "province": "44"}}"#,
        ])
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(
        err.contains("engineer.id_number: check character is 1, expected X (GB 11643)"),
        "{err}"
    );
    assert!(err.contains("engineer.field"), "{err}");
    assert!(err.contains("request id"), "{err}");
    running.shutdown().await.unwrap();
}

#[test]
fn an_unknown_role_or_method_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = cectl(&[
        "token",
        "--role",
        "mayor",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--role mayor: use ministry"),
        "{}",
        text(&out.stderr)
    );

    let out = cectl(&["call", "RegistryService/DeleteEverything"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("RegistryService/ListProvinces"),
        "lists the known methods"
    );
}
