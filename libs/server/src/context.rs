//! The request context layer: gives every call a request id (the caller's
//! `x-request-id`, or a new one), a tracing span that continues the caller's
//! W3C trace, and an access-log line. The id is echoed in the response's
//! `x-request-id` header and recorded in audit rows.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tracing::Instrument;

use crate::reason::Reason;

/// The header that carries the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What the stack knows about a call before the handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: String,
    /// The gRPC path, `/package.Service/Method`.
    pub rpc: String,
}

impl RequestContext {
    /// The method part of the path, for example `CreateEngineer`.
    pub fn method(&self) -> &str {
        self.rpc.rsplit('/').next().unwrap_or(&self.rpc)
    }
}

/// Accepts a caller's id when it is short and printable; else makes one.
fn request_id(headers: &http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContextLayer;

impl<S> tower::Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestContextService { inner }
    }
}

/// See [`RequestContextLayer`].
#[derive(Debug, Clone)]
pub struct RequestContextService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for RequestContextService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let id = request_id(req.headers());
        if !is_grpc(&req) {
            return plain_http(&mut self.inner, req, id);
        }
        let path = req.uri().path().to_owned();
        let (service, method) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or(("", path.as_str()));
        let span = tracing::info_span!(
            "grpc",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            request_id = %id,
            role = tracing::field::Empty,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        ce_telemetry::extract(req.headers(), &span);
        req.extensions_mut().insert(RequestContext {
            request_id: id.clone(),
            rpc: path.clone(),
        });
        let started = Instant::now();
        let rpc = path.trim_start_matches('/').to_owned();
        let locale = crate::reason::preferred_locale(
            req.headers()
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let future = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        Box::pin(
            async move {
                let result = future.await;
                let result = match result {
                    Ok(resp) => {
                        // Trailers-only answers (errors) carry the status in
                        // headers; any other call ends with its body's
                        // trailers, and is logged and measured then, with
                        // its whole duration.
                        let header_code = resp
                            .headers()
                            .get("grpc-status")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<i32>().ok());
                        let span = tracing::Span::current();
                        let finished = move |code: i32| {
                            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                            span.record("rpc.grpc.status_code", code);
                            let _entered = span.enter();
                            tracing::info!(code = ?tonic::Code::from(code), elapsed_ms, "call finished");
                            record_call(&rpc, code, elapsed_ms);
                        };
                        match header_code {
                            Some(code) => {
                                finished(code);
                                Ok(resp)
                            }
                            None => Ok(resp.map(|body| {
                                crate::body::Tracked::ending(body, Box::new(finished))
                            })),
                        }
                    }
                    Err(e) => {
                        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                        tracing::warn!(error = %e, elapsed_ms, "call failed in the stack");
                        Err(e)
                    }
                };
                result.map(|mut resp| {
                    if let Ok(v) = http::HeaderValue::from_str(&id) {
                        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
                    }
                    with_request_info(resp.headers_mut(), &id, locale);
                    resp
                })
            }
            .instrument(span),
        )
    }
}

/// What the layer answers with: the response, later.
type Answer<E> = Pin<Box<dyn Future<Output = Result<http::Response<tonic::body::Body>, E>> + Send>>;

/// Whether a request is a gRPC call (gRPC-Web is translated to gRPC before
/// this layer): the rest is plain HTTP, the pages and documents a service
/// serves beside its RPCs.
fn is_grpc<B>(req: &http::Request<B>) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// A plain HTTP request (the dashboard's page, crediting's DID document and
/// status lists): its own span and access-log line, with its HTTP method,
/// path and status, not a gRPC call's; the request id echoed all the same.
fn plain_http<S, B>(inner: &mut S, mut req: http::Request<B>, id: String) -> Answer<S::Error>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!(
        "http",
        otel.name = %format!("{} {path}", req.method()),
        otel.kind = "server",
        http.request.method = %req.method(),
        url.path = %path,
        request_id = %id,
        http.response.status_code = tracing::field::Empty,
    );
    ce_telemetry::extract(req.headers(), &span);
    req.extensions_mut().insert(RequestContext {
        request_id: id.clone(),
        rpc: path,
    });
    let started = Instant::now();
    let future = {
        let _entered = span.enter();
        inner.call(req)
    };
    Box::pin(
        async move {
            let mut resp = future.await?;
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            let status = resp.status().as_u16();
            tracing::Span::current().record("http.response.status_code", status);
            tracing::info!(status, elapsed_ms, "request finished");
            if let Ok(v) = http::HeaderValue::from_str(&id) {
                resp.headers_mut().insert(REQUEST_ID_HEADER, v);
            }
            Ok(resp)
        }
        .instrument(span),
    )
}

