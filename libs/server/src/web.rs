//! gRPC-Web for a service browsers call (the quality service's dashboard),
//! as the outermost layer of the stack: a call refused before it reaches
//! the service (no token, shed, over its caller's share) is answered in
//! gRPC-Web framing too, as the browser's client expects, instead of in
//! gRPC's, which it cannot read. Anything else (gRPC, the dashboard's page
//! over plain HTTP) passes through untouched, but for `GET /dashboard` and
//! `GET /dashboard/`, which redirect to the page, `/dashboard/index.html`:
//! the routes match only `/dashboard/{rest}`, and the bare folder is not
//! public to the authentication below.

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

/// The page a browser's `/dashboard` or `/dashboard/` means.
pub const DASHBOARD_PAGE: &str = "/dashboard/index.html";

/// A redirect (303, so the browser asks again with `GET`) to the
/// dashboard's page, its query kept, for a `GET` or `HEAD` of `/dashboard`
/// or `/dashboard/`.
fn to_page(req: &http::Request<Body>) -> Option<http::Response<Body>> {
    let get = matches!(*req.method(), http::Method::GET | http::Method::HEAD);
    if !(get && matches!(req.uri().path(), "/dashboard" | "/dashboard/")) {
        return None;
    }
    let location = match req.uri().query() {
        Some(q) => format!("{DASHBOARD_PAGE}?{q}"),
        None => DASHBOARD_PAGE.to_owned(),
    };
    http::Response::builder()
        .status(http::StatusCode::SEE_OTHER)
        .header(http::header::LOCATION, location)
        .body(Body::empty())
        .ok()
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
        if let Some(redirect) = self.enabled.then(|| to_page(&req)).flatten() {
            return Box::pin(std::future::ready(Ok(redirect)));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> http::Request<Body> {
        http::Request::builder()
            .uri(uri)
            .body(Body::empty())
            .unwrap_or_default()
    }

    #[test]
    fn the_dashboard_folder_redirects_to_its_page_with_its_query() {
        for (asked, location) in [
            ("/dashboard", "/dashboard/index.html"),
            ("/dashboard/", "/dashboard/index.html"),
            (
                "/dashboard/?period=2026",
                "/dashboard/index.html?period=2026",
            ),
        ] {
            let r = to_page(&get(asked)).unwrap_or_default();
            assert_eq!(r.status(), http::StatusCode::SEE_OTHER, "{asked}");
            assert_eq!(
                r.headers()
                    .get(http::header::LOCATION)
                    .map(|v| v.as_bytes()),
                Some(location.as_bytes()),
                "{asked}"
            );
        }
        for other in [
            "/dashboard/index.html",
            "/dashboards",
            "/ce.quality.v1.QualityService/ListScores",
        ] {
            assert!(to_page(&get(other)).is_none(), "{other}");
        }
    }
}
