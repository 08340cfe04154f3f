//! What every service does to start: load its configuration, open and
//! migrate its database, build its authenticator, serve, and stop on a
//! signal. A service supplies only its name, port and gRPC services.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use tonic::service::Routes;

use crate::auth::{AuthError, Authenticator};
use crate::config::{self, AuthConfig, ConfigError, DatabaseConfig, Environment, ServerConfig};
use crate::serve::{self, Running, ServeError, ServiceSpec};

/// The configuration every service has. Keys are documented in
/// `docs/configuration.md`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// `development` or `production`.
    pub environment: Environment,
    /// Folder for the SQLite database and the development key.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub telemetry: ce_telemetry::TelemetryConfig,
    pub rules: RulesConfig,
    /// The other services, by name, for services that call them.
    pub peers: std::collections::BTreeMap<String, String>,
    /// TLS towards peers at `https://` addresses.
    #[serde(default)]
    pub peer_tls: Option<crate::config::PeerTlsConfig>,
    /// Which province's data this installation holds and accepts writes
    /// for (`deployment.rs`): the same value in every service of one
    /// installation.
    #[serde(default)]
    pub deployment: crate::deployment::DeploymentConfig,
    /// The sections one service reads itself, kept as given: their keys
    /// are defined, defaulted and checked by that service (its
    /// `config.rs`), with [`ServiceConfig::section`]. Any service's file may
    /// carry them, so the suite can share one file.
    #[serde(default)]
    certificates: Option<serde_json::Value>,
    #[serde(default)]
    crediting: Option<serde_json::Value>,
    #[serde(default)]
    quality: Option<serde_json::Value>,
}

/// The `rules` section: where provincial rule overlays live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Folder of provincial overlay files (`*.toml`, read recursively);
    /// empty for the national baseline only.
    #[serde(default)]
    pub dir: String,
}

/// The built-in defaults for a service listening on `port`.
pub fn defaults(port: u16) -> String {
    format!(
        r#"
environment = "production"
data_dir = "data"

[server]
listen = "127.0.0.1:{port}"
request_timeout_secs = 30
max_concurrent_requests = 512
max_concurrent_requests_per_caller = 128
max_concurrent_streams = 256
max_message_bytes = 4194304
stream_idle_secs = 60
shutdown_grace_secs = 20
audit_seal_interval_secs = 60
idle_timeout_secs = 300
http2_keepalive_interval_secs = 30
http2_keepalive_timeout_secs = 20
tcp_keepalive_secs = 60

[database]
url = ""
max_connections = 8

[auth]
issuer = "ce-suite"
audience = "ce-suite"

[telemetry]
log_format = "human"
log_filter = "info"
trace_filter = "info"

[rules]
dir = ""

[deployment]
scope = "single"
province = ""

[peers]
registry = "http://127.0.0.1:50051"
crediting = "http://127.0.0.1:50052"
supervision = "http://127.0.0.1:50053"
quality = "http://127.0.0.1:50054"
"#
    )
}

impl ServiceConfig {
    /// Defaults, then `file`, then `CE_<SERVICE>__…` variables.
    pub fn load(
        service: &str,
        port: u16,
        file: Option<&Path>,
    ) -> Result<ServiceConfig, ConfigError> {
        let c: ServiceConfig = config::load(service, &defaults(port), file)?;
        c.validate()?;
        Ok(c)
    }