/// Per-RPC request counts (with their status code) and latency, through
/// OpenTelemetry; exported when `telemetry.otlp_endpoint` is set.
fn record_call(rpc: &str, code: i32, elapsed_ms: f64) {
    use opentelemetry::KeyValue;
    use opentelemetry::metrics::{Counter, Histogram};
    static INSTRUMENTS: std::sync::OnceLock<(Counter<u64>, Histogram<f64>)> =
        std::sync::OnceLock::new();
    let (requests, duration) = INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("ce-server");
        (
            meter
                .u64_counter("rpc.server.requests")
                .with_description("Calls served, by method and gRPC status code")
                .build(),
            meter
                .f64_histogram("rpc.server.duration")
                .with_unit("ms")
                .with_description("Time to answer a call, by method")
                .build(),
        )
    });
    let method = KeyValue::new("rpc.method", rpc.to_owned());
    requests.add(
        1,
        &[
            method.clone(),
            KeyValue::new("rpc.grpc.status_code", i64::from(code)),
        ],
    );
    duration.record(elapsed_ms, &[method]);
}

/// Completes an error's details (docs/errors.md): the request id as
/// `google.rpc.RequestInfo` (Google's convention for what a caller quotes
/// when reporting a problem); an `ErrorInfo` and a Chinese
/// `LocalizedMessage` where the error came without them (refused by a
/// layer of the stack, or by tonic); and the `LocalizedMessage` in English
/// (the status message) when `locale` is en-US. Applies to answers whose
/// status travels in the headers, which is every error answered before a
/// message is sent.
fn with_request_info(headers: &mut http::HeaderMap, id: &str, locale: &str) {
    use tonic_types::{ErrorDetail, LocalizedMessage, RequestInfo, StatusExt};
    let Some(status) = tonic::Status::from_header_map(headers) else {
        return;
    };
    if status.code() == tonic::Code::Ok {
        return;
    }
    let mut details = status.get_error_details_vec();
    if details
        .iter()
        .any(|d| matches!(d, ErrorDetail::RequestInfo(_)))
    {
        return;
    }
    details.push(RequestInfo::new(id, "").into());
    let reason = match status.code() {
        tonic::Code::Internal
            if status
                .message()
                .starts_with("failed to decode Protobuf message") =>
        {
            Reason::MalformedRequest
        }
        tonic::Code::OutOfRange if oversized(status.message()).is_some() => Reason::MessageTooLarge,
        code => Reason::of_code(code),
    };
    if !details
        .iter()
        .any(|d| matches!(d, ErrorDetail::ErrorInfo(_)))
    {
        let (info, localized) = crate::error::reason_details(reason, "");
        details.push(info.into());
        if !details
            .iter()
            .any(|d| matches!(d, ErrorDetail::LocalizedMessage(_)))
        {
            details.push(localized.into());
        }
    }
    // tonic answers a request that is not valid protobuf with INTERNAL; it
    // is the caller's mistake, and retrying will not help. A request message
    // over the limit it answers with OUT_OF_RANGE, where gRPC's own
    // implementations say RESOURCE_EXHAUSTED (see `oversized`).
    let (code, message) = match status.code() {
        tonic::Code::OutOfRange if let Some(message) = oversized(status.message()) => {
            (tonic::Code::ResourceExhausted, message)
        }
        tonic::Code::Internal
            if status
                .message()
                .starts_with("failed to decode Protobuf message") =>
        {
            (
                tonic::Code::InvalidArgument,
                format!(
                    "the request is not a valid message of this method: {}",
                    status.message()
                ),
            )
        }
        code => (code, status.message().to_owned()),
    };
    if locale == crate::reason::EN_US {
        details.retain(|d| !matches!(d, ErrorDetail::LocalizedMessage(_)));
        details.push(LocalizedMessage::new(locale, message.clone()).into());
    }
    let with = tonic::Status::with_error_details_vec(code, message, details);
    for h in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        headers.remove(h);
    }
    if with.add_header(headers).is_err() {
        // Cannot happen with a status that was just read from headers; keep
        // the answer rather than lose it.
        let _ = status.add_header(headers);
    }
}

/// What to say of a request message tonic refused as over the limit
/// (`server.max_message_bytes`), from tonic's message; None for any other.
/// gRPC answers a message larger than the server accepts with
/// RESOURCE_EXHAUSTED (its status-code document), and so does the suite,
/// for unary calls here and for each message of a stream where the
/// service reads it (crediting's bulk upload).
pub fn oversized(tonic_message: &str) -> Option<String> {
    let rest = tonic_message.strip_prefix("Error, decoded message length too large: ")?;
    Some(format!(
        "the request message is too large for this server (server.max_message_bytes): {rest}"
    ))
}
