//! A process that exits while connections to PostgreSQL are being opened
//! exits cleanly. CI once lost a whole test binary to this: all its tests
//! passed, then it died with SIGSEGV at exit (OpenSSL's exit handler under
//! a pool still reconnecting). `libpq-exit` reproduces that moment.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// Runs `libpq-exit` `runs` times; the exit statuses that were not 0.
fn failures(as_services: bool, url: &str, runs: usize) -> Vec<String> {
    let mut failed = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_libpq-exit"));
        if as_services {
            cmd.arg("--as-services");
        }
        let out = cmd.arg(url).output().unwrap();
        match out.status.code() {
            Some(0) => {}
            Some(2) => panic!(
                "libpq-exit could not connect: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            _ => failed.push(format!(
                "{} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
        }
    }
    failed
}

#[test]
fn exiting_while_connections_are_opened_does_not_crash() {
    let db = ce_tests::pg::fresh_database();
    // The URL as an operator gives it, without what libpq_url adds.
    let url = db
        .url()
        .replace("&gssencmode=disable", "")
        .replace("?gssencmode=disable", "");
    let runs = 30;
    // libpq left to itself: the crash this guards against, for the record
    // (it needs the race to land, so it is reported rather than asserted).
    let bare = failures(false, &url, runs);
    println!(
        "libpq defaults: {} of {runs} runs crashed at exit",
        bare.len()
    );
    let set_up = failures(true, &url, runs);
    assert!(
        set_up.is_empty(),
        "{} of {runs} runs set up as the services are crashed at exit: {set_up:?}",
        set_up.len()
    );
}