    /// The service's own section `name`, its keys checked and defaulted by
    /// `T`; an error names the section and the key.
    pub fn section<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        let value = self
            .own(name)
            .and_then(|v| v.clone())
            .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()));
        // Read by the config crate, so that an error names its key
        // (`crediting.follow_registry_secs`).
        let mut wrapped = serde_json::Map::new();
        wrapped.insert(name.to_owned(), value);
        let wrapped = serde_json::Value::Object(wrapped).to_string();
        ::config::Config::builder()
            .add_source(::config::File::from_str(
                &wrapped,
                ::config::FileFormat::Json,
            ))
            .build()
            .and_then(::config::Config::try_deserialize::<std::collections::BTreeMap<String, T>>)
            .map_err(|e| ConfigError(e.to_string()))?
            .remove(name)
            .ok_or_else(|| ConfigError(format!("{name}: missing")))
    }

    /// Sets `key` (`section.name`, as in a file) of a service's own section,
    /// or of `deployment`, as a file or environment variable would; for
    /// tests and tools that build a configuration in code. Panics on a
    /// section no service reads itself: that is a mistake in the calling
    /// code. A bad value stops the service's start, naming the key.
    pub fn set(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        let (section, name) = key.split_once('.').unwrap_or((key, ""));
        if section == "deployment" {
            let value = match value.into() {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            match name {
                "scope" => self.deployment.scope = value,
                "province" => self.deployment.province = value,
                _ => panic!("deployment.{name} is not a key of the deployment section"),
            }
            return;
        }
        let Some(slot) = self.own_mut(section) else {
            panic!("{section} is not a section a service reads itself");
        };
        let entry = slot.get_or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if let serde_json::Value::Object(map) = entry {
            map.insert(name.to_owned(), value.into());
        }
    }

    /// A service's own section by name, as given.
    fn own(&self, section: &str) -> Option<&Option<serde_json::Value>> {
        match section {
            "certificates" => Some(&self.certificates),
            "crediting" => Some(&self.crediting),
            "quality" => Some(&self.quality),
            _ => None,
        }
    }

    fn own_mut(&mut self, section: &str) -> Option<&mut Option<serde_json::Value>> {
        match section {
            "certificates" => Some(&mut self.certificates),
            "crediting" => Some(&mut self.crediting),
            "quality" => Some(&mut self.quality),
            _ => None,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        if self.server.max_message_bytes < 1024 {
            return bad("server.max_message_bytes", "must be at least 1024");
        }
        if self.server.audit_seal_interval_secs == 0 {
            return bad("server.audit_seal_interval_secs", "must be at least 1");
        }
        if self.server.max_concurrent_requests == 0 {
            return bad("server.max_concurrent_requests", "must be at least 1");
        }
        if self.server.max_concurrent_requests_per_caller == 0 {
            return bad(
                "server.max_concurrent_requests_per_caller",
                "must be at least 1",
            );
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        let url = &self.database.url;
        if !url.is_empty()
            && url.contains("://")
            && !(url.starts_with("postgres") || url.starts_with("sqlite://"))
        {
            return bad(
                "database.url",
                "must start with postgres://, postgresql:// or sqlite://",
            );
        }
        crate::deployment::Deployment::from_config(&self.deployment)?;
        // Production without auth.public_key_path fails at start, where
        // the key is read (`Authenticator::from_config`); a tool that only
        // reads the issuer and audience loads the configuration anyway.
        Ok(())
    }

    /// The database URL, defaulting to a SQLite file under the data folder.
    pub fn database_url(&self, service: &str) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}",
                self.data_dir.join(format!("{service}.db")).display()
            )
        } else {
            self.database.url.clone()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database.url: {0}")]
    Database(#[from] ce_db::DbError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Telemetry(#[from] ce_telemetry::TelemetryError),
    #[error("invalid configuration: rules.dir: {0}")]
    Rules(#[from] ce_rules::RuleSetError),
    #[error("invalid configuration: {0}")]
    Peer(#[from] crate::peer::PeerError),
}

/// A service's shared parts, ready for it to build its gRPC services on.
pub struct Prepared {
    pub config: ServiceConfig,
    pub db: ce_db::Db,
    pub auth: Arc<Authenticator>,
    /// The national rules and the configured provincial overlays.
    pub rules: Arc<ce_rules::RuleBook>,
    /// Which province's writes this installation accepts (`deployment.rs`).
    pub deployment: crate::deployment::Deployment,
}

/// The rule book of `rules.dir`; a bad overlay stops start-up naming the
/// file, province, key and article.
pub fn load_rules(config: &RulesConfig) -> Result<ce_rules::RuleBook, ce_rules::RuleSetError> {
    if config.dir.is_empty() {
        Ok(ce_rules::RuleBook::national())
    } else {
        ce_rules::RuleBook::load_dir(Path::new(&config.dir))
    }
}

/// Builds the authenticator and opens (and migrates) the database.
/// `callers` declares which other services may call which of its RPCs,
/// and `people` which roles of people (`permit.rs`); refusals are audited
/// in its database.
pub async fn prepare(
    service: &str,
    config: ServiceConfig,
    migrations: ce_db::Migrations,
    callers: crate::auth::ServiceCallers,
    people: crate::permit::People,
) -> Result<Prepared, StartError> {
    match config.environment {
        Environment::Production => tracing::info!(service, environment = "production", "mode"),
        Environment::Development => tracing::warn!(
            service,
            environment = "development",
            "development mode: a generated key, and development tokens accepted; never in a deployment"
        ),
    }
    let deployment = crate::deployment::Deployment::from_config(&config.deployment)?;
    match &deployment {
        crate::deployment::Deployment::Provincial(province) => {
            tracing::info!(service, scope = "provincial", province, "deployment");
        }
        other => tracing::info!(service, scope = other.scope_name(), "deployment"),
    }
    let auth = Authenticator::from_config(config.environment, &config.auth, &config.data_dir)?;
    let rules = Arc::new(load_rules(&config.rules)?);
    let url = config.database_url(service);
    let max = config.database.max_connections;
    let db = tokio::task::spawn_blocking(move || ce_db::Db::connect(&url, max, migrations))
        .await
        .map_err(|e| ce_db::DbError::Task(e.to_string()))??;
    tracing::info!(service, backend = db.backend().name(), "database ready");
    let auth = Arc::new(
        auth.with_service_callers(callers, Some(db.clone()))
            .with_people(people),
    );
    observe_pool(&db);
    Ok(Prepared {
        config,
        db,
        auth,
        rules,
        deployment,
    })
}

/// The pool's connections in use and idle, as an OpenTelemetry gauge.
fn observe_pool(db: &ce_db::Db) {
    use opentelemetry::KeyValue;
    let db = db.clone();
    // The provider keeps the callback; the handle itself holds nothing.
    let _gauge = opentelemetry::global::meter("ce-server")
        .u64_observable_gauge("db.pool.connections")
        .with_description("Database connections of the pool, by state")
        .with_callback(move |observer| {
            let (open, idle) = db.pool_state();
            observer.observe(
                u64::from(open.saturating_sub(idle)),
                &[KeyValue::new("state", "used")],
            );
            observer.observe(u64::from(idle), &[KeyValue::new("state", "idle")]);
        })
        .build();
}

/// A [`ce_db::batch::Batcher`]'s work (its [`ce_db::batch::Counter`]) as
/// OpenTelemetry counters, under `batcher = name`: queries, the reads they
/// answered (reads / queries is the batch size under load) and their time
/// in seconds.
pub fn observe_batcher(name: &'static str, batcher: ce_db::batch::Counter) {
    use opentelemetry::KeyValue;
    let meter = opentelemetry::global::meter("ce-server");
    // The provider keeps the callbacks; the handles hold nothing.
    let b = batcher.clone();
    let _queries = meter
        .u64_observable_counter("db.batch.queries")
        .with_description("Queries run by a batch reader")
        .with_callback(move |o| o.observe(b.stats().queries, &[KeyValue::new("batcher", name)]))
        .build();
    let b = batcher.clone();
    let _reads = meter
        .u64_observable_counter("db.batch.reads")
        .with_description("Point reads answered by a batch reader's queries")
        .with_callback(move |o| o.observe(b.stats().reads, &[KeyValue::new("batcher", name)]))
        .build();
    let b = batcher;
    let _time = meter
        .f64_observable_counter("db.batch.query_time")
        .with_unit("s")
        .with_description("Time a batch reader's queries took")
        .with_callback(move |o| {
            o.observe(
                b.stats().query_time.as_secs_f64(),
                &[KeyValue::new("batcher", name)],
            )
        })
        .build();
}

/// Serves `routes` for a prepared service.
pub async fn serve(
    name: &'static str,
    grpc_services: &'static [&'static str],
    prepared: &Prepared,
    routes: Routes,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    serve_with(name, grpc_services, prepared, routes, false, signal).await
}

/// [`serve`], also answering gRPC-Web (and HTTP/1.1) when `grpc_web`.
pub async fn serve_with(
    name: &'static str,
    grpc_services: &'static [&'static str],
    prepared: &Prepared,
    routes: Routes,
    grpc_web: bool,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    Ok(serve::serve(
        ServiceSpec {
            name,
            grpc_services,
            routes,
            db: Some(prepared.db.clone()),
            grpc_web,
        },
        &prepared.config.server,
        prepared.auth.clone(),
        signal,
    )
    .await?)
}

/// A service's command line: `SERVICE [--config FILE] [--migrate-only]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Parser)]
#[command(
    version,
    about = "A service of the continuing-education suite: serves until SIGTERM or Ctrl-C.",
    long_about = "A service of the continuing-education suite: serves until SIGTERM or Ctrl-C. \
                  Settings come from the built-in defaults, then the --config file, then \
                  CE_<SERVICE>__<SECTION>__<KEY> environment variables (docs/configuration.md).",
    args_override_self = true
)]
pub struct ServiceArgs {
    /// A TOML file of settings (docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Open the database, run its migrations, start, and stop at once (the
    /// Helm chart's pre-install/pre-upgrade Job).
    #[arg(long)]
    pub migrate_only: bool,
}

