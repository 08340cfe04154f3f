//! The crediting process killed with SIGKILL at random points of a bulk
//! upload, many times: after every resend the stored records are exactly
//! the intended ones, on both backends.

use super::*;

/// Records per message.
const MESSAGE: usize = 40;

/// Crashes before the final, uninterrupted upload.
const KILLS: usize = 20;

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
