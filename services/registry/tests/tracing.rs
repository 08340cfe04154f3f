//! The `registry` binary's traces as an operator's collector sees them: spans
//! leave over OTLP/gRPC when `telemetry.otlp_endpoint` is set, the server
//! span continues the caller's W3C `traceparent`, and no span, event or
//! resource attribute carries the engineer's ID-card number or name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ce_proto::common::{Field, Role};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{CreateEngineerRequest, Engineer, TitleLevel};
use ce_server::auth::{DevKey, TokenRequest};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";
const METHOD: &str = "ce.registry.v1.RegistryService/CreateEngineer";

/// An OTLP/gRPC trace collector that keeps everything it is sent.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<ResourceSpans>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0
            .lock()
            .unwrap()
            .extend(request.into_inner().resource_spans);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Collector {
    fn received(&self) -> Vec<ResourceSpans> {
        self.0.lock().unwrap().clone()
    }
}

fn spans(received: &[ResourceSpans]) -> impl Iterator<Item = &Span> {
    received
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every string in an attribute value, arrays and maps included.
fn strings<'a>(value: &'a AnyValue, out: &mut Vec<&'a str>) {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => out.push(s),
        Some(any_value::Value::ArrayValue(a)) => a.values.iter().for_each(|v| strings(v, out)),
        Some(any_value::Value::KvlistValue(kv)) => attributes(&kv.values, out),
        Some(any_value::Value::BytesValue(b)) => {
            if let Ok(s) = std::str::from_utf8(b) {
                out.push(s);
            }
        }
        _ => {}
    }
}

fn attributes<'a>(attrs: &'a [KeyValue], out: &mut Vec<&'a str>) {
    for kv in attrs {
        out.push(&kv.key);
        if let Some(v) = &kv.value {
            strings(v, out);
        }
    }
}

/// Every piece of text the collector was given: resource, scope, span,
/// event and link attributes, plus span and event names.
fn all_text(received: &[ResourceSpans]) -> Vec<&str> {
    let mut out = Vec::new();
    for r in received {
        if let Some(res) = &r.resource {
            attributes(&res.attributes, &mut out);
        }
        for s in &r.scope_spans {
            if let Some(scope) = &s.scope {
                out.push(&scope.name);
                attributes(&scope.attributes, &mut out);
            }
            for span in &s.spans {
                out.push(&span.name);
                out.push(&span.trace_state);
                attributes(&span.attributes, &mut out);
                for e in &span.events {
                    out.push(&e.name);
                    attributes(&e.attributes, &mut out);
                }
                for l in &span.links {
                    attributes(&l.attributes, &mut out);
                }
                if let Some(status) = &span.status {
                    out.push(&status.message);
                }
            }
        }
    }
    out
}

fn resource_attribute<'a>(r: &'a ResourceSpans, key: &str) -> Option<&'a str> {
    r.resource
        .as_ref()?
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Kills the binary if the test ends early, so no process outlives it.
struct Running(Child);