impl ServiceArgs {
    /// The arguments `service` was started with. `--help` and `--version`
    /// print and exit 0; an argument it does not take prints why and exits
    /// 2, as a configuration error does.
    pub fn from_env(service: &'static str) -> ServiceArgs {
        use clap::{CommandFactory, FromArgMatches};
        let matches = ServiceArgs::command().name(service).get_matches();
        ServiceArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// The signal a service stops on.
pub type ShutdownSignal = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// The whole `main` of a service: configuration, telemetry, start, and
/// graceful shutdown on SIGTERM/SIGINT. Exit code 2 for a configuration
/// error, 1 for any other failure.
pub async fn run_main<F, Fut>(service: &'static str, port: u16, start: F) -> std::process::ExitCode
where
    F: FnOnce(ServiceConfig, ShutdownSignal) -> Fut,
    Fut: Future<Output = Result<Running, StartError>>,
{
    let args = ServiceArgs::from_env(service);
    let config = match ServiceConfig::load(service, port, args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{service}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _telemetry = match ce_telemetry::init(service, &config.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{service}: invalid configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // `--migrate-only` (the Helm chart's pre-install/pre-upgrade Job): open
    // the database, run the migrations, start, and stop at once.
    let migrate_only = args.migrate_only;
    let signal: ShutdownSignal = if migrate_only {
        Box::pin(std::future::ready(()))
    } else {
        Box::pin(serve::shutdown_signal())
    };
    let running = match start(config, signal).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "{service} failed to start");
            eprintln!("{service}: {e}");
            return match e {
                StartError::Config(_)
                | StartError::Auth(_)
                | StartError::Telemetry(_)
                | StartError::Rules(_) => std::process::ExitCode::from(2),
                _ => std::process::ExitCode::from(1),
            };
        }
    };
    match running.wait().await {
        Ok(()) if migrate_only => {
            tracing::info!("{service}: database migrated");
            std::process::ExitCode::SUCCESS
        }
        Ok(()) => {
            tracing::info!("{service} stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{service}: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    fn args(given: &[&str]) -> Result<ServiceArgs, clap::Error> {
        ServiceArgs::try_parse_from(std::iter::once("registry").chain(given.iter().copied()))
    }

    #[test]
    fn a_service_takes_its_config_file_and_migrate_only() {
        ServiceArgs::command().debug_assert();
        assert_eq!(args(&[]).unwrap(), ServiceArgs::default());
        let file = Some(PathBuf::from("/etc/ce/registry.toml"));
        for given in [
            &["--config", "/etc/ce/registry.toml"][..],
            &["--config=/etc/ce/registry.toml"],
        ] {
            assert_eq!(args(given).unwrap().config, file, "{given:?}");
        }
        let both = args(&["--config", "/etc/ce/registry.toml", "--migrate-only"]).unwrap();
        assert_eq!(
            both,
            ServiceArgs {
                config: file,
                migrate_only: true
            }
        );
    }

    /// A deployment's scope from a file: a bad combination stops loading
    /// (and so start-up, exit code 2) naming the key.
    #[test]
    fn a_bad_deployment_scope_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let load = |section: &str| {
            let path = dir.path().join("registry.toml");
            std::fs::write(&path, format!("[deployment]\n{section}\n")).unwrap();
            ServiceConfig::load("registry", 0, Some(&path))
        };
        for (section, key) in [
            ("scope = \"provincial\"", "deployment.province: is required"),
            (
                "scope = \"provincial\"\nprovince = \"99\"",
                "deployment.province: `99` is not a province code",
            ),
            (
                "scope = \"national\"\nprovince = \"44\"",
                "deployment.province: must be empty",
            ),
            ("scope = \"regional\"", "deployment.scope: `regional`"),
        ] {
            let e = load(section).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("invalid configuration: {key}")),
                "{section}: {e}"
            );
        }
        let c = load("scope = \"provincial\"\nprovince = \"44\"").unwrap();
        assert_eq!(
            crate::deployment::Deployment::from_config(&c.deployment).unwrap(),
            crate::deployment::Deployment::Provincial("44".to_owned())
        );
        let default = ServiceConfig::load("registry", 0, None).unwrap();
        assert_eq!(default.deployment.scope, "single");
    }

    #[test]
    fn an_argument_a_service_does_not_take_is_an_error() {
        for given in [&["--migrate_only"][..], &["--config"], &["serve"]] {
            let e = args(given).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{given:?}: {e}");
        }
    }
}
