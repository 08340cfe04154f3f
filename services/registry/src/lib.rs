//! The registry service: engineers, employers, institutions (and their
//! standing), activities, and the reference lists (`docs/product.md`).
//!
//! | module | holds |
//! |---|---|
//! | [`api`] | the gRPC handlers |
//! | [`engineers`], [`employers`], [`institutions`], [`activities`] | each resource's rules and flow |
//! | [`scope`] | who may see and change what |
//! | [`convert`] | stored rows into wire messages |
//! | [`ids`] | GB 11643 and GB 32100 identifier checks |
//! | [`store`], [`schema`] | SQL |

use std::future::Future;

use ce_proto::registry::registry_service_server::RegistryServiceServer;
use ce_server::app::{self, ServiceConfig, StartError};
use ce_server::auth::ServiceCallers;
use ce_server::serve::Running;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod activities;
pub mod api;
pub mod convert;
pub mod employers;
pub mod engineers;
pub mod ids;
pub mod institutions;
mod mask;
pub mod names;
pub mod people;
mod reference;
pub mod schema;
pub mod scope;
pub mod store;

/// The service's short name: config prefix `CE_REGISTRY__`, database file
/// `registry.db`.
pub const SERVICE: &str = "registry";
/// The port `make run` uses.
pub const DEFAULT_PORT: u16 = 50051;
pub const GRPC_SERVICES: &[&str] = &["ce.registry.v1.RegistryService"];
/// Which services of the suite may call which RPC (least privilege; an
/// RPC not listed admits no service). People: `people.rs`, then `scope.rs`.
pub const SERVICE_CALLERS: ServiceCallers = &[
    // Supervision looks up the parties of a case and draws inspections.
    ("GetEngineer", &["supervision"]),
    ("GetEmployer", &["supervision"]),
    ("ListEmployers", &["supervision"]),
    ("GetInstitution", &["supervision", "quality"]),
    ("ListInstitutions", &["supervision", "quality"]),
    // Crediting validates records against engineers and activities, and
    // follows moves and standings (Art. 17, 22).
    ("ListEngineers", &["crediting", "supervision"]),
    ("BatchGetEngineers", &["crediting"]),
    (
        "ListEngineerChanges",
        &["crediting", ce_server::auth::NATIONAL],
    ),
    ("GetActivity", &["crediting"]),
    ("BatchGetActivities", &["crediting"]),
    (
        "ListStandingChanges",
        &["crediting", ce_server::auth::NATIONAL],
    ),
    // The national deployment (`ce_server::auth::NATIONAL`) reads the
    // feeds of moves and standings above, nothing else (Art. 22).
    // Only supervision changes a standing (Art. 16, 26), only quality
    // monitoring records a grade (Art. 25).
    ("ChangeInstitutionStanding", &["supervision"]),
    ("RecordQualityGrade", &["quality"]),
];

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub fn migrations() -> ce_db::Migrations {
    ce_db::Migrations {
        postgres: POSTGRES,
        sqlite: SQLITE,
    }
}

/// The registry's time, in microseconds since the epoch: when engineers,
/// employers, institutions and activities are registered and changed, and
/// the day (China Standard Time) on which dated standing changes fall due
/// (Art. 26). Registration times are facts a peer reads (the year close in
/// crediting counts who was registered by the end of the year), so tests
/// fix the clock, as they fix crediting's date.
pub type Clock = std::sync::Arc<dyn Fn() -> i64 + Send + Sync>;

/// The day `micros` (since the epoch) falls on in China Standard Time.
pub fn today(micros: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map_or_else(|_| ce_server::dates::today(), ce_rules::dates::date_of)
}

/// The real clock.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(ce_server::call::now_micros)
}

/// Opens the database and serves until `signal` resolves.
pub async fn start(
    config: ServiceConfig,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    start_with_clock(config, signal, system_clock()).await
}

/// [`start`], with engineers registered and changed at `clock`'s time.
pub async fn start_with_clock(
    config: ServiceConfig,
    signal: impl Future<Output = ()> + Send + 'static,
    clock: Clock,
) -> Result<Running, StartError> {
    let prepared = app::prepare(
        SERVICE,
        config,
        migrations(),
        SERVICE_CALLERS,
        people::PEOPLE,
    )
    .await?;
    let limit = prepared.config.server.max_message_bytes;
    let routes = tonic::service::Routes::new(
        RegistryServiceServer::new(
            api::RegistryApi::with_clock(prepared.db.clone(), clock)
                .with_deployment(prepared.deployment.clone()),
        )
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit),
    );
    app::serve(SERVICE, GRPC_SERVICES, &prepared, routes, signal).await
}
