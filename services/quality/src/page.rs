//! The built-in dashboard page (`/dashboard/index.html`): one static HTML file, no
//! build step, that calls this service through gRPC-Web. The viewer signs in by
//! pasting a token into the page's form; the page keeps it in the tab's
//! `sessionStorage` and sends it only in the `authorization` header, never in
//! the URL (an old `#token=` link is refused and scrubbed from the address).
//! The page carries no data of its own, so it is served without a token.

use std::convert::Infallible;
use std::future::Ready;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;

/// The page, compiled in.
pub const INDEX: &str = include_str!("../dashboard/index.html");

/// Serves the page at `/dashboard/index.html`.
#[derive(Debug, Clone, Default)]
pub struct Dashboard;

impl NamedService for Dashboard {
    const NAME: &'static str = "dashboard";
}

impl tower::Service<http::Request<Body>> for Dashboard {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let found = req.method() == http::Method::GET
            && matches!(req.uri().path(), "/dashboard/" | "/dashboard/index.html");
        let response = if found {
            http::Response::builder()
                .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(http::header::CACHE_CONTROL, "no-cache")
                .header("x-content-type-options", "nosniff")
                .body(Body::new(INDEX.to_owned()))
        } else {
            http::Response::builder()
                .status(http::StatusCode::NOT_FOUND)
                .body(Body::new(String::from("not found")))
        };
        std::future::ready(Ok(response.unwrap_or_default()))
    }
}
