//! The concurrency limit with load shedding: at most N calls in flight
//! across all connections; a call that finds no room is refused at once
//! with RESOURCE_EXHAUSTED (retryable), never queued. A call holds its
//! permit until its response body ends, so streams (bulk uploads, watches)
//! count for as long as they run. Health checks are exempt, so an
//! overloaded service is not also reported dead and restarted by its
//! orchestrator.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;
use tonic::Status;

type Answer<E> = Pin<Box<dyn Future<Output = Result<http::Response<tonic::body::Body>, E>> + Send>>;

/// The call's answer, its body holding `permit` until it ends; an error
/// before any answer frees the permit at once.
fn holding<F, E>(call: F, permit: tokio::sync::OwnedSemaphorePermit) -> Answer<E>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, E>> + Send + 'static,
{
    Box::pin(async move {
        let response = call.await?;
        Ok(response.map(|body| crate::body::Tracked::holding(body, permit)))
    })
}

#[derive(Debug, Clone)]
pub struct ShedLayer {
    permits: Arc<Semaphore>,
}

impl ShedLayer {
    pub fn new(max_in_flight: usize) -> ShedLayer {
        ShedLayer {
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
        }
    }
}

impl<S> tower::Layer<S> for ShedLayer {
    type Service = Shed<S>;
    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            inner,
            permits: self.permits.clone(),
        }
    }
}

/// See [`ShedLayer`].
#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S, B> tower::Service<http::Request<B>> for Shed<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path().starts_with("/grpc.health.v1.Health/") {
            return Box::pin(self.inner.call(req));
        }
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => holding(self.inner.call(req), permit),
            Err(_) => {
                tracing::warn!("overloaded: call shed");
                Box::pin(std::future::ready(Ok(Status::resource_exhausted(
                    "the service is at its limit of calls in flight; retry with backoff",
                )
                .into_http())))
            }
        }
    }
}

/// Each caller's share of the service: at most `per_caller` calls in
/// flight for one caller (the token's subject; the peer's address when the
/// call carries no token), so one client cannot take every slot of
/// [`ShedLayer`] and starve the others. A call past its caller's share is
/// refused at once with RESOURCE_EXHAUSTED; other callers are served. Put
/// after the authentication layer, which names the caller.
#[derive(Debug, Clone)]
pub struct ShareLayer {
    per_caller: usize,
    shares: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<Semaphore>>>>,
}

/// Callers remembered before idle ones are forgotten.
const REMEMBERED: usize = 10_000;

impl ShareLayer {
    pub fn new(per_caller: usize) -> ShareLayer {
        ShareLayer {
            per_caller: per_caller.max(1),
            shares: Default::default(),
        }
    }

    fn share(&self, caller: String) -> Arc<Semaphore> {
        let Ok(mut shares) = self.shares.lock() else {
            return Arc::new(Semaphore::new(self.per_caller));
        };
        if shares.len() >= REMEMBERED && !shares.contains_key(&caller) {
            let all = self.per_caller;
            shares.retain(|_, s| s.available_permits() < all);
        }
        shares
            .entry(caller)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_caller)))
            .clone()
    }
}

impl<S> tower::Layer<S> for ShareLayer {
    type Service = Share<S>;
    fn layer(&self, inner: S) -> Share<S> {
        Share {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`ShareLayer`].
#[derive(Debug, Clone)]
pub struct Share<S> {
    inner: S,
    layer: ShareLayer,
}

/// Who a call counts against: its verified subject, else its peer.
fn caller_key<B>(req: &http::Request<B>) -> String {
    if let Some(caller) = req.extensions().get::<crate::auth::Caller>() {
        return format!("subject:{}", caller.subject);
    }
    crate::connection::remote_addr(req)
        .map_or_else(|| "peer:unknown".to_owned(), |a| format!("peer:{}", a.ip()))
}

impl<S, B> tower::Service<http::Request<B>> for Share<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path().starts_with("/grpc.health.v1.Health/") {
            return Box::pin(self.inner.call(req));
        }
        let key = caller_key(&req);
        match self.layer.share(key.clone()).try_acquire_owned() {
            Ok(permit) => holding(self.inner.call(req), permit),
            Err(_) => {
                tracing::warn!(caller = %key, "a caller past its share: call shed");
                let per_caller = self.layer.per_caller;
                Box::pin(std::future::ready(Ok(Status::resource_exhausted(format!(
                    "this caller has {per_caller} calls in flight, its share of the service \
                     (server.max_concurrent_requests_per_caller); retry with backoff"
                ))
                .into_http())))
            }
        }
    }
}
