//! Calling another service of the suite: a lazily connected channel per
//! peer, a `service` token naming this service (`sub` and `kid`
//! `service/{name}`), signed with its own key and renewed before it
//! expires, and the caller's trace carried along.
//!
//! In development the key is this service's development key under the data
//! folder; in production it is `auth.service_key_path`, whose public half
//! the peers hold under this service's name (`auth.trusted_services`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ce_proto::common::Role;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::auth::{AuthError, DevKey, TokenRequest, TokenSigner};
use crate::config::Environment;

/// How long a service token lives; it is renewed at half-life.
const TOKEN_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("peers.{0} is not configured")]
    Unknown(String),
    #[error("peers.{name}: {message}")]
    Address { name: String, message: String },
    #[error("{0}")]
    Tls(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

struct Cached {
    header: MetadataValue<Ascii>,
    renew_at: Instant,
}

/// The peers one service calls, and the identity it calls them with.
pub struct Peers {
    service: String,
    urls: BTreeMap<String, String>,
    signer: TokenSigner,
    token: Mutex<Option<Cached>>,
    timeout: Duration,
    tls: Option<ClientTlsConfig>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("service", &self.service)
            .field("urls", &self.urls)
            .finish()
    }
}

impl Peers {
    /// Peers for `service` at `urls`, signing with the key the environment
    /// calls for.
    pub fn new(
        service: &str,
        urls: BTreeMap<String, String>,
        env: Environment,
        auth: &crate::config::AuthConfig,
        data_dir: &std::path::Path,
    ) -> Result<Peers, PeerError> {
        let signer = match (&auth.service_key_path, env) {
            (Some(path), _) => {
                let pem = std::fs::read_to_string(path).map_err(|e| {
                    AuthError::Config(format!("auth.service_key_path {}: {e}", path.display()))
                })?;
                TokenSigner::from_pem(
                    &pem,
                    Some(crate::auth::service_kid(service)),
                    &auth.issuer,
                    &auth.audience,
                )?
            }
            (None, Environment::Development) => {
                DevKey::for_service(data_dir, service)?.service_signer(service, auth)?
            }
            (None, Environment::Production) => {
                return Err(AuthError::Config(
                    "auth.service_key_path is required when environment = production and the service calls peers"
                        .into(),
                )
                .into());
            }
        };
        Ok(Peers {
            service: service.to_owned(),
            urls,
            signer,
            token: Mutex::new(None),
            timeout: Duration::from_secs(10),
            tls: None,
        })
    }

    /// Peers from a service's configuration: `peers`, the service key, and
    /// `peer_tls` for `https://` peers. An `https://` peer without
    /// `peer_tls` stops start-up, rather than failing on the first call.
    pub fn from_config(
        service: &str,
        config: &crate::app::ServiceConfig,
    ) -> Result<Peers, PeerError> {
        let mut peers = Peers::new(
            service,
            config.peers.clone(),
            config.environment,
            &config.auth,
            &config.data_dir,
        )?;
        let read = |key: &str, path: &std::path::Path| {
            std::fs::read(path)
                .map_err(|e| PeerError::Tls(format!("peer_tls.{key} {}: {e}", path.display())))
        };
        if let Some(t) = &config.peer_tls {
            let mut tls = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(read("ca_path", &t.ca_path)?));
            match (&t.cert_path, &t.key_path) {
                (Some(cert), Some(key)) => {
                    tls = tls.identity(Identity::from_pem(
                        read("cert_path", cert)?,
                        read("key_path", key)?,
                    ));
                }
                (None, None) => {}
                _ => {
                    return Err(PeerError::Tls(
                        "peer_tls.cert_path and peer_tls.key_path go together (mutual TLS)".into(),
                    ));
                }
            }
            peers.tls = Some(tls);
        } else if let Some((name, url)) = peers.urls.iter().find(|(_, u)| u.starts_with("https://"))
        {
            return Err(PeerError::Address {
                name: name.clone(),
                message: format!(
                    "{url} is https: set peer_tls.ca_path to the CA that signed the peers' certificates"
                ),
            });
        }
        Ok(peers)
    }

    /// A channel to `name` that connects on first use and reconnects after
    /// the peer restarts.
    pub fn channel(&self, name: &str) -> Result<Channel, PeerError> {
        let url = self
            .urls
            .get(name)
            .ok_or_else(|| PeerError::Unknown(name.to_owned()))?;
        let endpoint = Endpoint::from_shared(url.clone()).map_err(|e| PeerError::Address {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        let endpoint =
            match &self.tls {
                Some(tls) if url.starts_with("https://") => endpoint
                    .tls_config(tls.clone())
                    .map_err(|e| PeerError::Address {
                        name: name.to_owned(),
                        message: e.to_string(),
                    })?,
                _ => endpoint,
            };
        Ok(endpoint
            .connect_timeout(Duration::from_secs(3))
            .timeout(self.timeout)
            .connect_lazy())
    }

    /// The `authorization` value for the next call, renewed at half-life.
    fn bearer(&self) -> Result<MetadataValue<Ascii>, AuthError> {
        let mut cached = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cached.as_ref()
            && c.renew_at > Instant::now()
        {
            return Ok(c.header.clone());
        }
        let token = self.signer.mint(&TokenRequest {
            subject: crate::auth::service_kid(&self.service),
            role: Some(Role::Service),
            ttl_secs: TOKEN_TTL.as_secs(),
            ..Default::default()
        })?;
        let header: MetadataValue<Ascii> = format!("Bearer {token}")
            .parse()
            .map_err(|_| AuthError::Config("a minted token is not a header value".into()))?;
        *cached = Some(Cached {
            header: header.clone(),
            renew_at: Instant::now() + TOKEN_TTL / 2,
        });
        Ok(header)
    }

    /// A client interceptor that authenticates as this service and carries
    /// the current trace.
    pub fn interceptor(self: &Arc<Self>) -> PeerAuth {
        PeerAuth(self.clone())
    }

    /// `channel(name)` wrapped in the interceptor, ready for a generated client.
    pub fn intercepted(
        self: &Arc<Self>,
        name: &str,
    ) -> Result<InterceptedService<Channel, PeerAuth>, PeerError> {
        Ok(InterceptedService::new(
            self.channel(name)?,
            self.interceptor(),
        ))
    }
}

/// `headers` of a call this service forwards on another's behalf (quality's
/// dashboard gateway) with the current trace put in (`traceparent`), as
/// [`PeerAuth`] does for its own calls; their `authorization` untouched.
pub fn with_trace(headers: http::HeaderMap) -> http::HeaderMap {
    let mut metadata = tonic::metadata::MetadataMap::from_headers(headers);
    ce_telemetry::inject(&mut metadata);
    metadata.into_headers()
}

/// See [`Peers::interceptor`].
#[derive(Clone)]
pub struct PeerAuth(Arc<Peers>);

impl tonic::service::Interceptor for PeerAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let bearer = self.0.bearer().map_err(tonic::Status::from)?;
        req.metadata_mut().insert("authorization", bearer);
        ce_telemetry::inject(req.metadata_mut());
        Ok(req)
    }
}
