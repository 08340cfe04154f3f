//! The suite as production runs it: each service its own process (release
//! build), configured through the environment. Tracing's cost is measured
//! by running the same work with the OTLP batch exporter on (to a receiver
//! in this process) and off; each process's peak memory is read from
//! `/proc/{pid}/status` (`VmHWM`) once the work is done.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ce_tests::process::free_port;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

/// An OTLP/gRPC receiver that counts the spans it is sent and drops them.
#[derive(Clone, Default)]
pub struct Receiver {
    pub spans: Arc<AtomicUsize>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let n: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.spans.fetch_add(n, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        _request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// Starts the receiver; returns its endpoint.
pub async fn receiver(r: Receiver) -> String {
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let endpoint = format!("http://{}", incoming.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(r.clone()))
            .add_service(MetricsServiceServer::new(r))
            .serve_with_incoming(incoming),
    );
    endpoint
}

/// A release binary beside this one.
fn binary(name: &str) -> PathBuf {
    let path = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: `make bench` builds it (cargo build --release -p {name})",
        path.display()
    );
    path
}

/// One service process, killed when dropped.
pub struct Process {
    pub name: &'static str,
    child: Child,
    pub url: String,
}

impl Process {
    fn start(
        name: &'static str,
        binary_name: &str,
        settings: &[(&str, String)],
        extra: &[(&str, &str)],
    ) -> Process {
        let port = free_port();
        let prefix = format!("CE_{}__", name.to_uppercase());
        let mut cmd = Command::new(binary(binary_name));
        cmd.env(
            format!("{prefix}SERVER__LISTEN"),
            format!("127.0.0.1:{port}"),
        )
        .env(format!("{prefix}TELEMETRY__LOG_FILTER"), "warn")
        .env(format!("{prefix}ENVIRONMENT"), "development")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        for (k, v) in settings {
            cmd.env(format!("{prefix}{k}"), v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Process {
            name,
            child: cmd.spawn().unwrap(),
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits until the health service answers SERVING.
    async fn ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                panic!("{} exited while starting: {exit}", self.name);
            }
            if let Ok(channel) = tonic::transport::Endpoint::from_shared(self.url.clone())
                .unwrap()
                .connect()
                .await
            {
                let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
                if let Ok(r) = health
                    .check(tonic_health::pb::HealthCheckRequest::default())
                    .await
                    && r.into_inner().status
                        == tonic_health::pb::health_check_response::ServingStatus::Serving as i32
                {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} did not start",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The most memory the process has held (`VmHWM`), in bytes.
    pub fn peak_memory(&self) -> u64 {
        self.memory("VmHWM")
    }

    /// A memory figure of the process's `/proc/{pid}/status` (`VmHWM`, the
    /// most it has held; `VmRSS`, what it holds now), in bytes.
    pub fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// SIGTERM, which flushes the span exporter; waits for the exit.
    pub fn stop(mut self) {
        ce_tests::process::terminate(&mut self.child);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The four services as processes on the run's databases (the registry
/// and crediting share theirs with the in-process services, as replicas
/// would), with OTLP export to `otlp` or none.
pub struct Suite {
    pub processes: Vec<Process>,
}

/// What every service process is configured with: the place's data
/// directory, the database at `database`, and OTLP export to `otlp` or none.
fn common(
    place: &ce_tests::Place,
    database: String,
    otlp: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut s = vec![
        ("DATA_DIR", place.data_dir().display().to_string()),
        ("DATABASE__URL", database),
        ("DATABASE__MAX_CONNECTIONS", "8".to_owned()),
        // One load generator standing for many callers: the whole
        // concurrency, not one caller's share.
        (
            "SERVER__MAX_CONCURRENT_REQUESTS_PER_CALLER",
            "512".to_owned(),
        ),
    ];
    if let Some(endpoint) = otlp {
        s.push(("TELEMETRY__OTLP_ENDPOINT", endpoint.to_owned()));
    }
    s
}

/// A registry process on the run's registry database, ready.
async fn registry(place: &ce_tests::Place, otlp: Option<&str>) -> Process {
    let mut registry = Process::start(
        "registry",
        "registry",
        &common(place, place.config("registry").database.url, otlp),
        &[],
    );
    registry.ready().await;
    registry
}

/// A crediting process on `database`, calling `registry`, with the run's
/// today (as the in-process one), ready.
async fn crediting(
    place: &ce_tests::Place,
    database: String,
    registry: &Process,
    otlp: Option<&str>,
    today: &str,
) -> Process {
    let mut settings = common(place, database, otlp);
    settings.push(("PEERS__REGISTRY", registry.url.clone()));
    let mut crediting = Process::start(
        "crediting",
        "crediting-on",
        &settings,
        &[("CE_TEST_TODAY", today)],
    );
    crediting.ready().await;
    crediting
}

/// Crediting alone in its process, tracing off, on a database of its own
/// (with a registry process on the run's registry database, as in
/// [`Suite`]): for its memory under a load it takes alone.
pub struct Alone {
    registry: Process,
    pub crediting: Process,
}

impl Alone {
    pub async fn start(place: &ce_tests::Place, database: &str, today: &str) -> Alone {
        let registry = registry(place, None).await;
        let crediting = crediting(place, database.to_owned(), &registry, None, today).await;
        Alone {
            registry,
            crediting,
        }
    }

    pub fn stop(self) {
        self.crediting.stop();
        self.registry.stop();
    }
}

impl Suite {
    pub async fn start(place: &ce_tests::Place, otlp: Option<&str>, today: &str) -> Suite {
        let settings_of = |service: &str| common(place, place.config(service).database.url, otlp);
        let registry = registry(place, otlp).await;
        let crediting = crediting(
            place,
            place.config("crediting").database.url,
            &registry,
            otlp,
            today,
        )
        .await;
        let mut settings = settings_of("supervision");
        settings.push(("PEERS__REGISTRY", registry.url.clone()));
        settings.push(("PEERS__CREDITING", crediting.url.clone()));
        let mut supervision = Process::start("supervision", "supervision", &settings, &[]);
        supervision.ready().await;
        let mut settings = settings_of("quality");
        settings.push(("PEERS__REGISTRY", registry.url.clone()));
        settings.push(("PEERS__CREDITING", crediting.url.clone()));
        settings.push(("PEERS__SUPERVISION", supervision.url.clone()));
        // Quality reads crediting's feed every 2 s, not 30, so that waiting
        // for it to catch up ([`Suite::caught_up`]) is not waiting on its poll.
        settings.push(("QUALITY__FOLLOW_CREDITING_SECS", "2".to_owned()));
        let mut quality = Process::start("quality", "quality", &settings, &[]);
        quality.ready().await;
        Suite {
            processes: vec![registry, crediting, supervision, quality],
        }
    }

    /// Waits until the quality service has followed crediting's change
    /// feed to its head, so a measure that follows is not sharing the
    /// machine with a catch-up left over from earlier work; returns how far
    /// it had to go and how long it took.
    pub async fn caught_up(&self, place: &ce_tests::Place) -> (i64, f64) {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Seq {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            seq: i64,
        }
        let head_of = |url: String, sql: &'static str| {
            let mut conn = PgConnection::establish(&ce_db::libpq_url(&url)).unwrap();
            move || {
                diesel::sql_query(sql)
                    .load::<Seq>(&mut conn)
                    .unwrap()
                    .first()
                    .map_or(0, |s| s.seq)
            }
        };
        let mut head = head_of(
            place.config("crediting").database.url,
            "SELECT seq FROM feed_head",
        );
        let mut cursor = head_of(
            place.config("quality").database.url,
            "SELECT sequence AS seq FROM feed_cursors WHERE feed = 'crediting'",
        );
        let (target, from) = (head(), cursor());
        let started = Instant::now();
        while cursor() < target {
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "quality has not followed crediting's feed to {target} in 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        (target - from, started.elapsed().as_secs_f64())
    }

    pub fn url(&self, name: &str) -> &str {
        &self.processes.iter().find(|p| p.name == name).unwrap().url
    }

    /// Each service's peak memory, in bytes.
    pub fn peak_memory(&self) -> Vec<(&'static str, u64)> {
        self.processes
            .iter()
            .map(|p| (p.name, p.peak_memory()))
            .collect()
    }

    pub fn stop(self) {
        for p in self.processes.into_iter().rev() {
            p.stop();
        }
    }
}
