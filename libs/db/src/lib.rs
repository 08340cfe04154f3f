//! Persistence shared by every service: one diesel code base for PostgreSQL
//! (production) and SQLite (the embedded default), chosen from the URL.
//!
//! - [`Db::connect`] builds an r2d2 pool of [`DbConnection`]s, sets the SQLite
//!   pragmas on every new connection and runs the service's embedded
//!   migrations for the backend in use. A PostgreSQL restart is survived: a
//!   read that fails on a dropped connection runs once more on a fresh one,
//!   and a write tests its connection first.
//! - [`Db::read`] and [`Db::write`] run blocking diesel work on tokio's
//!   blocking pool inside the caller's tracing span; `write` wraps the work in
//!   one transaction, so a failed request leaves nothing half-written.
//! - [`audit`] is the append-only audit log every mutation writes to, and
//!   [`seal`] makes it tamper-evident (docs/audit.md).
//! - [`schema`] declares the tables several services keep alike: the outbox
//!   and feed cursors.
//! - [`Db::note_bulk_rows`] and [`Db::refresh_statistics`] keep PostgreSQL's
//!   planner statistics fresh while bulk loads run (see [`stats`]).
//! - On SQLite a thread of the pool's own checkpoints the WAL after writes,
//!   so writers do not (see `checkpoint`).

pub mod audit;
pub mod batch;
mod checkpoint;
mod pool;
pub mod schema;
pub mod seal;
pub mod stats;

pub use pool::{Backend, Db, DbConnection, DbError, Migrations, lock_row};

/// Initialises the OpenSSL that libpq links, without its exit-time cleanup.
///
/// Left to itself, libpq initialises OpenSSL on its first connection, and
/// OpenSSL then frees its global state in an `atexit` handler. A pool's
/// worker thread still opening a connection while the process exits (r2d2
/// retries in the background) then crashes with SIGSEGV inside libcrypto
/// (diesel-rs/diesel#3441). `openssl_sys::init` passes
/// `OPENSSL_INIT_NO_ATEXIT`, and the first initialisation decides, so this
/// must run before any PostgreSQL connection is opened: [`Db::connect`]
/// calls it, and so must anything that connects with diesel directly.
pub fn init_libpq() {
    openssl_sys::init();
}

/// The URL handed to libpq: the operator's, with `gssencmode=disable` added
/// unless it names a `gssencmode` itself.
///
/// libpq's default (`prefer`) looks for a Kerberos credential cache on every
/// connection attempt. Kerberos tears its mutexes down when the process
/// exits, so an attempt still running then aborts the process; and the
/// suite never uses GSSAPI encryption unless asked (TLS is `sslmode`).
pub fn libpq_url(url: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q);
    if query.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("gssencmode="))) {
        return url.to_owned();
    }
    let sep = if query.is_some() { '&' } else { '?' };
    format!("{url}{sep}gssencmode=disable")
}

#[cfg(test)]
mod tests {
    use super::libpq_url;

    #[test]
    fn libpq_urls_turn_gss_off_unless_they_say_otherwise() {
        assert_eq!(
            libpq_url("postgres://u@h:5432/db"),
            "postgres://u@h:5432/db?gssencmode=disable"
        );
        assert_eq!(
            libpq_url("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require&gssencmode=disable"
        );
        assert_eq!(
            libpq_url("postgres://u@h/db?gssencmode=require"),
            "postgres://u@h/db?gssencmode=require"
        );
        assert_eq!(
            libpq_url("postgres://u@h/db?sslmode=require&gssencmode=prefer"),
            "postgres://u@h/db?sslmode=require&gssencmode=prefer"
        );
    }
}
