//! gRPC-Web for a service browsers call (the quality service's dashboard),
//! as the outermost layer of the stack: a call refused before it reaches
//! the service (no token, shed, over its caller's share) is answered in
//! gRPC-Web framing too, as the browser's client expects, instead of in
//! gRPC's, which it cannot read. Anything else (gRPC, the dashboard's page
//! over plain HTTP) passes through untouched.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tower::{Layer, Service};

/// Translates gRPC-Web calls for the whole stack when `enabled`.
#[derive(Debug, Clone, Copy)]
pub struct GrpcWebLayer {
    enabled: bool,
}

impl GrpcWebLayer {
    pub fn new(enabled: bool) -> GrpcWebLayer {
        GrpcWebLayer { enabled }
    }
}

impl<S> Layer<S> for GrpcWebLayer {
    type Service = GrpcWeb<S>;

    fn layer(&self, inner: S) -> GrpcWeb<S> {
        GrpcWeb {
            inner,
            enabled: self.enabled,
        }
    }
}

/// See [`GrpcWebLayer`].
#[derive(Debug, Clone)]
pub struct GrpcWeb<S> {
    inner: S,
    enabled: bool,
}

/// Whether a request is gRPC-Web: its content type is one of the four
/// gRPC-Web types (binary or text, with or without `+proto`).
fn is_grpc_web(req: &http::Request<Body>) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/grpc-web"))
}

impl<S> Service<http::Request<Body>> for GrpcWeb<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + std::fmt::Display + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if !(self.enabled && is_grpc_web(&req)) {
            return Box::pin(self.inner.call(req));
        }
        // The service made ready takes the call, inside the translation; a
        // clone waits for the next.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let mut web = tonic_web::GrpcWebLayer::new().layer(ready);
        Box::pin(async move { web.call(req).await })
    }
}
