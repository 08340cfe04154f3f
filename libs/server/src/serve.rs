//! Assembles and runs a service's gRPC server: the tower stack in one
//! visible place, health and reflection, a database watch that feeds health,
//! and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::auth::{AuthLayer, Authenticator};
use crate::config::ServerConfig;
use crate::context::RequestContextLayer;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server.tls: {0}")]
    Tls(String),
    #[error("reflection: {0}")]
    Reflection(String),
    #[error("server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A service to serve: its name (for logs and health) and its gRPC services.
pub struct ServiceSpec {
    /// Short name, for example `registry`.
    pub name: &'static str,
    /// Fully qualified gRPC service names it serves, for health and the
    /// reflection allow-list.
    pub grpc_services: &'static [&'static str],
    /// The service implementations.
    pub routes: Routes,
    /// The database whose reachability health reports.
    pub db: Option<ce_db::Db>,
    /// Accept HTTP/1.1 too, for browsers: gRPC-Web services (wrapped in
    /// `tonic_web::GrpcWebLayer` by the service) and static pages.
    pub grpc_web: bool,
}

/// A server that is listening.
pub struct Running {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), ServeError>>,
    health: HealthReporter,
}

impl Running {
    /// The address it listens on (the real port when configured with 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The health reporter, to mark services serving or not.
    pub fn health(&self) -> &HealthReporter {
        &self.health
    }

    /// Stops accepting calls, lets in-flight calls finish (up to the grace
    /// period), and returns when the server has stopped.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Returns when the server stops (after its shutdown signal).
    pub async fn wait(self) -> Result<(), ServeError> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(ServeError::Tls(format!("server task failed: {e}"))),
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C). The handlers are installed
/// when this is called, not when the future is first polled, so a signal
/// that arrives while the service is still starting is not lost.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        async move {
            let int = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let term = async {
                match terminate.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = int => tracing::info!("SIGINT received; shutting down"),
                _ = term => tracing::info!("SIGTERM received; shutting down"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C received; shutting down");
    }
}

fn tls_config(cfg: &crate::config::TlsConfig) -> Result<ServerTlsConfig, ServeError> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| ServeError::Tls(format!("{}: {e}", p.display())))
    };
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(
        read(&cfg.cert_path)?,
        read(&cfg.key_path)?,
    ));
    if let Some(ca) = &cfg.client_ca_path {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(tls)
}

