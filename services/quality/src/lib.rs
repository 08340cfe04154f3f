//! The quality-monitoring service (Art. 25): evidence about institutions'
//! teaching (learners' evaluations and measured indicators), scored by a
//! versioned model ([`model`]) into grades that rank institutions, and poor
//! results reported to supervision through the outbox.
//!
//! | module | holds |
//! |---|---|
//! | [`api`] | the gRPC handlers: translate and authorise |
//! | [`config`] | its own configuration section, `quality` |
//! | [`scope`] | who may do what, and see how much |
//! | [`model`] | the scoring model: normalisation, weights, bands (its poor rule is `ce_rules::quality`) |
//! | [`evaluations`], [`indicators`], [`refresh`] | evidence in: learners', measured, pulled from the other services |
//! | [`scoring`] | evidence to scores; grades to the registry, poor results to supervision |
//! | [`scores`] | what the handlers share; reading scores, rankings, histories |
//! | [`periods`] | closing and reopening monitoring periods |
//! | [`dashboards`] | distributions, grade changes, the live watch |
//! | [`follow`] | rescoring on crediting's changes |
//! | [`peers`] | the other services' clients, and the outbox's delivery |
//! | [`convert`] | rows, model types and protos into one another |
//! | [`page`] | the built-in dashboard page, calling back through gRPC-Web |
//! | [`gateway`] | the page's same-origin calls to other services, forwarded as the viewer |
//! | [`store`], [`schema`] | SQL |

use std::future::Future;
use std::sync::Arc;

use ce_proto::quality::quality_service_server::QualityServiceServer;
use ce_server::app::{self, ServiceConfig, StartError};
use ce_server::auth::ServiceCallers;
use ce_server::serve::Running;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod api;
pub mod config;
pub mod convert;
pub mod dashboards;
pub mod evaluations;
pub mod follow;
pub mod gateway;
pub mod indicators;
pub mod model;
pub mod page;
pub mod peers;
pub mod people;
pub mod periods;
pub mod refresh;
pub mod schema;
pub mod scope;
pub mod scores;
pub mod scoring;
pub mod store;

/// The service's short name: config prefix `CE_QUALITY__`, database file
/// `quality.db`.
pub const SERVICE: &str = "quality";
/// The port `make run` uses.
pub const DEFAULT_PORT: u16 = 50054;
/// The gRPC services it serves besides health and reflection.
pub const GRPC_SERVICES: &[&str] = &["ce.quality.v1.QualityService"];
/// Which services of the suite may call which RPC: none. Quality
/// monitoring is called by people and dashboards only.
pub const SERVICE_CALLERS: ServiceCallers = &[];

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub fn migrations() -> ce_db::Migrations {
    ce_db::Migrations {
        postgres: POSTGRES,
        sqlite: SQLITE,
    }
}

/// Opens the database, starts the outbox worker and serves until `signal`
/// resolves; the worker stops with the service.
pub async fn start(
    config: ServiceConfig,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    start_with_clock(config, signal, ce_server::dates::system_clock()).await
}

/// [`start`] with the day the service takes for today (tests fix it).
pub async fn start_with_clock(
    config: ServiceConfig,
    signal: impl Future<Output = ()> + Send + 'static,
    clock: ce_server::dates::Clock,
) -> Result<Running, StartError> {
    let own = config::QualityConfig::of(&config)?;
    let prepared = app::prepare(
        SERVICE,
        config,
        migrations(),
        SERVICE_CALLERS,
        people::PEOPLE,
    )
    .await?;
    let peers = Arc::new(ce_server::peer::Peers::from_config(
        SERVICE,
        &prepared.config,
    )?);
    let quality = scores::Quality {
        db: prepared.db.clone(),
        clients: scores::Clients::new(&peers)?,
        models: Arc::new(
            model::Models::load(&own.models_dir)
                .map_err(|e| StartError::Config(ce_server::config::ConfigError(e)))?,
        ),
        outbox: ce_server::outbox::Outbox::default(),
        computed: tokio::sync::watch::channel(0).0,
        clock,
        deployment: prepared.deployment.clone(),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let follow = own.follow_crediting_secs;
    if follow > 0 {
        follow::spawn(
            quality.clone(),
            std::time::Duration::from_secs(follow),
            stop_rx.clone(),
        );
    }
    let worker = ce_server::outbox::spawn(
        quality.db.clone(),
        Arc::new(quality.clients.clone()),
        quality.outbox.clone(),
        stop_rx,
    );
    let signal = async move {
        signal.await;
        ce_server::outbox::stop(&stop_tx, worker).await;
    };
    let limit = prepared.config.server.max_message_bytes;
    let routes = tonic::service::Routes::new(
        QualityServiceServer::new(api::QualityApi::new(quality))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    )
    .add_service(page::Dashboard)
    // The page's province overview reads crediting and supervision as
    // the viewer, through this origin (`gateway`).
    .add_service(gateway::Gateway::<gateway::Crediting>::new(&peers)?)
    .add_service(gateway::Gateway::<gateway::Supervision>::new(&peers)?);
    // gRPC-Web on: dashboards in a browser call this service directly (the
    // stack translates it, `ce_server::web`; the page stays plain HTTP).
    app::serve_with(SERVICE, GRPC_SERVICES, &prepared, routes, true, signal).await
}
