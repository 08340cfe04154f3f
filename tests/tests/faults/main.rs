//! The fault suite (`make faults`, part of `make test`): crashes that must
//! lose nothing and double nothing. Each test states what it expects and
//! checks it by counting; every loop is bounded in rounds and in time.
//!
//! - The crediting process is killed with SIGKILL at random points of a bulk
//!   upload, many times; the client sends everything again with the same
//!   keys after each crash; in the end the stored records are exactly the
//!   intended ones, on both backends.
//! - PostgreSQL is restarted (a server of the test's own) while clients
//!   write and read: every failed call is UNAVAILABLE, which clients retry;
//!   health reports the outage and the recovery; the service recovers
//!   without a restart; and every write it acknowledged is there.
//! - Hostile clients: 2,000 bulk uploads that stall, a malformed and an
//!   oversized message, a burst of 3,000 calls. The stalled uploads are let
//!   go after `server.stream_idle_secs`, the bad messages get clean errors,
//!   the burst is answered or shed with RESOURCE_EXHAUSTED, another client
//!   is served all along, and the process's peak memory stays bounded.
//! - A hostile reader against the release build of the registry (built by
//!   `make faults` and `make test`; a plain `cargo test` without it skips
//!   the test, saying so): 2,000 concurrent `ListEngineers` of 1,000 rows
//!   over 8 connections from one client, each shed call sent again until
//!   answered. Another client is served on every call within 5 s, the
//!   registry's peak memory is printed and stays under 512 MiB, and once
//!   the load ends every connection, idle now, is closed after
//!   `server.idle_timeout_secs`. (Pages cut by bytes, and silent and
//!   half-open connections, are tested in `bounds.rs`.)
//!
//! - The registry is down while supervision decides a standing change: the
//!   decision succeeds, delivery fails and says why, and once the registry
//!   is back the change lands exactly once.
//!
//! Other faults are tested beside the features they threaten: a database
//! connection cut and load shedding (`stack.rs`), crediting down during an
//! Art. 27 decision (`supervision/`), supervision down when quality
//! reports a poor result (`quality/standing.rs`). `make faults` runs them all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ce_proto::common::{DeliveryMode, SubjectCategory};
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::{
    BulkUploadHourRecordsRequest, FaceToFaceTraining, HourRecord, ListHourRecordsRequest,
};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{
    self as reg, CreateEmployerRequest, ListEmployersRequest, ListEngineersRequest,
};
use ce_server::auth::TokenRequest;
use ce_tests::RawCodec;
use ce_tests::cases;
use ce_tests::process::{Proc, free_port, server_connections};
use ce_tests::{Backend, RegistryEnv, both_backends, resident_id, world};
use rand::{Rng, SeedableRng};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

mod crash;
mod database;
mod hostile;
mod registry_down;
mod release;

/// Engineers, and days of one-hour training each: the intended records.
const ENGINEERS: usize = 8;
const DAYS: usize = 100;

fn date(day: usize) -> Option<ce_proto::google::r#type::Date> {
    let d = time::macros::date!(2026 - 03 - 01) + time::Duration::days(day as i64);
    Some(ce_proto::google::r#type::Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

/// The registry's side: an employer, the engineers, and a department's
/// seminar long enough for every day.
async fn registered(env: &RegistryEnv) -> (Vec<String>, String) {
    let mut clerk = env.province("44");
    let employer = world::create_employer(&mut clerk, world::employer("44")).await;
    let engineers = world::create_engineers(&mut clerk, "44", &employer, ENGINEERS).await;
    let seminar = world::activity("44", date(0), date(DAYS), 8.0);
    let seminar = world::create_activity(&mut clerk, seminar).await;
    (engineers, seminar)
}

/// The environment of a `crediting-on` process on `port`, over the
/// registry's place (its data folder and its crediting database), with
/// today fixed and `extra` settings (`SERVER__…` keys).
fn crediting_settings(
    env: &RegistryEnv,
    port: u16,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("DATA_DIR", env.place.data_dir().display().to_string()),
        ("DATABASE__URL", env.place.config("crediting").database.url),
        ("SERVER__LISTEN", format!("127.0.0.1:{port}")),
        ("PEERS__REGISTRY", env.service.url()),
        ("TELEMETRY__LOG_FILTER", "warn,ce_server::serve=info".into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let mut settings = ce_tests::process::env("crediting", &pairs);
    settings.push(("CE_TEST_TODAY".into(), "2026-11-25".into()));
    settings
}

/// A new connection to `url`.
async fn connect(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Resident and peak memory of a process, in KiB (`/proc/PID/status`).
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
