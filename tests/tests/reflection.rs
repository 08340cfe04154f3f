//! Server reflection from outside: Python's `grpcio-reflection` client
//! (from PyPI, in the venv `make test` makes; tests/reflection/reflect.py)
//! lists each of the four services over `grpc.reflection.v1alpha`,
//! describes one of its RPCs and calls it, with request and response types
//! built only from what reflection told it. `grpc.reflection.v1`, served
//! beside it, is checked with tonic's own client in `stack.rs`; without
//! v1alpha this test fails with UNIMPLEMENTED, as grpcurl 1.8 did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use ce_proto::common::Role;
use ce_tests::{Backend, QualityEnv, token};

/// The venv `make test` makes for the Python clients (`TEST_VENV`).
fn python() -> PathBuf {
    let venv = std::env::var_os("CE_TEST_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: `make test` makes it (make test-venv), with tests/reflection/requirements.txt",
        python.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_client_lists_describes_and_calls_every_service_through_reflection() {
    let env = QualityEnv::start(Backend::Sqlite).await;
    let ministry = env.registry.place.token(token(Role::Ministry, "ministry"));
    let targets = [
        (
            env.registry.service.addr(),
            "ce.registry.v1.RegistryService",
            "ListProvinces",
            "{}",
        ),
        (
            env.crediting.addr(),
            "ce.crediting.v1.CreditingService",
            "GetComplianceStatistics",
            r#"{"year": 2026}"#,
        ),
        (
            env.supervision_addr,
            "ce.supervision.v1.SupervisionService",
            "ListViolations",
            "{}",
        ),
        (
            env.service.addr(),
            "ce.quality.v1.QualityService",
            "ListScores",
            r#"{"period": "2026"}"#,
        ),
    ];
    let mut args = vec![ministry];
    for (addr, service, method, request) in &targets {
        args.extend([
            addr.to_string(),
            (*service).into(),
            (*method).into(),
            (*request).into(),
        ]);
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reflection/reflect.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "reflect.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), targets.len());
    for ((_, service, method, _), seen) in targets.iter().zip(&lines) {
        let services: Vec<&str> = seen["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for listed in [*service, "grpc.health.v1.Health"] {
            assert!(
                services.contains(&listed),
                "{listed} not listed: {services:?}"
            );
        }
        assert_eq!(seen["method"], format!("{service}.{method}"));
        let package = service.rsplit_once('.').unwrap().0;
        assert!(
            seen["input"].as_str().unwrap().starts_with(package),
            "{seen}"
        );
    }
    // What came back was decoded with the described types: the provinces
    // by name, and the statistics of the year asked for.
    let provinces = lines[0]["response"]["provinces"].as_array().unwrap();
    // The 31 provinces, autonomous regions and municipalities, and the
    // Xinjiang Production and Construction Corps.
    assert_eq!(provinces.len(), 32, "{}", lines[0]);
    assert!(
        provinces
            .iter()
            .any(|p| p["code"] == "44" && p["nameZh"] == "广东省"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["response"]["year"], 2026, "{}", lines[1]);
    assert!(
        lines[1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "rows"),
        "{}",
        lines[1]
    );
}
