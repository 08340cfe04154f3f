//! The quality-monitoring service (Art. 25). So far: the scoring model
//! ([`model`]), pure and tested. The service still only starts, opens and
//! migrates its own database, and serves health and reflection through the
//! shared stack; issue #6 fills in indicators, scores, feeds and the
//! dashboard.

use std::future::Future;

use ce_server::app::{self, ServiceConfig, StartError};
use ce_server::serve::Running;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod model;

/// The service's short name: config prefix `CE_QUALITY__`, database file
/// `quality.db`.
pub const SERVICE: &str = "quality";
/// The port `make run` uses.
pub const DEFAULT_PORT: u16 = 50054;
/// The gRPC services it serves besides health and reflection.
pub const GRPC_SERVICES: &[&str] = &[];

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub fn migrations() -> ce_db::Migrations {
    ce_db::Migrations {
        postgres: POSTGRES,
        sqlite: SQLITE,
    }
}

/// Opens the database and serves until `signal` resolves.
pub async fn start(
    config: ServiceConfig,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    let prepared = app::prepare(SERVICE, config, migrations()).await?;
    app::serve(
        SERVICE,
        GRPC_SERVICES,
        &prepared,
        tonic::service::Routes::default(),
        signal,
    )
    .await
}
