//! Response bodies that outlive their headers. A streaming call (a bulk
//! upload's answers, a watch) is not over when its headers go out: its
//! concurrency permit is held, and its status and duration are recorded,
//! when its body ends, with the trailers that carry its status.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;
use tonic::Status;
use tonic::codegen::Bytes;

/// What to do once with the call's final gRPC status code: from its
/// trailers, or CANCELLED (1) when the body is dropped before them (the
/// client went away).
pub type OnEnd = Box<dyn FnOnce(i32) + Send>;

/// A response body that holds `permit` and calls `on_end` until it ends.
pub struct Tracked {
    inner: tonic::body::Body,
    _permit: Option<OwnedSemaphorePermit>,
    on_end: Option<OnEnd>,
}

impl Tracked {
    /// `body`, holding `permit` until it is dropped.
    pub fn holding(body: tonic::body::Body, permit: OwnedSemaphorePermit) -> tonic::body::Body {
        tonic::body::Body::new(Tracked {
            inner: body,
            _permit: Some(permit),
            on_end: None,
        })
    }

    /// `body`, calling `on_end` with the call's final status code.
    pub fn ending(body: tonic::body::Body, on_end: OnEnd) -> tonic::body::Body {
        tonic::body::Body::new(Tracked {
            inner: body,
            _permit: None,
            on_end: Some(on_end),
        })
    }

    fn end(&mut self, code: i32) {
        if let Some(f) = self.on_end.take() {
            f(code);
        }
    }
}

/// The `grpc-status` a trailers map carries (0 when it names none).
fn status_of(trailers: &http::HeaderMap) -> i32 {
    trailers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = status_of(trailers);
                    self.end(code);
                }
            }
            Poll::Ready(Some(Err(status))) => {
                let code = status.code() as i32;
                self.end(code);
            }
            Poll::Ready(None) => self.end(0),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Dropped before its trailers: the client went away.
        self.end(tonic::Code::Cancelled as i32);
    }
}
