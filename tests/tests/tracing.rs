//! One decision, one trace across services: a supervision decision that
//! changes an institution's standing in the registry, and one that has
//! crediting revoke an engineer's hours (Art. 27), each made by a caller with
//! a W3C `traceparent`, reach a real OTLP/gRPC collector as spans of one
//! trace each. The supervision server span is the caller's child; the outbox
//! delivery (which runs later, in the background worker) continues the
//! decision's trace; and the registry's server span is a child of a
//! supervision span; crediting's likewise. The services run as processes
//! (their binaries), as in production, each exporting its own spans, its
//! per-RPC metrics, and crediting its bulk-upload counts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ce_proto::common::{DeliveryMode, Field, Role, SubjectCategory};
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::{
    BulkUploadHourRecordsRequest, FaceToFaceTraining, GetHourRecordRequest, HourRecord, RecordState,
};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{self as reg, GetInstitutionRequest, Standing};
use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
use ce_proto::supervision::{DecideViolationRequest, Decision, DecisionKind};
use ce_server::auth::{DevKey, TokenRequest};
use ce_tests::process::{Proc, env, free_port};
use ce_tests::world;
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
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::ResourceMetrics;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

const TRACE_ID: &str = "5bf92f3577b34da6a3ce929d0e0e4737";
/// The second decision's trace: an Art. 27 revocation carried to crediting.
const REVOCATION_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
/// The bulk upload's trace.
const BULK_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "10f067aa0ba902b8";

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

/// An OTLP/gRPC metrics collector that keeps everything it is sent.
#[derive(Clone, Default)]
struct Meters(Arc<Mutex<Vec<ResourceMetrics>>>);

#[tonic::async_trait]
impl MetricsService for Meters {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0
            .lock()
            .unwrap()
            .extend(request.into_inner().resource_metrics);
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

fn service_of(resource: Option<&opentelemetry_proto::tonic::resource::v1::Resource>) -> String {
    resource
        .and_then(|res| res.attributes.iter().find(|kv| kv.key == "service.name"))
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn string_attrs(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> Vec<String> {
    attrs
        .iter()
        .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(format!("{}={s}", kv.key)),
            _ => None,
        })
        .collect()
}

impl Meters {
    /// (service, metric name, the `key=value` string attributes of its data points).
    fn seen(&self) -> Vec<(String, String, Vec<String>)> {
        use opentelemetry_proto::tonic::metrics::v1::metric::Data;
        let mut out = Vec::new();
        for r in self.0.lock().unwrap().iter() {
            let service = service_of(r.resource.as_ref());
            for m in r.scope_metrics.iter().flat_map(|s| &s.metrics) {
                let attrs: Vec<String> = match &m.data {
                    Some(Data::Sum(s)) => s
                        .data_points
                        .iter()
                        .flat_map(|p| string_attrs(&p.attributes))
                        .collect(),
                    Some(Data::Histogram(h)) => h
                        .data_points
                        .iter()
                        .flat_map(|p| string_attrs(&p.attributes))
                        .collect(),
                    _ => vec![],
                };
                out.push((service.clone(), m.name.clone(), attrs));
            }
        }
        out
    }