impl Running {
    fn sigterm_and_wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(exit) = self.0.try_wait().unwrap() {
                return exit;
            }
            assert!(
                started.elapsed() < within,
                "registry did not stop within {within:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An OTLP trace collector on a free port, and its address.
fn serve_collector(
    collector: &Collector,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
) {
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let collector_addr = incoming.local_addr().unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(incoming),
    );
    (collector_addr, server)
}

/// The registry binary in development mode on `port`, exporting spans to
/// the collector, once it logs that it is serving; its log lines, read
/// all along so it never blocks on a full pipe, and the reading thread.
async fn start_registry(
    dir: &std::path::Path,
    port: u16,
    collector_addr: std::net::SocketAddr,
) -> (
    Running,
    Arc<Mutex<Vec<String>>>,
    std::thread::JoinHandle<()>,
) {
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_registry"))
            .env("CE_REGISTRY__DATA_DIR", dir)
            .env("CE_REGISTRY__ENVIRONMENT", "development")
            .env("CE_REGISTRY__SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "CE_REGISTRY__TELEMETRY__OTLP_ENDPOINT",
                format!("http://{collector_addr}"),
            )
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    // Keep draining the log so the binary never blocks on a full pipe.
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn({
        let log = log.clone();
        move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line);
            }
        }
    });
    let started = Instant::now();
    while !log.lock().unwrap().iter().any(|l| l.contains("serving")) {
        if let Some(exit) = child.0.try_wait().unwrap() {
            panic!("registry exited early: {exit:?}: {:?}", log.lock().unwrap());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never started: {:?}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    (child, log, reader)
}

/// Registers an engineer with `token`, the call carrying the caller's
/// trace context (`traceparent`).
async fn create_in_trace(port: u16, token: &str, id_number: &str, display_name: &str) -> Engineer {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap();
    let mut client = RegistryServiceClient::new(channel);
    let mut request = tonic::Request::new(CreateEngineerRequest {
        engineer: Some(Engineer {
            id_number: id_number.to_owned(),
            display_name: display_name.into(),
            province: "44".into(),
            field: Field::Construction as i32,
            title_level: TitleLevel::Engineer as i32,
            ..Default::default()
        }),
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01")
            .parse()
            .unwrap(),
    );
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    client.create_engineer(request).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_continues_the_callers_trace_and_its_spans_reach_the_collector_without_personal_data()
 {
    // 1. The collector.
    let collector = Collector::default();
    let (collector_addr, server) = serve_collector(&collector);

    // 2. The binary, with the development key made before it starts.
    let dir = tempfile::tempdir().unwrap();
    let auth = ce_server::app::ServiceConfig::load("registry", 0, None)
        .unwrap()
        .auth;
    let token = DevKey::load_or_create(dir.path())
        .unwrap()
        .signer(&auth)
        .unwrap()
        .mint(&TokenRequest {
            subject: "tracing-test".into(),
            role: Some(Role::ProvincialHrss),
            province: Some("44".into()),
            ttl_secs: 600,
            ..Default::default()
        })
        .unwrap();
    let port = free_port();
    let (mut child, log, reader) = start_registry(dir.path(), port, collector_addr).await;

    // 3. One call, inside the caller's trace.
    let id_number = registry::ids::resident_id_with_check("11010519800101123").unwrap();
    let display_name = "追踪测试工程师";
    let created = create_in_trace(port, &token, &id_number, display_name).await;
    assert!(created.name.starts_with("engineers/"), "{created:?}");

    // 4. The batch exporter sends it within a few seconds, without a stop.
    let started = Instant::now();
    let arrived = loop {
        let received = collector.received();
        if spans(&received).any(|s| hex(&s.trace_id) == TRACE_ID) {
            break true;
        }
        if started.elapsed() > Duration::from_secs(20) {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // 6. (first, so every assertion below runs on a stopped binary) SIGTERM
    // flushes whatever is left; no process outlives the test.
    let exit = tokio::task::spawn_blocking(move || {
        let exit = child.sigterm_and_wait(Duration::from_secs(30));
        drop(child);
        exit
    })
    .await
    .unwrap();
    reader.join().unwrap();
    server.abort();
    let log = log.lock().unwrap().clone();
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}: {log:?}");

    // 5. What the collector was given.
    let received = collector.received();
    assert!(
        arrived,
        "no span of trace {TRACE_ID} reached the collector within 20 s of the call \
         (after SIGTERM it holds {} spans: {:?})",
        spans(&received).count(),
        spans(&received)
            .map(|s| (&s.name, hex(&s.trace_id)))
            .collect::<Vec<_>>()
    );
    let server_span = spans(&received)
        .find(|s| hex(&s.trace_id) == TRACE_ID && hex(&s.parent_span_id) == PARENT_SPAN_ID)
        .unwrap_or_else(|| {
            panic!(
                "no span is a child of the caller's span {PARENT_SPAN_ID}: {:?}",
                spans(&received)
                    .map(|s| (&s.name, hex(&s.trace_id), hex(&s.parent_span_id)))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(server_span.name, METHOD);
    assert_eq!(
        server_span.kind,
        opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32
    );
    assert_ne!(hex(&server_span.span_id), PARENT_SPAN_ID);
    for r in &received {
        assert_eq!(resource_attribute(r, "service.name"), Some("registry"));
    }

    let text = all_text(&received);
    assert!(text.contains(&METHOD), "the walk sees span names: {text:?}");
    let id_digits = &id_number[..17];
    for t in &text {
        assert!(
            !t.contains(id_digits) && !t.to_uppercase().contains(&id_number),
            "the ID number reached the collector: {t:?}"
        );
        assert!(
            !t.contains(display_name),
            "the engineer's name reached the collector: {t:?}"
        );
    }
    // Nor the log, for good measure.
    for line in &log {
        assert!(
            !line.contains(id_digits) && !line.contains(display_name),
            "{line}"
        );
    }
}
