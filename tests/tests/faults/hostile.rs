//! Hostile clients of crediting: stalled uploads let go, bad messages
//! answered cleanly, a burst answered or shed, another client served all
//! along, and the process's memory bounded.

use super::*;

/// How many bulk uploads stall.
const STALLED: usize = 2000;

/// `bytes` sent as a CreateHourRecord request.
async fn raw_create(url: &str, token: &str, bytes: Vec<u8>) -> tonic::Status {
    let channel = connect(url).await;
    let mut grpc = tonic::client::Grpc::new(channel).max_encoding_message_size(64 << 20);
    grpc.ready().await.unwrap();
    let mut req = tonic::Request::new(bytes);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    ce_tests::refusal(
        grpc.unary(
            req,
            "/ce.crediting.v1.CreditingService/CreateHourRecord"
                .parse()
                .unwrap(),
            RawCodec,
        ),
    )
    .await
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

    let stalled = stall_uploads(&url, &token).await;

    let mut other = another_caller_is_served(&url, &other_token, &engineers).await;
    bad_messages_get_clean_errors(&url, &other_token).await;
    a_burst_is_answered_or_shed(&url, &other_token, &engineers).await;
    stalled_uploads_are_let_go(stalled).await;

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

/// 2,000 bulk uploads over 8 connections that send one empty message and stall.
async fn stall_uploads(url: &str, token: &str) -> Vec<tokio::task::JoinHandle<(Code, Duration)>> {
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let channel = connect(url).await;
        for _ in 0..STALLED / 8 {
            let mut client =
                CreditingServiceClient::with_interceptor(channel.clone(), ce_tests::bearer(token));
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
    stalled
}

/// Meanwhile another caller is served, on its own connection; returns its client.
async fn another_caller_is_served(
    url: &str,
    other_token: &str,
    engineers: &[String],
) -> ce_tests::Crediting {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let channel = connect(url).await;
    let mut other =
        CreditingServiceClient::with_interceptor(channel, ce_tests::bearer(other_token));
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
    other
}

/// Malformed and oversized messages get clean errors.
async fn bad_messages_get_clean_errors(url: &str, other_token: &str) {
    // (From the other caller: the stalls hold their own caller's share.)
    let garbage = raw_create(url, other_token, vec![0xff; 64]).await;
    assert_eq!(garbage.code(), Code::InvalidArgument, "{garbage:?}");
    assert!(
        garbage.message().contains("not a valid message"),
        "{garbage:?}"
    );
    let huge = raw_create(url, other_token, vec![0x0a; 5 << 20]).await;
    assert_eq!(huge.code(), Code::ResourceExhausted, "{huge:?}");
}

/// A burst of thousands of unary calls is answered or shed, nothing else.
async fn a_burst_is_answered_or_shed(url: &str, other_token: &str, engineers: &[String]) {
    // A burst of thousands of unary calls: what does not fit is shed with
    // RESOURCE_EXHAUSTED at once, the rest is answered; nothing else.
    let channel = connect(url).await;
    let mut burst = Vec::new();
    for i in 0..3000 {
        let mut c = CreditingServiceClient::with_interceptor(
            channel.clone(),
            ce_tests::bearer(other_token),
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
}

/// The stalled uploads are let go after the idle limit, or shed.
async fn stalled_uploads_are_let_go(stalled: Vec<tokio::task::JoinHandle<(Code, Duration)>>) {
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
}
