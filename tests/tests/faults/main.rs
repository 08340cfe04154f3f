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
//! Art. 27 decision (`supervision.rs`), supervision down when quality
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
use ce_tests::process::{Proc, free_port, server_connections};
use ce_tests::{Backend, RegistryEnv, both_backends, resident_id, world};
use rand::{Rng, SeedableRng};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Engineers, and days of one-hour training each: the intended records.
const ENGINEERS: usize = 8;
const DAYS: usize = 100;
/// Records per message.
const MESSAGE: usize = 40;
/// Crashes before the final, uninterrupted upload.
const KILLS: usize = 20;

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

/// Every intended record, keyed.
fn intended(engineers: &[String], seminar: &str) -> Vec<HourRecord> {
    let mut out = Vec::new();
    for day in 0..DAYS {
        for (e, engineer) in engineers.iter().enumerate() {
            out.push(HourRecord {
                engineer: engineer.clone(),
                registry_activity: seminar.to_owned(),
                activity: Some(A::FaceToFace(FaceToFaceTraining {
                    subject_category: SubjectCategory::Professional as i32,
                    start_date: date(day),
                    days: 1,
                    hours_per_day: 1.0,
                })),
                client_key: format!("fault-{e}-{day}"),
                ..Default::default()
            });
        }
    }
    out
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

/// What one upload attempt saw: the answers it got (key → record name)
/// and whether it ran to the end.
struct Attempt {
    answered: BTreeMap<String, String>,
    complete: bool,
}

/// Sends every record; if `kill_after` is given, SIGKILLs crediting once
/// that many messages have been answered (plus a random sliver of time, so
/// the kill also lands inside a transaction).
async fn upload(
    url: &str,
    token: &str,
    records: &[HourRecord],
    kill: Option<(usize, u64, &mut Proc)>,
) -> Attempt {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = CreditingServiceClient::with_interceptor(channel, ce_tests::bearer(token));
    let messages: Vec<BulkUploadHourRecordsRequest> = records
        .chunks(MESSAGE)
        .map(|c| BulkUploadHourRecordsRequest {
            hour_records: c.to_vec(),
        })
        .collect();
    let total = messages.len();
    let mut answered = BTreeMap::new();
    let mut stream = match client
        .bulk_upload_hour_records(tokio_stream::iter(messages))
        .await
    {
        Ok(s) => s.into_inner(),
        Err(_) => {
            return Attempt {
                answered,
                complete: false,
            };
        }
    };
    let (kill_after, sliver, proc) = match kill {
        Some((n, micros, p)) => (Some(n), micros, Some(p)),
        None => (None, 0, None),
    };
    let mut proc = proc;
    let mut messages_answered = 0;
    if kill_after == Some(0)
        && let Some(p) = proc.take()
    {
        tokio::time::sleep(Duration::from_micros(sliver)).await;
        p.kill();
    }
    loop {
        let next = tokio::time::timeout(Duration::from_secs(60), stream.message()).await;
        let Ok(Ok(Some(answer))) = next else { break };
        for r in answer.results {
            let record = r
                .hour_record
                .unwrap_or_else(|| panic!("{} refused: {:?}", r.client_key, r.refusal));
            answered.insert(r.client_key, record.name);
        }
        messages_answered += 1;
        if Some(messages_answered) == kill_after
            && let Some(p) = proc.take()
        {
            tokio::time::sleep(Duration::from_micros(sliver)).await;
            p.kill();
        }
    }
    Attempt {
        complete: messages_answered == total,
        answered,
    }
}

async fn a_crediting_process_killed_mid_upload_loses_and_doubles_nothing(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let (engineers, seminar) = registered(&env).await;
    let records = intended(&engineers, &seminar);
    let messages = records.len().div_ceil(MESSAGE);
    let token = env.place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "hrss-44-clerk")
    });
    let seed: u64 = std::env::var("CE_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("CE_FAULT_SEED={seed} reproduces this run's kill points");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let settings = crediting_settings(&env, port, &[]);

    // Every answer any attempt got: a key always names the same record.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let (mut interrupted, mut answered_before_kill) = (0, Vec::new());
    let started = Instant::now();
    for round in 0..KILLS {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "round {round}: the suite is bounded in time"
        );
        let mut crediting = Proc::start("crediting-on", &settings);
        crediting.serving("crediting").await;
        let kill_after = rng.gen_range(0..messages);
        let sliver = rng.gen_range(0..5_000);
        let attempt = upload(
            &url,
            &token,
            &records,
            Some((kill_after, sliver, &mut crediting)),
        )
        .await;
        if !attempt.complete {
            interrupted += 1;
        }
        answered_before_kill.push(attempt.answered.len());
        for (key, name) in attempt.answered {
            if let Some(before) = seen.insert(key.clone(), name.clone()) {
                assert_eq!(before, name, "{key} answered with two records");
            }
        }
        crediting.kill();
    }

    println!("records answered before each kill: {answered_before_kill:?}");
    assert!(
        interrupted >= KILLS / 2,
        "the kills landed during the uploads: {interrupted} of {KILLS} interrupted"
    );

    // The last attempt runs to the end and is answered in full.
    let mut crediting = Proc::start("crediting-on", &settings);
    crediting.serving("crediting").await;
    let last = upload(&url, &token, &records, None).await;
    assert!(last.complete, "the final upload is answered in full");
    assert_eq!(last.answered.len(), records.len());
    for (key, name) in &last.answered {
        if let Some(before) = seen.get(key) {
            assert_eq!(before, name, "{key} stored twice");
        }
    }

    // Exactly the intended records are stored: none lost, none doubled.
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = CreditingServiceClient::with_interceptor(channel, ce_tests::bearer(&token));
    let mut stored_keys = Vec::new();
    for engineer in &engineers {
        let stored = ce_tests::all_hour_records(&mut client, engineer).await;
        stored_keys.extend(stored.into_iter().map(|r| r.client_key));
    }
    let want: BTreeSet<String> = records.iter().map(|r| r.client_key.clone()).collect();
    let got: BTreeSet<String> = stored_keys.iter().cloned().collect();
    assert_eq!(stored_keys.len(), records.len(), "no record stored twice");
    assert_eq!(got, want, "every intended record stored");
    crediting.stop();
}

