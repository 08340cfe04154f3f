//! PostgreSQL restarted under load: failed calls are UNAVAILABLE, health
//! follows the outage and the recovery, and every acknowledged write is
//! kept.

use super::*;

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

impl Outcomes {
    /// How many calls have met UNAVAILABLE so far.
    fn unavailable(&self) -> usize {
        self.codes.get("Unavailable").copied().unwrap_or(0)
    }
}

/// A check that fails once `seconds` have passed, saying `what` did not happen.
fn wait_for(what: &'static str, seconds: u64) -> impl Fn() {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    move || assert!(Instant::now() < deadline, "{what} within {seconds} s")
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
    let clients: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(client(
                channel.clone(),
                token.clone(),
                outcomes.clone(),
                stop.clone(),
            ))
        })
        .collect();

    the_outage_is_felt(&cluster, &channel, &outcomes).await;
    the_same_process_recovers(&channel, &outcomes).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }

    let o = std::mem::take(&mut *outcomes.lock().unwrap());
    every_failure_is_unavailable_and_every_write_kept(o, &channel, &token).await;
    service.stop().await;
}

/// One client writing and reading until `stop` (or for two minutes), its outcomes counted.
async fn client(
    channel: tonic::transport::Channel,
    token: String,
    outcomes: Arc<Mutex<Outcomes>>,
    stop: Arc<AtomicBool>,
) {
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
}

/// Some load first, then PostgreSQL stops: health reports it and clients meet it; then it starts again.
async fn the_outage_is_felt(
    cluster: &ce_tests::pg::PrivateCluster,
    channel: &tonic::transport::Channel,
    outcomes: &Mutex<Outcomes>,
) {
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
    let during = outcomes.lock().unwrap().unavailable();
    let check = wait_for("clients meeting the outage", 30);
    while outcomes.lock().unwrap().unavailable() < during + 8 {
        check();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::task::block_in_place(|| cluster.start_again());
}

/// The same service process recovers: health, then calls.
async fn the_same_process_recovers(
    channel: &tonic::transport::Channel,
    outcomes: &Mutex<Outcomes>,
) {
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
}

/// Every failure the clients met was UNAVAILABLE, and every acknowledged write is there.
async fn every_failure_is_unavailable_and_every_write_kept(
    o: Outcomes,
    channel: &tonic::transport::Channel,
    token: &str,
) {
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
    let c = RegistryServiceClient::with_interceptor(channel.clone(), ce_tests::bearer(token));
    let listed: BTreeSet<String> = ce_tests::every(|page_token| {
        let mut c = c.clone();
        async move {
            let page = ce_tests::answer(c.list_employers(ListEmployersRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            }))
            .await;
            let names = page.employers.into_iter().map(|e| e.name);
            (names.collect::<Vec<_>>(), page.next_page_token)
        }
    })
    .await
    .into_iter()
    .collect();
    let missing: Vec<_> = o
        .acknowledged
        .iter()
        .filter(|n| !listed.contains(*n))
        .collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
}
