//! The crediting service. Until its own issue fills it in, it starts, opens
//! and migrates its own database, and serves health and reflection through
//! the shared stack, so deployments and tests can already run it.

use std::future::Future;

use ce_server::app::{self, ServiceConfig, StartError};
use ce_server::serve::Running;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod activity;

/// The service's short name: config prefix `CE_CREDITING__`, database file
/// `crediting.db`.
pub const SERVICE: &str = "crediting";
/// The port `make run` uses.
pub const DEFAULT_PORT: u16 = 50052;
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