both_backends!(a_crediting_process_killed_mid_upload_loses_and_doubles_nothing);

async fn health(channel: tonic::transport::Channel) -> ServingStatus {
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    ServingStatus::try_from(status).unwrap()
}

/// What the clients saw, call by call.
#[derive(Default)]
struct Outcomes {
    codes: BTreeMap<String, usize>,
    acknowledged: Vec<String>,
    /// Failures other than UNAVAILABLE, with their messages.
    unexpected: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_is_unavailable_then_recovers_and_keeps_every_write() {
    let cluster = ce_tests::pg::PrivateCluster::start();
    let place = ce_tests::Place::new(Backend::Postgres);
    let mut config = place.config("registry");
    config.database.url = cluster.database("registry_restart");
    config.database.max_connections = 4;
    let service = ce_tests::start_service(config, registry::start).await;
    let token = place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "hrss-44-clerk")
    });
    let channel = service.channel().await;

    // Four clients write and read until told to stop (and for at most two minutes).
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (channel, token, outcomes, stop) = (
            channel.clone(),
            token.clone(),
            outcomes.clone(),
            stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut c = RegistryServiceClient::with_interceptor(channel, ce_tests::bearer(&token));
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(120) {
                let created = c
                    .create_employer(CreateEmployerRequest {
                        employer: Some(reg::Employer {
                            display_name: "Under Load Ltd".into(),
                            ..world::employer("44")
                        }),
                    })
                    .await;
                let read = c.list_employers(ListEmployersRequest::default()).await;
                {
                    let mut o = outcomes.lock().unwrap();
                    for err in [created.as_ref().err(), read.as_ref().err()] {
                        let code = err.map(|e| e.code()).unwrap_or(Code::Ok);
                        *o.codes.entry(format!("{code:?}")).or_default() += 1;
                        if let Some(e) = err
                            && e.code() != Code::Unavailable
                        {
                            o.unexpected
                                .push(format!("{:?}: {}", e.code(), e.message()));
                        }
                    }
                    if let Ok(e) = created {
                        o.acknowledged.push(e.into_inner().name);
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let wait_for = |what: &'static str, seconds: u64| {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        move || assert!(Instant::now() < deadline, "{what} within {seconds} s")
    };

    // Some load first, then the restart.
    let check = wait_for("calls succeeding before the restart", 30);
    while outcomes.lock().unwrap().acknowledged.len() < 20 {
        check();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::task::block_in_place(|| cluster.stop());
    let check = wait_for("health reporting the outage", 30);
    while health(channel.clone()).await != ServingStatus::NotServing {
        check();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let during = outcomes
        .lock()
        .unwrap()
        .codes
        .get("Unavailable")
        .copied()
        .unwrap_or(0);
    let check = wait_for("clients meeting the outage", 30);
    while outcomes
        .lock()
        .unwrap()
        .codes
        .get("Unavailable")
        .copied()
        .unwrap_or(0)
        < during + 8
    {
        check();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::task::block_in_place(|| cluster.start_again());

    // The same service process recovers: health, then calls.
    let check = wait_for("health reporting the recovery", 60);
    while health(channel.clone()).await != ServingStatus::Serving {
        check();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = outcomes.lock().unwrap().acknowledged.len();
    let check = wait_for("writes succeeding after the restart", 60);
    while outcomes.lock().unwrap().acknowledged.len() < after + 20 {
        check();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }

    let o = std::mem::take(&mut *outcomes.lock().unwrap());
    println!(
        "outcomes: {:?}, {} writes acknowledged",
        o.codes,
        o.acknowledged.len()
    );
    assert!(
        o.codes.get("Unavailable").copied().unwrap_or(0) > 0,
        "the outage was felt"
    );
    let others: Vec<_> = o
        .codes
        .iter()
        .filter(|(code, _)| !matches!(code.as_str(), "Ok" | "Unavailable"))
        .collect();
    assert!(
        others.is_empty(),
        "every failure is UNAVAILABLE (retryable): {others:?} {:?}",
        o.unexpected
    );
    // Every acknowledged write is there.
    let mut c = RegistryServiceClient::with_interceptor(channel.clone(), ce_tests::bearer(&token));
    let mut listed = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = c
            .list_employers(ListEmployersRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        listed.extend(page.employers.into_iter().map(|e| e.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let missing: Vec<_> = o
        .acknowledged
        .iter()
        .filter(|n| !listed.contains(*n))
        .collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
    service.stop().await;
}

/// Bytes sent as they are: for malformed and oversized messages.
#[derive(Clone, Default)]
struct RawCodec;
struct RawEncoder;
struct RawDecoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// `bytes` sent as a CreateHourRecord request.
async fn raw_create(url: &str, token: &str, bytes: Vec<u8>) -> tonic::Status {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel).max_encoding_message_size(64 << 20);
    grpc.ready().await.unwrap();
    let mut req = tonic::Request::new(bytes);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    grpc.unary(
        req,
        "/ce.crediting.v1.CreditingService/CreateHourRecord"
            .parse()
            .unwrap(),
        RawCodec,
    )
    .await
    .unwrap_err()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_are_shed_or_refused_and_others_are_still_served() {
    let env = RegistryEnv::start(Backend::Sqlite).await;
    let (engineers, _) = registered(&env).await;
    let token = env.place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "hrss-44-clerk")
    });
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let settings = crediting_settings(
        &env,
        port,
        &[
            ("SERVER__STREAM_IDLE_SECS", "3"),
            ("SERVER__MAX_CONCURRENT_REQUESTS", "64"),
            ("SERVER__MAX_CONCURRENT_REQUESTS_PER_CALLER", "16"),
        ],
    );
    let mut crediting = Proc::start("crediting-on", &settings);
    crediting.serving("crediting").await;
    let (baseline, _) = memory_kib(crediting.id());
    // Another caller of the same province: the stalls are not its own.
    let other_token = env.place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(
            ce_proto::common::Role::ProvincialHrss,
            "hrss-44-other-clerk",
        )
    });

    // 2,000 bulk uploads over 8 connections that send one empty message and stall.
    const STALLED: usize = 2000;
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        for _ in 0..STALLED / 8 {
            let mut client =
                CreditingServiceClient::with_interceptor(channel.clone(), ce_tests::bearer(&token));
            stalled.push(tokio::spawn(async move {
                let first = tokio_stream::iter(vec![BulkUploadHourRecordsRequest::default()]);
                let never = tokio_stream::StreamExt::chain(first, tokio_stream::pending());
                let started = Instant::now();
                let outcome = match client.bulk_upload_hour_records(never).await {
                    Err(status) => status.code(),
                    Ok(answers) => {
                        let mut answers = answers.into_inner();
                        loop {
                            match tokio::time::timeout(Duration::from_secs(60), answers.message())
                                .await
                            {
                                Ok(Ok(Some(_))) => continue,
                                Ok(Ok(None)) => break Code::Ok,
                                Ok(Err(status)) => break status.code(),
                                Err(_) => break Code::Unknown,
                            }
                        }
                    }
                };
                (outcome, started.elapsed())
            }));
        }
    }

    // Meanwhile another client is served, on its own connection.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut other =
        CreditingServiceClient::with_interceptor(channel, ce_tests::bearer(&other_token));
    let mut served = 0;
    for engineer in engineers.iter().cycle().take(40) {
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            other.list_hour_records(ListHourRecordsRequest {
                engineer: engineer.clone(),
                ..Default::default()
            }),
        )
        .await
        .expect("a call of another client waited more than 10 s");
        match answer {
            Ok(_) => served += 1,
            Err(s) => assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}"),
        }
    }
    println!("another client, 40 calls during the stalls: {served} served");
    // The stalls hold their streams' permits, but only their caller's
    // share (16 of 64), so another caller is served, not merely not
    // starved.
    assert!(
        served >= 30,
        "another client is still served: {served} of 40"
    );

    // Malformed and oversized messages get clean errors.
    // (From the other caller: the stalls hold their own caller's share.)
    let garbage = raw_create(&url, &other_token, vec![0xff; 64]).await;
    assert_eq!(garbage.code(), Code::InvalidArgument, "{garbage:?}");
    assert!(
        garbage.message().contains("not a valid message"),
        "{garbage:?}"
    );
    let huge = raw_create(&url, &other_token, vec![0x0a; 5 << 20]).await;
    assert!(
        matches!(huge.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{huge:?}"
    );

    // A burst of thousands of unary calls: what does not fit is shed with
    // RESOURCE_EXHAUSTED at once, the rest is answered; nothing else.
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut burst = Vec::new();
    for i in 0..3000 {
        let mut c = CreditingServiceClient::with_interceptor(
            channel.clone(),
            ce_tests::bearer(&other_token),
        );
        let engineer = engineers[i % engineers.len()].clone();
        burst.push(tokio::spawn(async move {
            c.list_hour_records(ListHourRecordsRequest {
                engineer,
                ..Default::default()
            })
            .await
            .err()
            .map_or(Code::Ok, |s| {
                if !matches!(s.code(), Code::ResourceExhausted) {
                    println!("burst call: {s:?}");
                }
                s.code()
            })
        }));
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for b in burst {
        *codes.entry(format!("{:?}", b.await.unwrap())).or_default() += 1;
    }
    println!("burst of 3000: {codes:?}");
    assert!(
        codes.keys().all(|c| c == "Ok" || c == "ResourceExhausted"),
        "{codes:?}"
    );
    assert!(codes.contains_key("Ok"), "{codes:?}");
    // 3000 at once over a caller's share of 16 in flight: some must have
    // been shed, or the limit did not hold.
    assert!(codes.contains_key("ResourceExhausted"), "{codes:?}");

    // The stalled uploads are let go after the idle limit.
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut longest = Duration::ZERO;
    for s in stalled {
        let (code, took) = s.await.unwrap();
        longest = longest.max(took);
        *outcomes.entry(format!("{code:?}")).or_default() += 1;
    }
    println!("stalled uploads ended: {outcomes:?}, the longest after {longest:?}");
    assert_eq!(
        outcomes.get("DeadlineExceeded").copied().unwrap_or(0)
            + outcomes.get("ResourceExhausted").copied().unwrap_or(0),
        STALLED,
        "each stalled upload is ended by the idle limit or shed: {outcomes:?}"
    );
    let (after, peak) = memory_kib(crediting.id());
    println!("crediting memory: {baseline} KiB before, peak {peak} KiB, {after} KiB after");
    assert!(
        peak < baseline + 256 * 1024,
        "memory stays bounded: {baseline} KiB before, peak {peak} KiB"
    );
    // And it still serves.
    other
        .list_hour_records(ListHourRecordsRequest {
            engineer: engineers[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    crediting.stop();
}

async fn a_standing_decision_made_while_the_registry_is_down_lands_exactly_once(b: Backend) {
    use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
    use ce_proto::supervision::{DecideViolationRequest, GetViolationRequest};

    let place = ce_tests::Place::new(b);
    let registry = ce_tests::start_service(place.config("registry"), registry::start).await;
    let registry_addr = registry.addr();
    let mut config = place.config("supervision");
    config.peers.insert("registry".into(), registry.url());
    // Crediting is not needed for an institution's standing.
    config.peers.insert(
        "crediting".into(),
        format!("http://127.0.0.1:{}", free_port()),
    );
    let supervision = ce_tests::start_service(config, supervision::start).await;
    let token = place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "hrss-44-inspector")
    });
    let registry_channel = tonic::transport::Endpoint::from_shared(registry.url())
        .unwrap()
        .connect_lazy();
    let mut reg =
        RegistryServiceClient::with_interceptor(registry_channel, ce_tests::bearer(&token));
    let mut sup = SupervisionServiceClient::with_interceptor(
        supervision.channel().await,
        ce_tests::bearer(&token),
    );
    let academy = reg::Institution {
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..world::institution("44")
    };
    let institution = world::create_institution(&mut reg, academy).await;
    let case = world::fees_without_training(&institution);
    let case = world::create_violation(&mut sup, case).await;

    // The registry goes down; the decision still succeeds and waits.
    registry.stop().await;
    let decided = sup
        .decide_violation(DecideViolationRequest {
            name: case.clone(),
            decision: Some(world::first_offence_warning()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        decided.pending_effects, 1,
        "the standing change waits for the registry"
    );
    // Delivery is tried, fails, and says why.
    let ministry = place.token(ce_tests::token(ce_proto::common::Role::Ministry, "ops"));
    let mut ops = SupervisionServiceClient::with_interceptor(
        supervision.channel().await,
        ce_tests::bearer(&ministry),
    );
    let started = Instant::now();
    loop {
        let s = ops
            .get_outbox_status(ce_proto::supervision::GetOutboxStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        if !s.oldest_last_error.is_empty() {
            assert_eq!(s.pending, 1, "{s:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no delivery attempt: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // It comes back on the same address: the change lands, once.
    let mut config = place.config("registry");
    config.server.listen = registry_addr;
    let registry = ce_tests::start_service(config, registry::start).await;
    let started = Instant::now();
    loop {
        let v = sup
            .get_violation(GetViolationRequest { name: case.clone() })
            .await
            .unwrap()
            .into_inner();
        if v.pending_effects == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the standing change never landed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let changes = reg
        .list_standing_changes(reg::ListStandingChangesRequest {
            parent: institution.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .standing_changes;
    let warnings = changes
        .iter()
        .filter(|c| c.standing == reg::Standing::Warned as i32)
        .count();
    assert_eq!(warnings, 1, "delivered exactly once: {changes:?}");
    supervision.stop().await;
    registry.stop().await;
}

both_backends!(a_standing_decision_made_while_the_registry_is_down_lands_exactly_once);

/// The release build of a service binary, which `make faults` and
/// `make test` build first (`cargo build --release -p NAME`) and then
/// require (`CE_REQUIRE_RELEASE=1`): memory figures are only meaningful
/// for the code that runs in production. Without it, and not required,
/// `None`: a plain `cargo test` skips the test, saying so.
fn release_binary(name: &str) -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/faults-… → target/release/NAME
    let target = exe.ancestors().nth(3).unwrap();
    let path = target.join("release").join(name);
    if path.exists() {
        return Some(path);
    }
    let required = std::env::var_os("CE_REQUIRE_RELEASE").is_some_and(|v| v == "1");
    assert!(
        !required,
        "{} is missing: run `cargo build --release -p {name}` (make faults does)",
        path.display()
    );
    println!(
        "SKIPPED: {} is missing; `make faults` builds it and runs this test",
        path.display()
    );
    None
}

/// `request` sent to `path`, its answer's bytes as they came: the hostile
/// client does not decode a thousand engineers 2,000 times.
async fn raw_call(
    channel: tonic::transport::Channel,
    token: &str,
    path: &'static str,
    request: Vec<u8>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut req = tonic::Request::new(request);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    grpc.unary(req, path.parse().unwrap(), RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_registry_under_2000_concurrent_thousand_row_lists_serves_others_in_bounded_memory()
{
    use prost::Message;
    let Some(binary) = release_binary("registry") else {
        return;
    };
    const ENGINEERS: usize = 1000;
    const CALLS: usize = 2000;
    const CONNECTIONS: usize = 8;
    const IDLE_SECS: u64 = 3;

    let place = ce_tests::Place::new(Backend::Sqlite);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let settings = ce_tests::process::env(
        "registry",
        &[
            ("ENVIRONMENT", "development".into()),
            ("DATA_DIR", place.data_dir().display().to_string()),
            ("DATABASE__URL", place.config("registry").database.url),
            ("SERVER__LISTEN", format!("127.0.0.1:{port}")),
            ("SERVER__IDLE_TIMEOUT_SECS", IDLE_SECS.to_string()),
            ("TELEMETRY__LOG_FILTER", "warn,ce_server::serve=info".into()),
        ],
    );
    let mut registry = Proc::start_at(&binary, &settings);
    registry.serving("registry").await;
    let pid = registry.id();
    let (baseline, _) = memory_kib(pid);

    let token = place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "hrss-44-clerk")
    });
    let other_token = place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(
            ce_proto::common::Role::ProvincialHrss,
            "hrss-44-other-clerk",
        )
    });
    let connect = || async {
        tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap()
    };

    // A thousand engineers, sixteen created at a time.
    let setup = connect().await;
    let mut r = RegistryServiceClient::with_interceptor(setup.clone(), ce_tests::bearer(&token));
    let employer = world::create_employer(&mut r, world::employer("44")).await;
    let started = Instant::now();
    world::create_engineers_concurrently(&r, "44", &employer, ENGINEERS, 16, |_| resident_id("44"))
        .await;
    println!(
        "{ENGINEERS} engineers registered in {:?}",
        started.elapsed()
    );
    drop(r);
    drop(setup);

    // The hostile client: 2,000 calls at once over 8 connections, each
    // asking for a thousand engineers, each shed call sent again until
    // answered (for at most two minutes).
    let request = ListEngineersRequest {
        province: "44".into(),
        page_size: 1000,
        ..Default::default()
    }
    .encode_to_vec();
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        channels.push(connect().await);
    }
    let load_started = Instant::now();
    let mut hostile = Vec::new();
    for i in 0..CALLS {
        let (channel, token, request) = (
            channels[i % CONNECTIONS].clone(),
            token.clone(),
            request.clone(),
        );
        hostile.push(tokio::spawn(async move {
            let mut shed = 0usize;
            loop {
                match raw_call(
                    channel.clone(),
                    &token,
                    "/ce.registry.v1.RegistryService/ListEngineers",
                    request.clone(),
                )
                .await
                {
                    Ok(bytes) => return (Ok(bytes.len()), shed),
                    Err(s) if s.code() == Code::ResourceExhausted => {
                        shed += 1;
                        if load_started.elapsed() > Duration::from_secs(120) {
                            return (Err(s.code()), shed);
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(s) => return (Err(s.code()), shed),
                }
            }
        }));
    }

    // Meanwhile the other client is served on every call, within 5 s.
    let mut other =
        RegistryServiceClient::with_interceptor(connect().await, ce_tests::bearer(&other_token));
    let (mut served, mut slowest) = (0usize, Duration::ZERO);
    while hostile.iter().any(|h| !h.is_finished()) {
        let started = Instant::now();
        let page = tokio::time::timeout(
            Duration::from_secs(5),
            other.list_engineers(ListEngineersRequest {
                province: "44".into(),
                page_size: 50,
                ..Default::default()
            }),
        )
        .await
        .expect("a call of the other client waited more than 5 s")
        .unwrap_or_else(|s| panic!("the other client was refused: {s:?}"))
        .into_inner();
        assert_eq!(page.engineers.len(), 50);
        slowest = slowest.max(started.elapsed());
        served += 1;
        assert!(
            load_started.elapsed() < Duration::from_secs(180),
            "the load ends"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = load_started.elapsed();
    let (mut answered, mut shed, mut failed) = (0usize, 0usize, BTreeMap::new());
    let mut bytes = 0usize;
    for h in hostile {
        let (outcome, s) = h.await.unwrap();
        shed += s;
        match outcome {
            Ok(n) => {
                answered += 1;
                bytes += n;
            }
            Err(code) => *failed.entry(format!("{code:?}")).or_insert(0usize) += 1,
        }
    }
    let (after, peak) = memory_kib(pid);
    let threads = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Threads:"))
        .map(str::to_owned)
        .unwrap_or_default();
    println!("registry {threads}");
    println!(
        "{CALLS} concurrent ListEngineers of {ENGINEERS} rows over {CONNECTIONS} connections: \
         {answered} answered ({} MiB) after {shed} sheds, failed {failed:?}, in {took:?}",
        bytes >> 20
    );
    println!("the other client: {served} calls served, the slowest in {slowest:?}");
    println!(
        "registry (release) memory: {baseline} KiB at start, peak {peak} KiB ({} MiB), {after} KiB after",
        peak / 1024
    );
    assert!(served > 0, "the other client called during the load");
    assert_eq!(
        answered, CALLS,
        "every hostile call answered in the end: {failed:?}"
    );
    assert!(
        bytes / CALLS > ENGINEERS * 100,
        "each answer holds the thousand engineers: {} bytes",
        bytes / CALLS
    );
    assert!(
        peak < 512 * 1024,
        "the registry's peak memory stays under 512 MiB: {peak} KiB"
    );

    // Every connection is idle now (none is dropped by the clients): the
    // server closes them all after the idle timeout.
    let open = server_connections(port);
    println!("{open} connections open when the load ended");
    assert!(
        open >= CONNECTIONS,
        "the clients' connections are open: {open}"
    );
    let idle_from = Instant::now();
    while server_connections(port) > 0 {
        assert!(
            idle_from.elapsed() < Duration::from_secs(IDLE_SECS + 15),
            "idle connections still open: {}",
            server_connections(port)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "every idle connection closed {:?} after the load (idle timeout {IDLE_SECS} s)",
        idle_from.elapsed()
    );
    drop(channels);
    drop(other);
    drop(registry);
}