/// Binds `config.listen` and serves `spec` until `signal` resolves or
/// [`Running::shutdown`] is called.
pub async fn serve(
    spec: ServiceSpec,
    config: &ServerConfig,
    auth: Arc<Authenticator>,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let (health, routes) =
        with_health_and_reflection(spec.routes, spec.grpc_services, spec.db.as_ref()).await?;
    let connections = crate::connection::Connections::new(
        (config.idle_timeout_secs > 0).then(|| Duration::from_secs(config.idle_timeout_secs)),
    );
    let (stop, stop_rx) = watch::channel(false);
    let stopped = {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    // Accepted sockets: no Nagle delay, TCP keepalive, and closed once idle
    // (`connection.rs`), before any handshake too.
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(
            (config.tcp_keepalive_secs > 0).then(|| Duration::from_secs(config.tcp_keepalive_secs)),
        );
    let incoming = {
        let connections = connections.clone();
        tokio_stream::StreamExt::map(incoming, move |accepted| {
            accepted.map(|stream| connections.track(stream))
        })
    };
    // The stack, outermost first: gRPC-Web translated (for a service
    // browsers call), so every refusal below reaches a browser in its
    // framing; the call counted on its connection (which
    // is not idle meanwhile) and told the largest message it may answer
    // with, then request id and span, then shedding what the global
    // concurrency limit cannot take now (RESOURCE_EXHAUSTED; health
    // exempt), then authentication, then each caller's share.
    let max_message_bytes = crate::paging::MaxMessageBytes(config.max_message_bytes);
    let stack = tower::ServiceBuilder::new()
        .layer(crate::web::GrpcWebLayer::new(spec.grpc_web))
        .layer(crate::connection::CallsLayer::new(connections))
        .map_request(move |mut req: http::Request<tonic::body::Body>| {
            req.extensions_mut().insert(max_message_bytes);
            req
        })
        .layer(RequestContextLayer)
        .layer(crate::limit::ShedLayer::new(config.max_concurrent_requests))
        .layer(AuthLayer::new(auth))
        .layer(crate::limit::ShareLayer::new(
            config.max_concurrent_requests_per_caller,
        ))
        .into_inner();
    let server = transport(spec.grpc_web, config)?
        .layer(stack)
        .serve_with_incoming_shutdown(routes, incoming, stopped);

    // The names health reports on: the service's own, and its audit API,
    // which follows the same database and shutdown.
    let mut tracked: Vec<&'static str> = spec.grpc_services.to_vec();
    if let Some(db) = spec.db.clone() {
        tracked.push(crate::audit_service::NAME);
        crate::audit_service::spawn_sealer(
            db.clone(),
            Duration::from_secs(config.audit_seal_interval_secs.max(1)),
            stop_rx.clone(),
        );
        tokio::spawn(watch_database(
            db,
            health.clone(),
            tracked.clone(),
            stop_rx.clone(),
        ));
    }
    stop_on(signal, stop.clone(), stop_rx.clone());
    let task = tokio::spawn(drain(
        server,
        stop_rx,
        health.clone(),
        tracked,
        Duration::from_secs(config.shutdown_grace_secs),
        spec.name,
    ));
    tracing::info!(service = spec.name, %local_addr, "serving");
    Ok(Running {
        local_addr,
        stop,
        task,
        health,
    })
}

/// The service's routes with health (`grpc.health.v1`), reflection
/// (`grpc.reflection.v1` and `v1alpha`) and, with a database, the audit log's
/// verification (docs/audit.md); every name starts out SERVING.
async fn with_health_and_reflection(
    routes: Routes,
    grpc_services: &[&'static str],
    db: Option<&ce_db::Db>,
) -> Result<(HealthReporter, Routes), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in grpc_services {
        health
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    health.set_service_status("", ServingStatus::Serving).await;

    if db.is_some() {
        health
            .set_service_status(crate::audit_service::NAME, ServingStatus::Serving)
            .await;
    }
    // The same services listed over both reflection versions: v1, and
    // v1alpha, which grpcurl 1.8 and Python's grpcio-reflection ask for.
    let reflection = || {
        let mut b = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(ce_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health");
        if db.is_some() {
            b = b.with_service_name(crate::audit_service::NAME);
        }
        for name in grpc_services {
            b = b.with_service_name(*name);
        }
        b
    };
    let refused = |e: tonic_reflection::server::Error| ServeError::Reflection(e.to_string());
    let v1 = reflection().build_v1().map_err(refused)?;
    let v1alpha = reflection().build_v1alpha().map_err(refused)?;

    let routes = routes
        .add_service(health_service)
        .add_service(v1)
        .add_service(v1alpha);
    let routes = match db {
        Some(db) => routes.add_service(crate::audit_service::server(db.clone())),
        None => routes,
    };
    Ok((health, routes))
}

/// HTTP/2 (and, for gRPC-Web, HTTP/1.1) with the call timeout, the stream
/// limit, keepalive PINGs that find half-open connections (the peer gone
/// without a word: one unanswered for the timeout closes the connection),
/// and TLS when configured.
fn transport(
    grpc_web: bool,
    config: &ServerConfig,
) -> Result<tonic::transport::Server, ServeError> {
    let mut builder = tonic::transport::Server::builder()
        .accept_http1(grpc_web)
        .timeout(Duration::from_secs(config.request_timeout_secs.max(1)))
        .max_concurrent_streams(config.max_concurrent_streams)
        .http2_keepalive_interval(
            (config.http2_keepalive_interval_secs > 0)
                .then(|| Duration::from_secs(config.http2_keepalive_interval_secs)),
        )
        .http2_keepalive_timeout(Some(Duration::from_secs(
            config.http2_keepalive_timeout_secs.max(1),
        )));
    if let Some(tls) = &config.tls {
        builder = builder
            .tls_config(tls_config(tls)?)
            .map_err(|e| ServeError::Tls(e.to_string()))?;
    }
    Ok(builder)
}

/// Stops serving when `signal` resolves. Stopped by `Running::shutdown`
/// first, the signal is dropped, and with it whatever the service tied to
/// it (its background workers' stop senders), so those stop too.
fn stop_on(
    signal: impl Future<Output = ()> + Send + 'static,
    stop: watch::Sender<bool>,
    mut stopped: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        tokio::select! {
            () = signal => {
                let _ = stop.send(true);
            }
            _ = stopped.wait_for(|s| *s) => {}
        }
    });
}

/// Serves until stopped, then reports NOT_SERVING on every tracked name
/// and gives calls in flight `grace` to finish.
async fn drain(
    server: impl Future<Output = Result<(), tonic::transport::Error>>,
    mut stop_rx: watch::Receiver<bool>,
    reporter: HealthReporter,
    services: Vec<&'static str>,
    grace: Duration,
    name: &'static str,
) -> Result<(), ServeError> {
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result.map_err(ServeError::from),
        _ = stop_rx.wait_for(|s| *s) => {}
    }
    for s in &services {
        reporter
            .set_service_status(*s, ServingStatus::NotServing)
            .await;
    }
    reporter
        .set_service_status("", ServingStatus::NotServing)
        .await;
    match tokio::time::timeout(grace, &mut server).await {
        Ok(result) => result.map_err(ServeError::from),
        Err(_) => {
            tracing::warn!(
                service = name,
                "grace period over; dropping calls still open"
            );
            Ok(())
        }
    }
}

/// Pings the database every two seconds and reports NOT_SERVING while it
/// does not answer, so orchestrators and clients see an outage.
async fn watch_database(
    db: ce_db::Db,
    health: HealthReporter,
    services: Vec<&'static str>,
    mut stop: watch::Receiver<bool>,
) {
    let mut up = true;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let ok = db.ping().await.is_ok();
        if ok != up {
            up = ok;
            let status = if ok {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            if ok {
                tracing::info!("database reachable again");
            } else {
                tracing::warn!("database unreachable; health reports NOT_SERVING");
            }
            for s in &services {
                health.set_service_status(*s, status).await;
            }
            health.set_service_status("", status).await;
        }
    }
}
