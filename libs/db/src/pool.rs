use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{
    ConnectionManager, CustomizeConnection, Pool, PooledConnection, R2D2Connection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use tracing::Instrument;

/// A connection to either backend. Queries written once against the shared
/// schema run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The backend a database URL names: `postgres://` or `postgresql://` for
    /// PostgreSQL, `sqlite://PATH`, `sqlite:PATH` or a bare path for SQLite.
    /// Any other scheme is a mistake, not a file name.
    pub fn from_url(url: &str) -> Result<Backend, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") || !url.contains("://") {
            Ok(Backend::Sqlite)
        } else {
            Err(DbError::Url(format!(
                "unknown scheme in {}: use postgres://, postgresql:// or sqlite://",
                url.split("://").next().unwrap_or_default()
            )))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// A service's embedded migrations, one set per backend.
pub struct Migrations {
    pub postgres: EmbeddedMigrations,
    pub sqlite: EmbeddedMigrations,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Every pooled connection stayed in use until the wait ran out: the
    /// service is busy, not down.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("invalid database url: {0}")]
    Url(String),
    /// The blocking task was cancelled or panicked.
    #[error("database task failed: {0}")]
    Task(String),
}

impl DbError {
    /// A unique-constraint violation: the row exists already.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Whether a PostgreSQL connection is gone (the server restarted or ended
/// the session). diesel's `is_broken` only sees transaction state, so this
/// asks the server; it runs only after an error. A SQLite file is never
/// "lost".
fn lost(conn: &mut DbConnection) -> bool {
    matches!(conn, DbConnection::Pg(_)) && conn.batch_execute("SELECT 1").is_err()
}

/// Sets what SQLite needs on every new connection: WAL so readers do not
/// block the writer, a busy timeout instead of immediate `SQLITE_BUSY`,
/// foreign keys enforced, and `synchronous=FULL` so an acknowledged commit
/// survives a power loss. Each connection keeps up to 64 MiB of pages and
/// maps up to 256 MiB of the file, so hot pages are not read back through
/// system calls. WAL checkpoints are left to [`crate::checkpoint`]'s thread.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            // busy_timeout first: the pool opens its connections at once, and
            // switching a new file to WAL must wait for the others.
            // The checkpoint thread keeps the WAL short; a writer
            // checkpoints only when it has fallen far behind.
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = 10000;
                 PRAGMA journal_mode = WAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA synchronous = FULL;
                 PRAGMA cache_size = -65536;
                 PRAGMA mmap_size = 268435456;
                 PRAGMA temp_store = MEMORY;
                 PRAGMA wal_autocheckpoint = {};",
                crate::checkpoint::BACKSTOP_PAGES
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// How long a call waits for a pooled connection before the pool is busy.
const WAIT: Duration = Duration::from_secs(5);

/// A service's database: a pool plus what the service needs to use it well.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<DbConnection>>,
    backend: Backend,
    /// SQLite has one writer at a time; serialising write transactions here
    /// avoids `SQLITE_BUSY` on lock upgrade. PostgreSQL needs no such lock.
    write_lock: Option<Arc<std::sync::Mutex<()>>>,
    /// Rows written in bulk since the planner statistics were refreshed.
    pub(crate) freshness: Arc<crate::stats::Freshness>,
    /// SQLite: the thread that checkpoints the WAL after writes.
    checkpoints: Option<Arc<crate::checkpoint::Checkpoints>>,
    /// One slot per pooled connection: a call waits for a connection here,
    /// on the async runtime, rather than on a blocking thread of its own.
    slots: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

/// Turns `sqlite://path` or `sqlite:path` into the path diesel expects.
fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

impl Db {
    /// Opens a pool on `url` and runs `migrations` for its backend. Blocks:
    /// call it before serving, or inside `spawn_blocking`.
    pub fn connect(url: &str, max_connections: u32, migrations: Migrations) -> Result<Db, DbError> {
        let backend = Backend::from_url(url)?;
        let target = match backend {
            Backend::Postgres => {
                crate::init_libpq();
                crate::libpq_url(url)
            }
            Backend::Sqlite => {
                let path = sqlite_path(url);
                if path.is_empty() {
                    return Err(DbError::Url("empty SQLite path".into()));
                }
                if let Some(parent) = std::path::Path::new(path).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        DbError::Url(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
                path.to_owned()
            }
        };
        let pool = Pool::builder()
            .max_size(max_connections.max(1))
            .connection_timeout(WAIT)
            // No test query at checkout (a round trip per read): a read that
            // fails on a dropped connection runs again on a fresh one, and a
            // write tests its connection first. See `read` and `write`.
            .test_on_check_out(false)
            .connection_customizer(Box::new(ConnectionSetup))
            .build(ConnectionManager::<DbConnection>::new(target.clone()))
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        let mut db = Db {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(std::sync::Mutex::new(()))),
            freshness: Arc::default(),
            checkpoints: None,
            slots: Arc::new(tokio::sync::Semaphore::new(max_connections.max(1) as usize)),
        };
        db.migrate(migrations)?;
        if backend == Backend::Sqlite {
            db.checkpoints = Some(crate::checkpoint::Checkpoints::start(&target));
        }
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn checkout(&self) -> Result<PooledConnection<ConnectionManager<DbConnection>>, DbError> {
        self.pool.get().map_err(|e| {
            // Every connection open and none idle: they are all at work.
            let state = self.pool.state();
            if state.connections >= self.pool.max_size() && state.idle_connections == 0 {
                DbError::Busy(e.to_string())
            } else {
                DbError::Unavailable(e.to_string())
            }
        })
    }

    fn migrate(&self, migrations: Migrations) -> Result<(), DbError> {
        let mut conn = self.checkout()?;
        // The shared audit log first, then the service's own tables; both sets
        // share diesel's migrations table, keyed by distinct versions.
        let failed =
            |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
        match &mut *conn {
            DbConnection::Pg(c) => {
                c.run_pending_migrations(crate::audit::POSTGRES)
                    .map_err(failed)?;
                c.run_pending_migrations(migrations.postgres)
                    .map_err(failed)?;
            }
            DbConnection::Sqlite(c) => {
                c.run_pending_migrations(crate::audit::SQLITE)
                    .map_err(failed)?;
                c.run_pending_migrations(migrations.sqlite)
                    .map_err(failed)?;
            }
        }
        Ok(())
    }

    /// Runs read-only work on a pooled connection, off the async runtime.
    /// A pooled connection that the server dropped (PostgreSQL restarted)
    /// is discarded and the read runs once more on a fresh one, so pooled
    /// connections need no test query before each use.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        let slot = self.slot().await.map_err(E::from)?;
        run_blocking(move || {
            let _slot = slot;
            let mut conn = db.checkout().map_err(E::from)?;
            match f(&mut conn) {
                Err(_) if (*conn).is_broken() || lost(&mut conn) => {
                    drop(conn);
                    let mut fresh = db.checkout().map_err(E::from)?;
                    match f(&mut fresh) {
                        Err(_) if lost(&mut fresh) => Err(E::from(DbError::Unavailable(
                            "the connection to the database was lost".into(),
                        ))),
                        answer => answer,
                    }
                }
                answer => answer,
            }
        })
        .await
    }

    /// Runs `f` in one transaction, off the async runtime: everything it
    /// wrote commits together, or nothing does when it returns an error.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        let db = self.clone();
        let slot = self.slot().await.map_err(E::from)?;
        run_blocking(move || {
            let _slot = slot;
            let _guard = db
                .write_lock
                .as_ref()
                .map(|l| l.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            let mut pooled = db.checkout().map_err(E::from)?;
            // A write cannot be re-run, so its connection is tested first: one
            // the server dropped (PostgreSQL restarted) is replaced.
            if matches!(*pooled, DbConnection::Pg(_)) && pooled.batch_execute("SELECT 1").is_err() {
                drop(pooled);
                pooled = db.checkout().map_err(E::from)?;
            }
            let conn: &mut DbConnection = &mut pooled;
            let result = match conn {
                DbConnection::Pg(_) => conn.transaction(f),
                DbConnection::Sqlite(_) => sqlite_immediate(conn, f),
            };
            if result.is_ok()
                && let Some(checkpoints) = &db.checkpoints
            {
                checkpoints.note_write();
            }
            match result {
                // The server went away mid-write (restart, failover): the
                // caller may retry, which is what UNAVAILABLE says; client
                // keys make retried uploads safe.
                Err(_) if lost(conn) => Err(E::from(DbError::Unavailable(
                    "the connection to the database was lost during the write".into(),
                ))),
                result => result,
            }
        })
        .await
    }

    /// Waits, on the async runtime, for a pooled connection to be free: as
    /// long as a checkout would (5 s), then the pool is busy. So calls
    /// waiting for the database take no blocking thread each (and no
    /// thread's memory); at most one per connection is at work.
    async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, DbError> {
        match tokio::time::timeout(WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            Ok(Err(_)) => Err(DbError::Task("the pool is closed".into())),
            Err(_) => Err(DbError::Busy(format!(
                "every one of the {} connections stayed at work for {WAIT:?}",
                self.pool.max_size()
            ))),
        }
    }

    /// (open connections, idle connections) of the pool now.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    /// Whether the database answers a trivial query now.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.read(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
            .await
    }

    /// Checks out a connection synchronously, for tests and tools.
    pub fn connection(&self) -> Result<PooledConnection<ConnectionManager<DbConnection>>, DbError> {
        self.checkout()
    }
}

/// Locks one row for the rest of the transaction, so read-check-write
/// sequences on it do not interleave (PostgreSQL's READ COMMITTED would let
/// them). On SQLite every write transaction already holds the database's
/// write lock, so nothing more is needed. `table` is a name from code,
/// never from a request.
pub fn lock_row(conn: &mut DbConnection, table: &'static str, id: &str) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"))
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(c)?;
    }
    Ok(())
}

/// Runs `f` in a SQLite `BEGIN IMMEDIATE` transaction. A deferred one that
/// reads and then writes gets `SQLITE_BUSY` at once, without waiting, when
/// another connection (another process) holds the write lock; taking the
/// lock up front makes it wait for `busy_timeout` instead.
fn sqlite_immediate<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    fn inner(conn: &mut DbConnection) -> &mut diesel::SqliteConnection {
        match conn {
            DbConnection::Sqlite(c) => c,
            DbConnection::Pg(_) => unreachable!("sqlite_immediate is only called on SQLite"),
        }
    }
    AnsiTransactionManager::begin_transaction_sql(inner(conn), "BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(inner(conn))?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(inner(conn)) {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// Runs blocking work on tokio's blocking pool inside the current span.
async fn run_blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .instrument(tracing::Span::current())
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
}
