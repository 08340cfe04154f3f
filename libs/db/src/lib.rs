//! Persistence shared by every service: one diesel code base for PostgreSQL
//! (production) and SQLite (the embedded default), chosen from the URL.
//!
//! - [`Db::connect`] builds an r2d2 pool of [`DbConnection`]s, sets the SQLite
//!   pragmas on every new connection, tests connections on checkout (so a
//!   PostgreSQL restart never hands out a dead one) and runs the service's
//!   embedded migrations for the backend in use.
//! - [`Db::read`] and [`Db::write`] run blocking diesel work on tokio's
//!   blocking pool inside the caller's tracing span; `write` wraps the work in
//!   one transaction, so a failed request leaves nothing half-written.
//! - [`audit`] is the append-only audit log every mutation writes to.

pub mod audit;
mod pool;

pub use pool::{Backend, Db, DbConnection, DbError, Migrations, lock_row};