    /// A counter's latest (cumulative) value for the data point with `attr`.
    fn counter(&self, service: &str, metric: &str, attr: &str) -> Option<u64> {
        use opentelemetry_proto::tonic::metrics::v1::metric::Data;
        use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
        let mut best = None;
        for r in self.0.lock().unwrap().iter() {
            if service_of(r.resource.as_ref()) != service {
                continue;
            }
            for m in r.scope_metrics.iter().flat_map(|s| &s.metrics) {
                let Some(Data::Sum(sum)) = &m.data else {
                    continue;
                };
                if m.name != metric {
                    continue;
                }
                for p in &sum.data_points {
                    if string_attrs(&p.attributes).iter().any(|a| a == attr)
                        && let Some(Value::AsInt(v)) = p.value
                    {
                        best = best.max(Some(v as u64));
                    }
                }
            }
        }
        best
    }
}

/// One exported span, flattened: (service, name, span id, parent id).
#[derive(Debug, Clone)]
struct Seen {
    service: String,
    name: String,
    span: String,
    parent: String,
}

impl Collector {
    fn trace(&self, trace: &str) -> Vec<Seen> {
        let mut out = Vec::new();
        for r in self.0.lock().unwrap().iter() {
            let service = r
                .resource
                .as_ref()
                .and_then(|res| res.attributes.iter().find(|kv| kv.key == "service.name"))
                .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                    any_value::Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for s in r.scope_spans.iter().flat_map(|s| &s.spans) {
                if hex(&s.trace_id) == trace {
                    out.push(Seen {
                        service: service.clone(),
                        name: s.name.clone(),
                        span: hex(&s.span_id),
                        parent: hex(&s.parent_span_id),
                    });
                }
            }
        }
        out
    }
}

fn date(year: i32, month: i32, day: i32) -> Option<ce_proto::google::r#type::Date> {
    Some(ce_proto::google::r#type::Date { year, month, day })
}

/// An engineer with a department's seminar uploaded in bulk: one record
/// accepted, one refused (an engineer the registry does not know).
async fn hours_in_bulk(
    reg: &mut ce_tests::Registry,
    cred: &mut ce_tests::Crediting,
) -> (String, String) {
    let employer = world::create_employer(reg, world::employer("44")).await;
    let engineer = world::create_engineer(reg, world::engineer("44", &employer)).await;
    let seminar = world::activity("44", date(2026, 4, 1), date(2026, 4, 12), 8.0);
    let seminar = world::create_activity(reg, seminar).await;
    let record = |who: &str| HourRecord {
        engineer: who.into(),
        registry_activity: seminar.clone(),
        activity: Some(A::FaceToFace(FaceToFaceTraining {
            subject_category: SubjectCategory::Professional as i32,
            start_date: date(2026, 4, 1),
            days: 12,
            hours_per_day: 8.0,
        })),
        ..Default::default()
    };
    let message = BulkUploadHourRecordsRequest {
        hour_records: vec![
            record(&engineer),
            record("engineers/00000000-0000-7000-8000-000000000000"),
        ],
    };
    let upload = in_trace(tokio_stream::iter(vec![message]), BULK_TRACE_ID);
    let mut answers = ce_tests::answer(cred.bulk_upload_hour_records(upload)).await;
    let answer = answers.message().await.unwrap().unwrap();
    assert!(answer.results[1].refusal.is_some(), "{answer:?}");
    let stored = answer.results[0]
        .hour_record
        .clone()
        .unwrap_or_else(|| panic!("{answer:?}"));
    (engineer, stored.name)
}

/// The spans of a trace as (service, name, span, parent), for messages.
fn describe(trace: &[Seen]) -> Vec<(&str, &str, &str, &str)> {
    trace
        .iter()
        .map(|s| {
            (
                s.service.as_str(),
                s.name.as_str(),
                s.span.as_str(),
                s.parent.as_str(),
            )
        })
        .collect()
}

/// Asserts one decision's chain in `trace`: the caller's child is
/// supervision's DecideViolation, the outbox delivery (later, in the
/// worker) is its child, and `rpc` of `service` is the delivery's child.
fn decision_chain(trace: &[Seen], service: &str, rpc: &str) {
    let described = describe(trace);
    let decision = trace
        .iter()
        .find(|s| s.service == "supervision" && s.parent == PARENT_SPAN_ID)
        .unwrap_or_else(|| panic!("no supervision span is the caller's child: {described:?}"));
    assert_eq!(
        decision.name,
        "ce.supervision.v1.SupervisionService/DecideViolation"
    );
    let delivery = trace
        .iter()
        .find(|s| s.service == "supervision" && s.name == "outbox.deliver")
        .unwrap_or_else(|| {
            panic!("the outbox delivery is not in the decision's trace: {described:?}")
        });
    let effect = trace
        .iter()
        .find(|s| s.service == service && s.name == rpc)
        .unwrap_or_else(|| panic!("{service}'s span is not in the trace: {described:?}"));
    assert_eq!(delivery.parent, decision.span, "{described:?}");
    assert_eq!(effect.parent, delivery.span, "{described:?}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `message` sent inside the caller's trace `trace_id`, as a child of the
/// caller's span.
fn in_trace<T>(message: T, trace_id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-{PARENT_SPAN_ID}-01")
            .parse()
            .unwrap(),
    );
    request
}

/// The collectors, listening on 127.0.0.1: where the services send their
/// spans and metrics (the OTLP endpoint), and the server to stop.
struct Collectors {
    spans: Collector,
    meters: Meters,
    otlp: String,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

/// Starts an OTLP/gRPC server taking traces and metrics.
fn collectors_listening() -> Collectors {
    let spans = Collector::default();
    let meters = Meters::default();
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let otlp = format!("http://{}", incoming.local_addr().unwrap());
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(spans.clone()))
            .add_service(MetricsServiceServer::new(meters.clone()))
            .serve_with_incoming(incoming),
    );
    Collectors {
        spans,
        meters,
        otlp,
        server,
    }
}

/// A provincial inspector's token, signed with the development key in
/// `dir`, which the services share.
fn inspector_token(dir: &std::path::Path) -> String {
    let auth = ce_server::app::ServiceConfig::load("registry", 0, None)
        .unwrap()
        .auth;
    let key = DevKey::load_or_create(dir).unwrap();
    key.signer(&auth)
        .unwrap()
        .mint(&TokenRequest {
            subject: "hrss-44-inspector".into(),
            role: Some(Role::ProvincialHrss),
            province: Some("44".into()),
            ttl_secs: 600,
            ..Default::default()
        })
        .unwrap()
}

/// The registry, crediting and supervision running as processes, each
/// exporting to the collectors.
struct Suite {
    registry: Proc,
    crediting: Proc,
    supervision: Proc,
    registry_port: u16,
    crediting_port: u16,
    supervision_port: u16,
}

/// `service`'s settings: the shared data folder, its port, the collectors,
/// then `more`.
fn settings(
    service: &str,
    data: &str,
    port: u16,
    otlp: &str,
    more: Vec<(&str, String)>,
) -> Vec<(String, String)> {
    let mut all = vec![
        ("DATA_DIR", data.to_owned()),
        ("SERVER__LISTEN", format!("127.0.0.1:{port}")),
        ("TELEMETRY__OTLP_ENDPOINT", otlp.to_owned()),
    ];
    all.extend(more);
    env(service, &all)
}

/// The address of a peer on `port`.
fn peer(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

impl Suite {
    /// Starts the three services sharing `data`, and waits until each serves.
    async fn start(data: &str, otlp: &str) -> Suite {
        let (registry_port, crediting_port, supervision_port) =
            (free_port(), free_port(), free_port());
        let mut registry = Proc::start(
            "registry",
            &settings(
                "registry",
                data,
                registry_port,
                otlp,
                // Quiet logs keep the traces (telemetry.trace_filter).
                vec![(
                    "TELEMETRY__LOG_FILTER",
                    "warn,ce_server::serve=info".to_owned(),
                )],
            ),
        );
        // Crediting with today fixed, so the 2026 records stay registrable
        // whatever the real date.
        let mut crediting_env = settings(
            "crediting",
            data,
            crediting_port,
            otlp,
            vec![
                ("PEERS__REGISTRY", peer(registry_port)),
                // Asked about the case a revocation names (Art. 27).
                ("PEERS__SUPERVISION", peer(supervision_port)),
            ],
        );
        crediting_env.push(("CE_TEST_TODAY".into(), "2026-11-25".into()));
        let mut crediting = Proc::start("crediting-on", &crediting_env);
        let mut supervision = Proc::start(
            "supervision",
            &settings(
                "supervision",
                data,
                supervision_port,
                otlp,
                vec![
                    ("PEERS__REGISTRY", peer(registry_port)),
                    ("PEERS__CREDITING", peer(crediting_port)),
                ],
            ),
        );
        registry.serving("registry").await;
        crediting.serving("crediting").await;
        supervision.serving("supervision").await;
        Suite {
            registry,
            crediting,
            supervision,
            registry_port,
            crediting_port,
            supervision_port,
        }
    }

    /// SIGTERM flushes every exporter.
    async fn stop(self) {
        let Suite {
            mut registry,
            mut crediting,
            mut supervision,
            ..
        } = self;
        tokio::task::spawn_blocking(move || {
            supervision.stop();
            crediting.stop();
            registry.stop();
        })
        .await
        .unwrap();
    }
}

/// The inspector's clients of the three services.
struct Clients {
    reg: ce_tests::Registry,
    sup: ce_tests::Supervision,
    cred: ce_tests::Crediting,
}

fn clients(suite: &Suite, token: &str) -> Clients {
    let bearer = ce_tests::bearer(token);
    let channel = |port: u16| {
        tonic::transport::Endpoint::from_shared(peer(port))
            .unwrap()
            .connect_lazy()
    };
    Clients {
        reg: RegistryServiceClient::with_interceptor(channel(suite.registry_port), bearer.clone()),
        sup: SupervisionServiceClient::with_interceptor(
            channel(suite.supervision_port),
            bearer.clone(),
        ),
        cred: CreditingServiceClient::with_interceptor(channel(suite.crediting_port), bearer),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_and_its_effects_in_registry_and_crediting_are_one_trace_and_counted() {
    let collectors = collectors_listening();
    // The services share a data folder: one development key signs every token.
    let dir = tempfile::tempdir().unwrap();
    let token = inspector_token(dir.path());
    let suite = Suite::start(&dir.path().display().to_string(), &collectors.otlp).await;
    let mut c = clients(&suite, &token);
    a_warning_reaches_the_registry(&mut c).await;
    let engineer = hours_revoked_in_crediting(&mut c).await;
    a_status_read(&mut c, &engineer).await;
    suite.stop().await;
    collectors.server.abort();
    each_decision_is_one_trace(&collectors.spans);
    the_uploads_lookups_are_in_its_trace(&collectors.spans);
    uploads_and_batch_reads_are_counted(&collectors.meters);
    rpcs_and_gauges_are_exported(&collectors.meters);
}

/// The decision, inside the caller's trace; the outbox delivers it, and
/// the registry shows the warning.
async fn a_warning_reaches_the_registry(c: &mut Clients) {
    let traced = reg::Institution {
        display_name: "Traced Academy".into(),
        fields: vec![Field::Construction as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..world::institution("44")
    };
    let institution = world::create_institution(&mut c.reg, traced).await;
    let violation = world::fees_without_training(&institution);
    let violation = world::create_violation(&mut c.sup, violation).await;

    let decide = DecideViolationRequest {
        name: violation,
        decision: Some(world::first_offence_warning()),
    };
    ce_tests::answer(c.sup.decide_violation(in_trace(decide, TRACE_ID))).await;

    let started = Instant::now();
    loop {
        let i = ce_tests::answer(c.reg.get_institution(GetInstitutionRequest {
            name: institution.clone(),
        }))
        .await;
        if i.standing == Standing::Warned as i32 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An engineer's hours, uploaded in bulk (one record refused), then revoked
/// by an Art. 27 decision in a second trace; returns the engineer.
async fn hours_revoked_in_crediting(c: &mut Clients) -> String {
    let (engineer, record) = hours_in_bulk(&mut c.reg, &mut c.cred).await;
    let case = world::improper_hours(&engineer, std::slice::from_ref(&record));
    let case = world::create_violation(&mut c.sup, case).await;
    let revoke = DecideViolationRequest {
        name: case,
        decision: Some(Decision {
            kind: DecisionKind::Revocation as i32,
            reason: "Hours obtained by deception".into(),
            ..Default::default()
        }),
    };
    ce_tests::answer(
        c.sup
            .decide_violation(in_trace(revoke, REVOCATION_TRACE_ID)),
    )
    .await;
    let started = Instant::now();
    loop {
        let r = ce_tests::answer(c.cred.get_hour_record(GetHourRecordRequest {
            name: record.clone(),
        }))
        .await;
        if r.state == RecordState::Revoked as i32 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the revocation never reached crediting"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engineer
}

/// A status read goes through crediting's batch reader, whose work is counted.
async fn a_status_read(c: &mut Clients, engineer: &str) {
    ce_tests::answer(
        c.cred
            .get_annual_status(ce_proto::crediting::GetAnnualStatusRequest {
                name: format!("{engineer}/annualStatuses/2026"),
            }),
    )
    .await;
}

/// caller → DecideViolation → outbox.deliver (later, in the worker) → the
/// registry; the revocation likewise to crediting, in a trace of its own.
fn each_decision_is_one_trace(collector: &Collector) {
    decision_chain(
        &collector.trace(TRACE_ID),
        "registry",
        "ce.registry.v1.RegistryService/ChangeInstitutionStanding",
    );
    // The revocation: caller → DecideViolation → outbox.deliver → crediting.
    let trace = collector.trace(REVOCATION_TRACE_ID);
    let described = describe(&trace);
    decision_chain(
        &trace,
        "crediting",
        "ce.crediting.v1.CreditingService/RevokeHourRecords",
    );
    assert!(
        !trace
            .iter()
            .any(|s| s.service == "registry" && s.name.ends_with("ChangeInstitutionStanding")),
        "the two decisions' traces stay apart: {described:?}"
    );
}

/// The bulk upload's registry lookups are in its trace: the engineers'
/// and the activities' batches.
fn the_uploads_lookups_are_in_its_trace(collector: &Collector) {
    let trace = collector.trace(BULK_TRACE_ID);
    let described = describe(&trace);
    assert!(
        trace.iter().any(|s| s.service == "crediting"
            && s.name == "ce.crediting.v1.CreditingService/BulkUploadHourRecords"
            && s.parent == PARENT_SPAN_ID),
        "the upload is the caller's child: {described:?}"
    );
    for rpc in [
        "ce.registry.v1.RegistryService/BatchGetEngineers",
        "ce.registry.v1.RegistryService/BatchGetActivities",
    ] {
        assert!(
            trace
                .iter()
                .any(|s| s.service == "registry" && s.name == rpc),
            "{rpc} is not in the upload's trace: {described:?}"
        );
    }
}

/// Bulk-upload outcomes are counted, and the batch reader's queries,
/// reads and their time.
fn uploads_and_batch_reads_are_counted(meters: &Meters) {
    assert_eq!(
        meters.counter("crediting", "crediting.bulk.records", "outcome=accepted"),
        Some(1)
    );
    assert_eq!(
        meters.counter("crediting", "crediting.bulk.records", "outcome=refused"),
        Some(1)
    );

    assert!(
        meters.counter(
            "crediting",
            "db.batch.reads",
            "batcher=crediting.annual_statuses"
        ) >= Some(1),
        "{:?}",
        meters.seen()
    );
    assert!(
        meters.counter(
            "crediting",
            "db.batch.queries",
            "batcher=crediting.annual_statuses"
        ) >= Some(1)
    );
}

/// Metrics too: per-RPC counts and latency, flushed on SIGTERM; the outbox
/// backlog and the database pool are gauges.
fn rpcs_and_gauges_are_exported(meters: &Meters) {
    let seen = meters.seen();
    for (service, rpc) in [
        (
            "registry",
            "ce.registry.v1.RegistryService/ChangeInstitutionStanding",
        ),
        (
            "supervision",
            "ce.supervision.v1.SupervisionService/DecideViolation",
        ),
        (
            "crediting",
            "ce.crediting.v1.CreditingService/RevokeHourRecords",
        ),
    ] {
        for metric in ["rpc.server.requests", "rpc.server.duration"] {
            assert!(
                seen.iter().any(|(s, m, methods)| s == service
                    && m == metric
                    && methods.iter().any(|x| *x == format!("rpc.method={rpc}"))),
                "{service} exported no {metric} for {rpc}: {seen:?}"
            );
        }
    }
    for (service, metric) in [
        ("supervision", "outbox.pending"),
        ("supervision", "outbox.oldest_age"),
        ("supervision", "db.pool.connections"),
        ("registry", "db.pool.connections"),
        ("crediting", "db.pool.connections"),
        ("crediting", "db.batch.query_time"),
    ] {
        assert!(
            seen.iter().any(|(s, m, _)| s == service && m == metric),
            "{service} exported no {metric}: {seen:?}"
        );
    }
}
