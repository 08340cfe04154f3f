//! Configuration loading, the same way for every service: built-in defaults,
//! then an optional file, then environment variables named
//! `CE_<SERVICE>__<SECTION>__<KEY>` (for example
//! `CE_REGISTRY__DATABASE__URL`). Every key is documented in
//! `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Whether this is a developer's machine or a real deployment. Production
/// unless configured otherwise: a deployment that forgets the setting
/// fails closed (no generated keys, no development tokens).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Dev signing key generated on first start; tokens minted locally.
    /// Only when set explicitly (`make run`, the tests).
    Development,
    /// Refuses development tokens and the development key; needs
    /// `auth.public_key_path`.
    #[default]
    Production,
}

impl Environment {
    pub fn name(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

/// The `server` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Longest time one call may run, in seconds.
    pub request_timeout_secs: u64,
    /// Calls served at once across all connections; more are shed with
    /// RESOURCE_EXHAUSTED.
    pub max_concurrent_requests: usize,
    /// Calls one caller (a token's subject, or an address) may have in
    /// flight at once; more of its calls are shed, others are served.
    pub max_concurrent_requests_per_caller: usize,
    /// HTTP/2 streams one connection may open at once.
    pub max_concurrent_streams: u32,
    /// Largest request or response message, in bytes. List pages are cut
    /// short (with a next-page token) before their answer would pass it.
    pub max_message_bytes: usize,
    /// A client stream that sends nothing for this long is ended with
    /// DEADLINE_EXCEEDED, so stalled uploads cannot hold the server's memory.
    pub stream_idle_secs: u64,
    /// How long shutdown waits for in-flight calls, in seconds.
    pub shutdown_grace_secs: u64,
    /// How often the audit log is sealed, in seconds (docs/audit.md).
    pub audit_seal_interval_secs: u64,
    /// A connection with no call in flight for this long is closed, and so
    /// is one that never completes its handshake (TLS, HTTP/2) or sends
    /// nothing; 0 never closes one for idleness.
    pub idle_timeout_secs: u64,
    /// Seconds between HTTP/2 PINGs the server sends on each connection;
    /// 0 sends none.
    pub http2_keepalive_interval_secs: u64,
    /// A connection whose peer does not answer a PING within this many
    /// seconds is closed (a half-open connection: the peer is gone).
    pub http2_keepalive_timeout_secs: u64,
    /// Seconds a connection is silent before the operating system starts
    /// TCP keepalive probes; 0 turns them off.
    pub tcp_keepalive_secs: u64,
    /// TLS, and mutual TLS when `client_ca_path` is set.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// The `server.tls` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain of this server.
    pub cert_path: PathBuf,
    /// PEM private key of this server.
    pub key_path: PathBuf,
    /// PEM CA bundle; when set, clients must present a certificate it signed.
    #[serde(default)]
    pub client_ca_path: Option<PathBuf>,
}

/// The `peer_tls` section: calling peers whose addresses are `https://`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerTlsConfig {
    /// PEM CA bundle that signed the peers' certificates.
    pub ca_path: PathBuf,
    /// PEM client certificate chain, for peers that require mutual TLS.
    #[serde(default)]
    pub cert_path: Option<PathBuf>,
    /// PEM private key of that certificate.
    #[serde(default)]
    pub key_path: Option<PathBuf>,
}

/// The `database` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://PATH`. Empty: `sqlite://<data_dir>/<service>.db`.
    #[serde(default)]
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
}

/// The `auth` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// PEM Ed25519 public key that verifies tokens. Required in production;
    /// in development the key generated under `data_dir` is used when unset.
    #[serde(default)]
    pub public_key_path: Option<PathBuf>,
    /// The services whose calls this service accepts, by name, each with
    /// the PEM Ed25519 public key that verifies its tokens (`kid` and `sub`
    /// `service/{name}`). Empty in production: no service's call is
    /// accepted. Empty in development: every suite service's development
    /// key under `data_dir`.
    #[serde(default)]
    pub trusted_services: std::collections::BTreeMap<String, PathBuf>,
    /// PEM Ed25519 private key (PKCS#8) this service, and only it, signs
    /// its calls to peers with. Required in production for services that
    /// call peers; in development its own key under `data_dir` is used.
    #[serde(default)]
    pub service_key_path: Option<PathBuf>,
    /// Expected `iss` claim.
    pub issuer: String,
    /// Expected `aud` claim.
    pub audience: String,
    /// Calls a minute one peer address may make without a token, to the
    /// RPCs anyone may call (crediting's `VerifyHourCertificate`): the
    /// refill rate of each address's token bucket. 0 refuses every call
    /// without a token.
    #[serde(default = "anonymous_calls_per_minute")]
    pub anonymous_calls_per_minute: u32,
    /// How many such calls one peer address may make at once before the
    /// rate applies: the size of its bucket.
    #[serde(default = "anonymous_burst")]
    pub anonymous_burst: u32,
}

fn anonymous_calls_per_minute() -> u32 {
    60
}

fn anonymous_burst() -> u32 {
    20
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// Loads `T` for `service`: `defaults` (TOML), then `file` if given, then
/// the environment. The error names the offending key.
pub fn load<T: DeserializeOwned>(
    service: &str,
    defaults: &str,
    file: Option<&Path>,
) -> Result<T, ConfigError> {
    let prefix = format!("CE_{}", service.to_uppercase());
    let mut builder = config::Config::builder()
        .add_source(config::File::from_str(defaults, config::FileFormat::Toml));
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        builder = builder.add_source(config::File::from(path).required(true));
    }
    builder = builder.add_source(
        config::Environment::with_prefix(&prefix)
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true),
    );
    builder
        .build()
        .and_then(|raw| raw.try_deserialize::<T>())
        .map_err(|e| ConfigError(e.to_string()))
}
