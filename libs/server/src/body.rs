//! Response bodies that outlive their headers. A streaming call (a bulk
//! upload's answers, a watch) is not over when its headers go out: its
//! concurrency permit is held, and its status and duration are recorded,
//! when its body ends, with the trailers that carry its status.
//!
//! Nor is a call over when its answer is encoded: the body hands its data
//! on in pieces of at most [`CHUNK`] bytes, and the HTTP/2 server asks for
//! the next piece only once the client's flow-control window has taken the
//! last one. So the body ends, and frees its permit, when the client has
//! read nearly all of it, and the answers a slow client has not read yet
//! stay within the concurrency limits (a call's permit holds its answer's
//! memory) instead of piling up in the connection's send buffers.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use tonic::Status;
use tonic::codegen::Bytes;

/// What to do once with the call's final gRPC status code: from its
/// trailers, or CANCELLED (1) when the body is dropped before them (the
/// client went away).
pub type OnEnd = Box<dyn FnOnce(i32) + Send>;

/// The largest piece of data a body hands on at once: HTTP/2's default
/// frame size.
pub const CHUNK: usize = 16 * 1024;

/// A response body that holds what the call holds (a concurrency permit,
/// its place on its connection) and calls `on_end` until it ends.
pub struct Tracked {
    inner: tonic::body::Body,
    /// What is left of a data frame larger than [`CHUNK`].
    rest: Option<Bytes>,
    _held: Option<Box<dyn Send>>,
    on_end: Option<OnEnd>,
}

impl Tracked {
    /// `body`, holding `held` (a permit, a [`crate::connection::Busy`])
    /// until it is dropped.
    pub fn holding(body: tonic::body::Body, held: impl Send + 'static) -> tonic::body::Body {
        tonic::body::Body::new(Tracked {
            inner: body,
            rest: None,
            _held: Some(Box::new(held)),
            on_end: None,
        })
    }

    /// `body`, calling `on_end` with the call's final status code.
    pub fn ending(body: tonic::body::Body, on_end: OnEnd) -> tonic::body::Body {
        tonic::body::Body::new(Tracked {
            inner: body,
            rest: None,
            _held: None,
            on_end: Some(on_end),
        })
    }

    fn end(&mut self, code: i32) {
        if let Some(f) = self.on_end.take() {
            f(code);
        }
    }

    /// The next piece of `data`, keeping the rest for the next poll.
    fn piece(&mut self, mut data: Bytes) -> Frame<Bytes> {
        if data.len() > CHUNK {
            let head = data.split_to(CHUNK);
            self.rest = Some(data);
            Frame::data(head)
        } else {
            Frame::data(data)
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
        if let Some(rest) = self.rest.take() {
            return Poll::Ready(Some(Ok(self.piece(rest))));
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let polled = match polled {
            Poll::Ready(Some(Ok(frame))) if frame.is_data() => match frame.into_data() {
                Ok(data) => Poll::Ready(Some(Ok(self.piece(data)))),
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            other => other,
        };
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
        self.rest.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match &self.rest {
            None => self.inner.size_hint(),
            Some(rest) => {
                let inner = self.inner.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower() + rest.len() as u64);
                if let Some(upper) = inner.upper() {
                    hint.set_upper(upper + rest.len() as u64);
                }
                hint
            }
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Dropped before its trailers: the client went away.
        self.end(tonic::Code::Cancelled as i32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One data frame, then trailers with status 0.
    struct Answer(Option<Bytes>, bool);

    impl Body for Answer {
        type Data = Bytes;
        type Error = Status;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            if let Some(data) = self.0.take() {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            if !self.1 {
                self.1 = true;
                let mut trailers = http::HeaderMap::new();
                trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
            }
            Poll::Ready(None)
        }
    }

    #[tokio::test]
    async fn an_answer_goes_out_in_pieces_and_ends_with_its_trailers() {
        let ended = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = ended.clone();
        let body = Tracked::ending(
            tonic::body::Body::new(Answer(Some(Bytes::from(vec![1u8; 2 * CHUNK + 100])), false)),
            Box::new(move |code| *seen.lock().unwrap() = Some(code)),
        );
        let mut body = std::pin::pin!(body);
        let mut pieces = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            let frame = frame.unwrap();
            match frame.into_data() {
                Ok(data) => {
                    assert!(ended.lock().unwrap().is_none(), "ended before its data");
                    pieces.push(data.len());
                }
                Err(frame) => assert!(frame.is_trailers()),
            }
        }
        assert_eq!(pieces, vec![CHUNK, CHUNK, 100]);
        assert_eq!(*ended.lock().unwrap(), Some(0));
    }
}
