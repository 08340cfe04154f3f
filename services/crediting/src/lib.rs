//! The crediting service: hour records from submission to confirmation,
//! and each engineer's annual status, computed by the rules library
//! (Art. 17-22). Checks engineers, activities and institutions against the
//! registry over gRPC.
//!
//! | module | holds |
//! |---|---|
//! | [`api`] | the gRPC handlers |
//! | [`config`] | its own configuration sections, `crediting` and `certificates` |
//! | [`records`] | hour records: create, correct, confirm or reject, revoke, reads |
//! | [`registration`] | a submission checked and its row built (Art. 17, 19, 21, by `ce_rules::registration`) |
//! | [`bulk`] | bulk upload, answered per record |
//! | [`deferral`] | Art. 20 deferrals and make-up designation |
//! | [`status`] | annual status: recompute, reads |
//! | [`feed`] | the change feed, in commit order (Art. 22) |
//! | [`follow`] | following the registry's changes of where engineers are (Art. 22) |
//! | [`certificates`] | signed hour certificates, verification, revocation |
//! | [`published`] | the issuer's DID document and the revocation status lists, over plain HTTP |
//! | [`claims`] | the items submissions name, and claims across engineers (Art. 27) |
//! | [`sweep`] | closing a year; compliance statistics |
//! | [`activity`] | wire ⇄ rules-library activities and explanations |
//! | [`convert`] | stored rows ⇄ rules-library records ⇄ wire messages |
//! | [`registry`] | the registry client, batched and cached |
//! | [`scope`] | who may see and confirm what |
//! | [`store`] | all of crediting's SQL, a module per resource; [`schema`] its tables |

use std::future::Future;

use ce_server::app::{self, ServiceConfig, StartError};
use ce_server::auth::ServiceCallers;
use ce_server::serve::Running;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod activity;
pub mod api;
pub mod bulk;
pub mod certificates;
pub mod claims;
pub mod config;
pub mod convert;
pub mod deferral;
pub mod feed;
pub mod follow;
pub mod names;
pub mod people;
pub mod published;
pub mod reassess;
pub mod records;
pub mod registration;
pub mod registry;
pub mod schema;
pub mod scope;
pub mod status;
pub mod store;
pub mod supervision;
pub mod sweep;

/// The service's short name: config prefix `CE_CREDITING__`, database file
/// `crediting.db`.
pub const SERVICE: &str = "crediting";
/// The port `make run` uses.
pub const DEFAULT_PORT: u16 = 50052;
/// The gRPC services it serves besides health and reflection.
pub const GRPC_SERVICES: &[&str] = &["ce.crediting.v1.CreditingService"];
/// Which services of the suite may call which RPC (least privilege; an
/// RPC not listed admits no service). People: `people.rs`, then `scope.rs`.
pub const SERVICE_CALLERS: ServiceCallers = &[
    // Supervision reads the records and years a case or an inspection is
    // about, and revokes hours its decided case names (Art. 24, 27).
    ("GetHourRecord", &["supervision"]),
    ("GetAnnualStatus", &["supervision"]),
    ("ListAnnualStatuses", &["supervision"]),
    ("RevokeHourRecords", &["supervision"]),
    // Quality monitoring reads the change feed and an institution's
    // records for its indicators (Art. 25), nothing else.
    ("ListChanges", &["quality", ce_server::auth::NATIONAL]),
    // The national deployment follows a province's feed and reads nothing
    // else (Art. 22; docs/deploying.md, "One country, many systems").
    ("WatchChanges", &[ce_server::auth::NATIONAL]),
    ("ListHourRecords", &["quality"]),
];

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub fn migrations() -> ce_db::Migrations {
    ce_db::Migrations {
        postgres: POSTGRES,
        sqlite: SQLITE,
    }
}

/// How many batches of `GetAnnualStatus` reads may be at the database at
/// once, and how many reads one batch takes (see [`ce_db::batch`]). Two
/// lanes, not four: with the database on the same two cores, four queries
/// at once took turns and made smaller batches; one had the worst p99
/// (`docs/performance.md`, "Status read").
const STATUS_READ_LANES: usize = 2;
const STATUS_READ_BATCH: usize = 64;

/// Opens the database and serves until `signal` resolves.
pub async fn start(
    config: ServiceConfig,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    start_with_clock(config, signal, records::system_clock()).await
}

/// [`start`] with a fixed idea of today, for tests of date-dependent rules.
pub async fn start_with_clock(
    config: ServiceConfig,
    signal: impl Future<Output = ()> + Send + 'static,
    clock: records::Clock,
) -> Result<Running, StartError> {
    let own = config::Config::of(&config)?;
    let prepared = app::prepare(
        SERVICE,
        config,
        migrations(),
        SERVICE_CALLERS,
        people::PEOPLE,
    )
    .await?;
    // Items named by records stored before claims were indexed (Art. 27).
    let indexed = prepared.db.write(claims::backfill).await?;
    if indexed > 0 {
        tracing::info!(
            records = indexed,
            "indexed the items of earlier submissions"
        );
    }
    let peers = std::sync::Arc::new(ce_server::peer::Peers::from_config(
        SERVICE,
        &prepared.config,
    )?);
    let signer = std::sync::Arc::new(
        certificates::Signer::from_config(
            &own.certificates,
            prepared.config.environment,
            &prepared.config.data_dir,
        )
        .map_err(|e| StartError::Config(ce_server::config::ConfigError(e)))?,
    );
    let crediting = records::Crediting {
        db: prepared.db.clone(),
        registry: std::sync::Arc::new(registry::Registry::new(&peers)?),
        supervision: std::sync::Arc::new(supervision::Supervision::new(&peers)?),
        rules: prepared.rules.clone(),
        clock,
        feed: feed::Feed::default(),
        statuses: ce_db::batch::Batcher::start(
            prepared.db.clone(),
            STATUS_READ_LANES,
            STATUS_READ_BATCH,
            store::statuses_by_key,
        ),
        certificates: signer.clone(),
        deployment: prepared.deployment.clone(),
    };
    app::observe_batcher("crediting.annual_statuses", crediting.statuses.counter());
    if own.crediting.reassess_on_start {
        reassess::spawn_at_start(crediting.clone());
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let follow = own.crediting.follow_registry_secs;
    if follow > 0 {
        follow::spawn(
            crediting.clone(),
            std::time::Duration::from_secs(follow),
            stop_rx,
        );
    }
    let signal = async move {
        signal.await;
        let _ = stop_tx.send(true);
    };
    let limit = prepared.config.server.max_message_bytes;
    let routes = tonic::service::Routes::new(api::Served::new(
        api::CreditingApi::new(
            crediting,
            std::time::Duration::from_secs(prepared.config.server.stream_idle_secs.max(1)),
        ),
        limit,
    ));
    // The DID document and the status lists, over plain HTTP too (HTTP/1.1
    // accepted, as for gRPC-Web): a verifier fetches them with no token.
    let routes = published::Published::new(signer, prepared.db.clone()).route(routes);
    app::serve_with(SERVICE, GRPC_SERVICES, &prepared, routes, true, signal).await
}
