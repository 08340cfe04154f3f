//! Idle connections are closed. A connection is idle while no call is in
//! flight on it: since it was accepted, or since its last call ended (its
//! response body, trailers included). One idle for
//! `server.idle_timeout_secs` is closed, and so is one that never
//! completes its TLS or HTTP/2 handshake, or sends nothing at all, since
//! that is idle from the start. Half-open connections (the peer is gone
//! without a word) are found by HTTP/2 PINGs and TCP keepalive, which
//! `serve.rs` sets on the transport.
//!
//! Two halves share each connection's [`Activity`]: [`Tracked`] wraps the
//! accepted socket and ends it (reads end of file, so the server drops the
//! connection) once it has been idle long enough; [`CallsLayer`] counts the
//! calls in flight on it, found by the peer's address (which one listener
//! sees on one open connection at a time).
//!
//! The close is not an HTTP/2 GOAWAY: tonic keeps its connections to
//! itself. A client whose next call crosses the close on the wire sees the
//! connection closed and that call UNAVAILABLE, and retries on a new
//! connection; a call that had reached the server is never cut, and a
//! connection that delivered bytes within the last second is given one
//! second more, so a call arriving just at the deadline is counted first.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// How long a connection that just delivered bytes is kept past its
/// deadline, for the call they may carry to be counted.
const GRACE: Duration = Duration::from_secs(1);

/// One connection's calls in flight, and since when it has had none.
#[derive(Debug)]
pub struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// A call begins; it ends when the returned guard is dropped.
    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// When the connection became idle, or `None` while a call is in flight.
    fn idle_since(&self) -> Option<Instant> {
        let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        (self.in_flight.load(Ordering::SeqCst) == 0).then_some(since)
    }
}

/// A call in flight on a connection, until dropped (with its response body).
#[derive(Debug)]
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut since = self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            *since = Instant::now();
        }
    }
}

/// The open connections of one server, by peer address.
#[derive(Debug, Clone)]
pub struct Connections {
    open: Arc<Mutex<HashMap<SocketAddr, Weak<Activity>>>>,
    idle_timeout: Option<Duration>,
}

impl Connections {
    /// Connections closed after `idle_timeout` without a call (`None`:
    /// never for idleness).
    pub fn new(idle_timeout: Option<Duration>) -> Connections {
        Connections {
            open: Arc::default(),
            idle_timeout,
        }
    }

    /// Wraps an accepted socket; it is closed once idle for the timeout.
    pub fn track(&self, stream: TcpStream) -> Tracked {
        let peer = stream.peer_addr().ok();
        let activity = Arc::new(Activity::new());
        if let Some(peer) = peer {
            self.lock().insert(peer, Arc::downgrade(&activity));
        }
        let now = Instant::now();
        Tracked {
            inner: stream,
            peer,
            activity,
            connections: self.clone(),
            timer: Box::pin(tokio::time::sleep_until(now)),
            last_read: now,
            closed: false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Weak<Activity>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many connections are open now.
    pub fn open(&self) -> usize {
        self.lock().len()
    }

    fn activity(&self, peer: SocketAddr) -> Option<Arc<Activity>> {
        self.lock().get(&peer).and_then(Weak::upgrade)
    }
}

/// An accepted socket that reads end of file once its connection has been
/// idle for the timeout; see the module's documentation.
#[derive(Debug)]
pub struct Tracked {
    inner: TcpStream,
    peer: Option<SocketAddr>,
    activity: Arc<Activity>,
    connections: Connections,
    timer: Pin<Box<Sleep>>,
    last_read: Instant,
    closed: bool,
}

impl Tracked {
    /// When the connection is to be closed, or `None` while a call is in
    /// flight.
    fn deadline(&self, timeout: Duration) -> Option<Instant> {
        let due = self.activity.idle_since()? + timeout;
        let grace = GRACE.min(timeout);
        Some(due.max((self.last_read + grace).min(due + grace)))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(peer) = self.peer {
            let mut open = self.connections.lock();
            if open
                .get(&peer)
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.activity)))
            {
                open.remove(&peer);
            }
        }
    }
}

