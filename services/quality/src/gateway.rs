//! A same-origin gateway for the dashboard page: a few read methods of
//! other services of the suite, which the page calls on this service over
//! gRPC-Web as it calls quality's own, forwarded over gRPC to the peer
//! **as the viewer**. The viewer's request and `authorization` header go
//! on unchanged, on a plain channel that carries no service token of
//! quality's, so the peer authenticates and scopes the viewer itself:
//! the page gets nothing the viewer's token does not give it
//! (`docs/dashboards.md`, "The province overview").
//!
//! Each forwarded service is registered in quality's routes under the
//! peer's own service name; a method of it not in [`Forwarded::METHODS`]
//! answers `UNIMPLEMENTED` without reaching the peer.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tower::ServiceExt;

/// One peer service whose read methods the gateway forwards.
pub trait Forwarded: Send + Sync + 'static {
    /// The peer's fully qualified gRPC service name.
    const SERVICE: &'static str;
    /// Its name under `peers` in the configuration.
    const PEER: &'static str;
    /// The methods forwarded; any other is `UNIMPLEMENTED` here.
    const METHODS: &'static [&'static str];
}

/// Crediting's compliance statistics (Art. 22), for the province overview.
#[derive(Debug, Clone, Copy)]
pub struct Crediting;

impl Forwarded for Crediting {
    const SERVICE: &'static str = "ce.crediting.v1.CreditingService";
    const PEER: &'static str = "crediting";
    const METHODS: &'static [&'static str] = &["GetComplianceStatistics"];
}

/// Supervision's violations, for the overview's open violations by category.
#[derive(Debug, Clone, Copy)]
pub struct Supervision;

impl Forwarded for Supervision {
    const SERVICE: &'static str = "ce.supervision.v1.SupervisionService";
    const PEER: &'static str = "supervision";
    const METHODS: &'static [&'static str] = &["ListViolations"];
}

/// The headers a forwarded call carries on: the gRPC ones, the viewer's
/// credentials and the trace. Anything else (HTTP/1.1 connection headers
/// of the browser's request, cookies) stays here.
const CARRIED: &[&str] = &[
    "content-type",
    "authorization",
    "grpc-timeout",
    "grpc-encoding",
    "grpc-accept-encoding",
    "x-request-id",
    "traceparent",
    "tracestate",
];

/// Forwards `F`'s allowed methods to its peer, as the caller.
pub struct Gateway<F> {
    channel: Channel,
    peer: PhantomData<F>,
}

impl<F> Clone for Gateway<F> {
    fn clone(&self) -> Self {
        Gateway {
            channel: self.channel.clone(),
            peer: PhantomData,
        }
    }
}

impl<F> std::fmt::Debug for Gateway<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gateway")
    }
}

impl<F: Forwarded> Gateway<F> {
    /// The gateway to `F`'s peer, over a plain channel from `peers`: no
    /// interceptor, so no token of quality's.
    pub fn new(peers: &ce_server::peer::Peers) -> Result<Gateway<F>, ce_server::peer::PeerError> {
        Ok(Gateway {
            channel: peers.channel(F::PEER)?,
            peer: PhantomData,
        })
    }

    /// Whether `path` is one of the forwarded methods.
    pub fn allows(path: &str) -> bool {
        path.strip_prefix('/')
            .and_then(|p| p.strip_prefix(F::SERVICE))
            .and_then(|p| p.strip_prefix('/'))
            .is_some_and(|m| F::METHODS.contains(&m))
    }
}

impl<F: Forwarded> NamedService for Gateway<F> {
    const NAME: &'static str = F::SERVICE;
}

/// The request as it goes to the peer: the same method, path and body, and
/// only the [`CARRIED`] headers.
fn forwarded(req: http::Request<Body>) -> http::Request<Body> {
    let (parts, body) = req.into_parts();
    let mut out = http::Request::new(body);
    *out.method_mut() = parts.method;
    *out.uri_mut() = parts.uri.path_and_query().map_or_else(
        || http::Uri::from_static("/"),
        |p| http::Uri::from(p.clone()),
    );
    for name in CARRIED {
        if let Some(v) = parts.headers.get(*name) {
            out.headers_mut().insert(*name, v.clone());
        }
    }
    // gRPC over HTTP/2 asks for trailers; a browser's call never says so.
    out.headers_mut()
        .insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    // The peer's spans join this call's trace.
    let headers = std::mem::take(out.headers_mut());
    *out.headers_mut() = ce_server::peer::with_trace(headers);
    out
}

impl<F: Forwarded> tower::Service<http::Request<Body>> for Gateway<F> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if !Self::allows(req.uri().path()) {
            let status = tonic::Status::unimplemented(format!(
                "{} is not forwarded by quality monitoring's dashboard gateway",
                req.uri().path()
            ));
            return Box::pin(std::future::ready(Ok(status.into_http())));
        }
        let channel = self.channel.clone();
        Box::pin(async move {
            match channel.oneshot(forwarded(req)).await {
                Ok(response) => Ok(response),
                Err(e) => Ok(tonic::Status::unavailable(format!(
                    "{} did not answer: {e}",
                    F::PEER
                ))
                .into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_methods_are_forwarded() {
        assert!(Gateway::<Crediting>::allows(
            "/ce.crediting.v1.CreditingService/GetComplianceStatistics"
        ));
        assert!(Gateway::<Supervision>::allows(
            "/ce.supervision.v1.SupervisionService/ListViolations"
        ));
        for refused in [
            "/ce.crediting.v1.CreditingService/CreateHourRecord",
            "/ce.crediting.v1.CreditingService/GetComplianceStatisticsX",
            "/ce.crediting.v1.CreditingService/",
            "/ce.supervision.v1.SupervisionService/DecideViolation",
            "/ce.supervision.v1.SupervisionService/GetComplianceStatistics",
        ] {
            assert!(!Gateway::<Crediting>::allows(refused), "{refused}");
            assert!(!Gateway::<Supervision>::allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_forwarded_request_carries_only_the_grpc_headers_and_the_viewers_token() {
        let req = http::Request::builder()
            .method(http::Method::POST)
            .uri("http://127.0.0.1:50054/ce.supervision.v1.SupervisionService/ListViolations")
            .header("content-type", "application/grpc")
            .header("authorization", "Bearer viewer")
            .header("cookie", "session=1")
            .header("connection", "keep-alive")
            .body(Body::empty())
            .unwrap_or_default();
        let out = forwarded(req);
        assert_eq!(
            out.uri().to_string(),
            "/ce.supervision.v1.SupervisionService/ListViolations"
        );
        assert_eq!(
            out.headers().get("authorization").map(|v| v.as_bytes()),
            Some(&b"Bearer viewer"[..])
        );
        assert!(out.headers().get("cookie").is_none());
        assert!(out.headers().get("connection").is_none());
    }
}
