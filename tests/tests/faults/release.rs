//! A hostile reader against the release build of the registry: 2,000
//! concurrent lists of 1,000 rows, another client served within 5 s, the
//! peak memory bounded, idle connections closed afterwards.

use super::*;

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

/// The registry's engineers, the hostile calls, the connections they share,
/// and the idle timeout after which the server closes them.
const ENGINEERS: usize = 1000;
const CALLS: usize = 2000;
const CONNECTIONS: usize = 8;
const IDLE_SECS: u64 = 3;

/// What a hostile call came to: the answer's size or the code it failed
/// with, and how many times it was shed first.
type Hostile = tokio::task::JoinHandle<(Result<usize, Code>, usize)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_registry_under_2000_concurrent_thousand_row_lists_serves_others_in_bounded_memory()
{
    use prost::Message;
    let Some(binary) = release_binary("registry") else {
        return;
    };

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
    a_thousand_engineers(&url, &token).await;

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
        channels.push(connect(&url).await);
    }
    let load_started = Instant::now();
    let hostile = hostile_calls(&channels, &token, &request, load_started);

    // Meanwhile the other client is served on every call, within 5 s.
    let mut other = RegistryServiceClient::with_interceptor(
        connect(&url).await,
        ce_tests::bearer(&other_token),
    );
    let (served, slowest) = the_other_client_is_served(&mut other, &hostile, load_started).await;
    let took = load_started.elapsed();
    let Tally {
        answered,
        shed,
        failed,
        bytes,
    } = tally(hostile).await;
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

    idle_connections_are_closed(port).await;
    drop(channels);
    drop(other);
    drop(registry);
}

/// A thousand engineers, sixteen created at a time.
async fn a_thousand_engineers(url: &str, token: &str) {
    let setup = connect(url).await;
    let mut r = RegistryServiceClient::with_interceptor(setup.clone(), ce_tests::bearer(token));
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
}

/// The hostile calls, spread over `channels`, each sent again while shed.
fn hostile_calls(
    channels: &[tonic::transport::Channel],
    token: &str,
    request: &[u8],
    load_started: Instant,
) -> Vec<Hostile> {
    let mut hostile = Vec::new();
    for i in 0..CALLS {
        let (channel, token, request) = (
            channels[i % CONNECTIONS].clone(),
            token.to_owned(),
            request.to_vec(),
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
    hostile
}

/// What the hostile calls came to, all together.
struct Tally {
    answered: usize,
    shed: usize,
    failed: BTreeMap<String, usize>,
    bytes: usize,
}

/// The hostile calls' outcomes, once each has ended.
async fn tally(hostile: Vec<Hostile>) -> Tally {
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
    Tally {
        answered,
        shed,
        failed,
        bytes,
    }
}

/// The other client, called until the hostile calls end: how many it was
/// served, and the slowest.
async fn the_other_client_is_served(
    other: &mut ce_tests::Registry,
    hostile: &[Hostile],
    load_started: Instant,
) -> (usize, Duration) {
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
    (served, slowest)
}

/// Every connection is idle now: the server closes them all after the idle timeout.
async fn idle_connections_are_closed(port: u16) {
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
}
