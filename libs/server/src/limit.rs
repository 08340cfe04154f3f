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
            Ok(permit) => {
                let future = self.inner.call(req);
                Box::pin(async move {
                    // An error before any answer frees the permit at once.
                    let response = future.await?;
                    Ok(response.map(|body| crate::body::Tracked::holding(body, permit)))
                })
            }
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
