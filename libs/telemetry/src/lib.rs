//! Telemetry for every process of the suite, set up in one place.
//!
//! - Logs through `tracing`: human-readable by default, JSON on request.
//! - Traces exported over OTLP/gRPC when an endpoint is configured.
//! - W3C trace context (`traceparent`, `tracestate`) read from incoming gRPC
//!   metadata by servers ([`extract`]) and written into outgoing metadata by
//!   clients ([`TraceContextInterceptor`]), so a request that crosses
//!   services is one trace.
//!
//! Personal data (ID-card numbers, names) is never put into log fields or
//! span attributes; request bodies are never logged.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per event, for log collectors.
    Json,
}

/// The `telemetry` section of a service's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `human` or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// A `tracing` filter for logs, for example `info` or `info,registry=debug`.
    #[serde(default = "default_filter")]
    pub log_filter: String,
    /// A `tracing` filter for the spans exported over OTLP, separate from
    /// the logs' so that quieter logs do not silence traces.
    #[serde(default = "default_filter")]
    pub trace_filter: String,
    /// OTLP/gRPC collector endpoint, for example `http://127.0.0.1:4317`.
    /// Traces are exported only when this is set.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
}

fn default_filter() -> String {
    "info".to_owned()
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            log_format: LogFormat::default(),
            log_filter: default_filter(),
            trace_filter: default_filter(),
            otlp_endpoint: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("telemetry.log_filter is not a valid filter: {0}")]
    Filter(String),
    #[error("telemetry.trace_filter is not a valid filter: {0}")]
    TraceFilter(String),
    #[error("telemetry.otlp_endpoint: cannot build the OTLP exporter: {0}")]
    Exporter(String),
}

/// Flushes and stops trace export when dropped.
#[must_use = "traces stop being exported when the guard is dropped"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    meters: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
        // Shutting down exports the last readings.
        if let Some(m) = self.meters.take() {
            let _ = m.shutdown();
        }
    }
}

/// Installs logging and, when configured, OTLP trace export for
/// `service_name`. Must run inside a tokio runtime when an OTLP endpoint is
/// set. A second call in the same process (tests running several services)
/// keeps the first subscriber and returns an inert guard.
pub fn init(
    service_name: &str,
    config: &TelemetryConfig,
) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|e| TelemetryError::Filter(e.to_string()))?;
    let trace_filter = EnvFilter::try_new(&config.trace_filter)
        .map_err(|e| TelemetryError::TraceFilter(e.to_string()))?;

    let (provider, meters) = match &config.otlp_endpoint {
        Some(endpoint) if !endpoint.is_empty() => {
            use opentelemetry_otlp::WithExportConfig;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
                .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
            let resource = opentelemetry_sdk::Resource::builder()
                .with_service_name(service_name.to_owned())
                .build();
            let metrics = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
                .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
            let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
                .with_periodic_exporter(metrics)
                .with_resource(resource.clone())
                .build();
            (
                Some(
                    SdkTracerProvider::builder()
                        .with_batch_exporter(exporter)
                        .with_resource(resource)
                        .build(),
                ),
                Some(meters),
            )
        }
        _ => (None, None),
    };

    let fmt = match config.log_format {
        // Colour only for a person at a terminal: a pipe, a file or a
        // container's log collector gets plain text.
        LogFormat::Human => tracing_subscriber::fmt::layer()
            .with_target(true)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    // Each layer its own filter: logs by log_filter, exported spans by
    // trace_filter. A span carries what a trace reader needs (its RPC,
    // status, request id, timing); per-poll busy/idle timing, thread and
    // source location, and info events as span events are left out, as
    // they cost every call and are in the logs already. Warnings and errors
    // still become span events.
    let otel = provider.as_ref().map(|p| {
        use tracing_subscriber::filter::FilterExt;
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(service_name.to_owned()))
            .with_tracked_inactivity(false)
            .with_threads(false)
            .with_location(false)
            .with_filter(trace_filter.and(tracing_subscriber::filter::filter_fn(|m| {
                m.is_span() || *m.level() <= tracing::Level::WARN
            })))
    });
    let installed = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(otel)
        .try_init()
        .is_ok();
    if installed && let Some(p) = &provider {
        opentelemetry::global::set_tracer_provider(p.clone());
    }
    if installed && let Some(m) = &meters {
        opentelemetry::global::set_meter_provider(m.clone());
    }
    Ok(TelemetryGuard {
        provider: if installed { provider } else { None },
        meters: if installed { meters } else { None },
    })
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Makes `span` a child of the W3C trace context in `headers`, if any.
pub fn extract(headers: &http::HeaderMap, span: &tracing::Span) {
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let _ = span.set_parent(parent);
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// Writes the current span's trace context into outgoing gRPC metadata.
pub fn inject(metadata: &mut tonic::metadata::MetadataMap) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataInjector(metadata));
}

/// The current span's W3C `traceparent`, to carry a trace across a queue
/// (the outbox); `None` when no trace is being recorded.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` a child of a stored `traceparent`.
pub fn continue_trace(traceparent: &str, span: &tracing::Span) {
    let mut carrier = std::collections::HashMap::new();
    carrier.insert("traceparent".to_owned(), traceparent.to_owned());
    let parent = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(parent);
}

/// A client interceptor that carries the current trace to the peer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceContextInterceptor;

impl tonic::service::Interceptor for TraceContextInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        inject(request.metadata_mut());
        Ok(request)
    }
}
