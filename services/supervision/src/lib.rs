//! The supervision service: violations by institutions (Art. 16, 26) and by
//! engineers (Art. 27), decisions and their effects, and notifications to
//! employers. Effects on the registry and crediting go through an outbox
//! that survives a peer being down.
//!
//! | module | holds |
//! |---|---|
//! | [`api`] | the gRPC handlers: translate and authorise |
//! | [`scope`] | who may read and act on what |
//! | [`violations`] | recording, reading and listing violations |
//! | [`decisions`] | deciding and closing them (rules in `ce_rules::sanction`) |
//! | [`quality`] | quality monitoring's results (Art. 25) |
//! | [`lifecycle`] | appeals, audit trail, escalation |
//! | [`inspections`] | inspections and the reproducible random draw (Art. 24) |
//! | [`record`] | an institution's supervision record |
//! | [`referrals`] | referrals of officials (Art. 28) |
//! | [`notifications`] | employers' notifications (Art. 27) |
//! | [`outbox`] | its effects on the registry and crediting (`ce_server::outbox` delivers them) |
//! | [`peers`] | the registry and crediting clients |
//! | [`convert`] | rows, protos and ce-rules' types into one another |
//! | [`store`], [`schema`] | SQL |

use std::future::Future;
use std::sync::Arc;

use ce_proto::supervision::supervision_service_server::SupervisionServiceServer;
use ce_server::app::{self, ServiceConfig, StartError};
use ce_server::auth::ServiceCallers;
use ce_server::serve::Running;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod api;
pub mod convert;
pub mod decisions;
pub mod inspections;
pub mod lifecycle;
pub mod notifications;
pub mod outbox;
pub mod peers;
pub mod people;
pub mod quality;
pub mod record;
pub mod referrals;
pub mod schema;
pub mod scope;
pub mod store;
pub mod violations;

/// The service's short name: config prefix `CE_SUPERVISION__`, database file
/// `supervision.db`.
pub const SERVICE: &str = "supervision";
/// The port `make run` uses.
pub const DEFAULT_PORT: u16 = 50053;
/// The gRPC services it serves besides health and reflection.
pub const GRPC_SERVICES: &[&str] = &["ce.supervision.v1.SupervisionService"];
/// Which services of the suite may call which RPC (least privilege; an
/// RPC not listed admits no service). People: `people.rs`, then `scope.rs`.
pub const SERVICE_CALLERS: ServiceCallers = &[
    // Quality monitoring reports and withdraws final results (Art. 26) and
    // counts an institution's violations.
    ("ReportQualityResult", &["quality"]),
    ("WithdrawQualityResult", &["quality"]),
    ("ListViolations", &["quality"]),
    // Crediting checks the case a revocation names (Art. 27).
    ("GetViolation", &["crediting"]),
];

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
    let supervision = violations::Supervision {
        db: prepared.db.clone(),
        clients: peers::Clients::new(&peers)?,
        outbox: ce_server::outbox::Outbox::default(),
        clock,
        deployment: prepared.deployment.clone(),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = ce_server::outbox::spawn(
        supervision.db.clone(),
        std::sync::Arc::new(supervision.clients.clone()),
        supervision.outbox.clone(),
        stop_rx.clone(),
    );
    lifecycle::spawn_escalation(supervision.db.clone(), supervision.clock.clone(), stop_rx);
    let signal = async move {
        signal.await;
        ce_server::outbox::stop(&stop_tx, worker).await;
    };
    let limit = prepared.config.server.max_message_bytes;
    let routes = tonic::service::Routes::new(
        SupervisionServiceServer::new(api::SupervisionApi::new(supervision))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    );
    app::serve(SERVICE, GRPC_SERVICES, &prepared, routes, signal).await
}