impl Connected for Tracked {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.closed {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.last_read = Instant::now();
                }
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => {}
        }
        let Some(timeout) = self.connections.idle_timeout else {
            return Poll::Pending;
        };
        loop {
            let now = Instant::now();
            let wake = match self.deadline(timeout) {
                Some(due) if due <= now => {
                    tracing::debug!(peer = ?self.peer, "idle connection closed");
                    self.closed = true;
                    // End of file: the server ends the connection and drops
                    // the socket.
                    return Poll::Ready(Ok(()));
                }
                Some(due) => due,
                // A call in flight: look again a timeout from now.
                None => now + timeout,
            };
            if self.timer.deadline() != wake {
                self.timer.as_mut().reset(wake);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Counts each call in flight on its connection until its response body
/// ends, so the connection is not idle meanwhile. Outermost in the stack:
/// every call counts, shed or refused ones too.
#[derive(Debug, Clone)]
pub struct CallsLayer {
    connections: Connections,
}

impl CallsLayer {
    pub fn new(connections: Connections) -> CallsLayer {
        CallsLayer { connections }
    }
}

impl<S> tower::Layer<S> for CallsLayer {
    type Service = Calls<S>;
    fn layer(&self, inner: S) -> Calls<S> {
        Calls {
            inner,
            connections: self.connections.clone(),
        }
    }
}

/// See [`CallsLayer`].
#[derive(Debug, Clone)]
pub struct Calls<S> {
    inner: S,
    connections: Connections,
}

type Answer<E> = Pin<Box<dyn Future<Output = Result<http::Response<tonic::body::Body>, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for Calls<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answer<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let busy = remote_addr(&req)
            .and_then(|peer| self.connections.activity(peer))
            .map(|a| a.begin());
        let call = self.inner.call(req);
        Box::pin(async move {
            let response = call.await?;
            Ok(match busy {
                Some(busy) => response.map(|body| crate::body::Tracked::holding(body, busy)),
                None => response,
            })
        })
    }
}

/// The peer address of a request's connection: plain TCP, or TCP under TLS
/// (where the transport wraps the connection's information in
/// `TlsConnectInfo`). None for a request that did not come over a socket.
pub fn remote_addr<B>(req: &http::Request<B>) -> Option<std::net::SocketAddr> {
    use tonic::transport::server::TlsConnectInfo;
    let ext = req.extensions();
    ext.get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            ext.get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|t| t.get_ref().remote_addr())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn pair(connections: &Connections) -> (Tracked, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (connections.track(server), client)
    }

    const TIMEOUT: Duration = Duration::from_millis(200);

    #[tokio::test]
    async fn a_silent_connection_reads_end_of_file_after_the_timeout() {
        let connections = Connections::new(Some(TIMEOUT));
        let (mut server, _client) = pair(&connections).await;
        assert_eq!(connections.open(), 1);
        let started = Instant::now();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(30), server.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 0);
        assert!(started.elapsed() >= TIMEOUT);
        drop(server);
        assert_eq!(connections.open(), 0);
    }

    #[tokio::test]
    async fn a_connection_with_a_call_in_flight_is_not_idle() {
        let connections = Connections::new(Some(TIMEOUT));
        let (mut server, _client) = pair(&connections).await;
        let peer = server.peer.unwrap();
        let busy = connections.activity(peer).unwrap().begin();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(TIMEOUT * 5, server.read(&mut buf)).await;
        assert!(read.is_err(), "closed while a call was in flight");
        drop(busy);
        let started = Instant::now();
        let n = tokio::time::timeout(Duration::from_secs(30), server.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 0);
        assert!(started.elapsed() >= TIMEOUT);
    }
}
