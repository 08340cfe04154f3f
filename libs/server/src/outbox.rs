//! The outbox (`docs/architecture.md`, "Crossing services"): an effect on another service is stored in the
//! transaction of the change that causes it and delivered by a background
//! worker, with leases, retries and capped backoff, until the peer
//! acknowledges. The effect's id is the idempotency key the peer sees, so a
//! delivery repeated after a crash or a lost answer has no second effect.
//!
//! A service that uses it has an `outbox` table of the shape
//! [`ce_db::schema::outbox`] declares in its own migrations, and gives the
//! worker a [`Deliver`] that knows its peers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ce_db::{Db, DbConnection, DbError};
use diesel::prelude::*;
use tokio::sync::{Notify, watch};

use crate::call::now_micros;
use crate::error::ApiError;

use ce_db::schema::outbox;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct Effect {
    pub id: String,
    pub cause: String,
    pub method: String,
    pub payload: Vec<u8>,
    pub attempts: i32,
    pub next_attempt_micros: i64,
    pub last_error: Option<String>,
    pub create_micros: i64,
    pub delivered_micros: Option<i64>,
    pub trace_parent: Option<String>,
}

impl Effect {
    /// A new effect, due now.
    pub fn new(id: String, cause: &str, method: &str, payload: Vec<u8>) -> Effect {
        let now = now_micros();
        Effect {
            id,
            cause: cause.to_owned(),
            method: method.to_owned(),
            payload,
            attempts: 0,
            next_attempt_micros: now,
            last_error: None,
            create_micros: now,
            delivered_micros: None,
            trace_parent: ce_telemetry::current_traceparent(),
        }
    }
}

/// Stores an effect inside the caller's transaction.
pub fn insert(conn: &mut DbConnection, e: &Effect) -> Result<(), DbError> {
    diesel::insert_into(outbox::table).values(e).execute(conn)?;
    Ok(())
}

/// Effects of one cause not acknowledged yet.
pub fn pending_of(conn: &mut DbConnection, cause: &str) -> Result<i64, DbError> {
    Ok(outbox::table
        .filter(outbox::cause.eq(cause))
        .filter(outbox::delivered_micros.is_null())
        .count()
        .get_result(conn)?)
}

/// The latest effect of a cause among `methods` (delivered or not): what
/// was last said to a peer about it.
pub fn latest_of(
    conn: &mut DbConnection,
    cause: &str,
    methods: &[&str],
) -> Result<Option<Effect>, DbError> {
    Ok(outbox::table
        .filter(outbox::cause.eq(cause))
        .filter(outbox::method.eq_any(methods))
        .order((outbox::create_micros.desc(), outbox::id.desc()))
        .select(Effect::as_select())
        .first(conn)
        .optional()?)
}

/// Delivers an effect to its peer: `Ok` once the peer acknowledged it.
pub trait Deliver: Send + Sync + 'static {
    fn deliver<'a>(
        &'a self,
        method: &'a str,
        payload: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Effects taken per round.
const ROUND: i64 = 20;
/// How long a worker holds an effect it is delivering.
const LEASE: Duration = Duration::from_secs(30);
/// How often the worker looks for due effects without being woken.
const POLL: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

fn backoff(attempts: i32) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 16)).min(MAX_BACKOFF)
}

/// Wakes the worker when a change stores effects.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    notify: Arc<Notify>,
}

impl Outbox {
    pub fn wake(&self) {
        self.notify.notify_one();
    }
}

/// Delivers the effects due now; returns how many it tried.
pub async fn round(db: &Db, peer: &dyn Deliver) -> Result<usize, ApiError> {
    let now = now_micros();
    let until = now + LEASE.as_micros() as i64;
    let due = db
        .write(move |conn| -> Result<_, ApiError> {
            let due: Vec<Effect> = outbox::table
                .filter(outbox::delivered_micros.is_null())
                .filter(outbox::next_attempt_micros.le(now))
                .order(outbox::id.asc())
                .limit(ROUND)
                .select(Effect::as_select())
                .load(conn)
                .map_err(DbError::from)?;
            // Another replica's worker may have read the same rows. A row is
            // ours only if it is unchanged since we read it: on PostgreSQL
            // the update waits for a competing claim to commit, then finds
            // the row moved on and updates nothing. Rows are claimed in id
            // order, so two claims never wait on each other in a cycle.
            let mut claimed = Vec::with_capacity(due.len());
            for e in due {
                let n = diesel::update(
                    outbox::table
                        .filter(outbox::id.eq(&e.id))
                        .filter(outbox::delivered_micros.is_null())
                        .filter(outbox::next_attempt_micros.eq(e.next_attempt_micros)),
                )
                .set(outbox::next_attempt_micros.eq(until))
                .execute(conn)
                .map_err(DbError::from)?;
                if n == 1 {
                    claimed.push(e);
                }
            }
            Ok(claimed)
        })
        .await?;
    for e in &due {
        // The delivery is part of the trace of the change that caused it.
        let span = tracing::info_span!("outbox.deliver", effect = %e.id, method = %e.method);
        if let Some(parent) = &e.trace_parent {
            ce_telemetry::continue_trace(parent, &span);
        }
        let outcome =
            tracing::Instrument::instrument(peer.deliver(&e.method, &e.payload), span).await;
        if let Err(err) = &outcome {
            tracing::warn!(effect = %e.id, method = %e.method, attempts = e.attempts + 1, error = %err, "effect not delivered; will retry");
        }
        let (id, attempts) = (e.id.clone(), e.attempts);
        db.write(move |conn| -> Result<_, ApiError> {
            let row = outbox::table.find(&id);
            match outcome {
                Ok(()) => diesel::update(row)
                    .set((
                        outbox::delivered_micros.eq(Some(now_micros())),
                        outbox::attempts.eq(attempts + 1),
                        outbox::last_error.eq(None::<String>),
                    ))
                    .execute(conn),
                Err(err) => diesel::update(row)
                    .set((
                        outbox::attempts.eq(attempts + 1),
                        outbox::last_error.eq(Some(err)),
                        outbox::next_attempt_micros
                            .eq(now_micros() + backoff(attempts).as_micros() as i64),
                    ))
                    .execute(conn),
            }
            .map_err(DbError::from)?;
            Ok(())
        })
        .await?;
    }
    Ok(due.len())
}

/// The backlog as last measured, for the OpenTelemetry gauges.
#[derive(Default)]
struct Backlog {
    pending: std::sync::atomic::AtomicU64,
    oldest_age_ms: std::sync::atomic::AtomicU64,
}

fn observe_backlog() -> Arc<Backlog> {
    use std::sync::atomic::Ordering;
    static BACKLOG: std::sync::OnceLock<Arc<Backlog>> = std::sync::OnceLock::new();
    BACKLOG
        .get_or_init(|| {
            let backlog = Arc::new(Backlog::default());
            let meter = opentelemetry::global::meter("ce-server");
            // The provider keeps the callbacks; the handles hold nothing.
            let b = backlog.clone();
            meter
                .u64_observable_gauge("outbox.pending")
                .with_description("Effects on other services not yet acknowledged")
                .with_callback(move |o| o.observe(b.pending.load(Ordering::Relaxed), &[]))
                .build();
            let b = backlog.clone();
            meter
                .f64_observable_gauge("outbox.oldest_age")
                .with_unit("s")
                .with_description("How long the oldest pending effect has waited")
                .with_callback(move |o| {
                    o.observe(b.oldest_age_ms.load(Ordering::Relaxed) as f64 / 1000.0, &[])
                })
                .build();
            backlog
        })
        .clone()
}

/// How often the worker measures the backlog for the gauges.
const MEASURE: Duration = Duration::from_secs(10);

/// Runs the worker until `stop` turns true. A round in progress finishes
/// first (its spans end and are exported); await the handle, with a bound,
/// before the process exits.
pub fn spawn(
    db: Db,
    peer: Arc<dyn Deliver>,
    outbox: Outbox,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let backlog = observe_backlog();
    tokio::spawn(async move {
        let mut measured: Option<std::time::Instant> = None;
        loop {
            // Three counts, so not on every round of a busy worker.
            if measured.is_none_or(|t| t.elapsed() >= MEASURE)
                && let Ok(s) = status(&db).await
            {
                measured = Some(std::time::Instant::now());
                use std::sync::atomic::Ordering;
                backlog
                    .pending
                    .store(s.pending.max(0) as u64, Ordering::Relaxed);
                backlog.oldest_age_ms.store(
                    (s.oldest_pending_age_seconds * 1000.0) as u64,
                    Ordering::Relaxed,
                );
            }
            let woken = outbox.notify.notified();
            let tried = match round(&db, peer.as_ref()).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox round failed");
                    0
                }
            };
            if tried as i64 == ROUND {
                continue;
            }
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    })
}

/// How long a stopping service waits for the worker's round in progress.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Stops the worker: signals it, and waits (at most [`STOP_GRACE`]) for the
/// round in progress, so nothing it does is cut off half-way.
pub async fn stop(stop: &watch::Sender<bool>, worker: tokio::task::JoinHandle<()>) {
    let _ = stop.send(true);
    if tokio::time::timeout(STOP_GRACE, worker).await.is_err() {
        tracing::warn!(
            "the outbox worker did not finish its round in time; what it was delivering is retried on the next start"
        );
    }
}

/// The backlog: pending, delivered, and the oldest pending effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub pending: i64,
    pub delivered: i64,
    pub oldest_pending_age_seconds: f64,
    pub oldest_last_error: String,
}

/// The backlog, for the ministry and services (operators); others are
/// refused.
pub async fn status_for(db: &Db, caller: &crate::auth::Caller) -> Result<Status, ApiError> {
    match caller.role {
        ce_proto::common::Role::Ministry | ce_proto::common::Role::Service => status(db).await,
        _ => Err(crate::scope::deny("reading the outbox")),
    }
}

/// Pending effects of each of these causes (absent: none).
pub fn pending_counts(
    conn: &mut DbConnection,
    causes: &[String],
) -> Result<std::collections::HashMap<String, i64>, DbError> {
    use diesel::dsl::count_star;
    Ok(outbox::table
        .filter(outbox::cause.eq_any(causes))
        .filter(outbox::delivered_micros.is_null())
        .group_by(outbox::cause)
        .select((outbox::cause, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

pub async fn status(db: &Db) -> Result<Status, ApiError> {
    let (pending, delivered, oldest) = db
        .read(|conn| -> Result<_, ApiError> {
            let pending = outbox::table
                .filter(outbox::delivered_micros.is_null())
                .count()
                .get_result(conn)
                .map_err(DbError::from)?;
            let delivered = outbox::table
                .filter(outbox::delivered_micros.is_not_null())
                .count()
                .get_result(conn)
                .map_err(DbError::from)?;
            let oldest: Option<Effect> = outbox::table
                .filter(outbox::delivered_micros.is_null())
                .order(outbox::id.asc())
                .select(Effect::as_select())
                .first(conn)
                .optional()
                .map_err(DbError::from)?;
            Ok((pending, delivered, oldest))
        })
        .await?;
    let now = now_micros();
    Ok(Status {
        pending,
        delivered,
        oldest_pending_age_seconds: oldest
            .as_ref()
            .map_or(0.0, |o| (now - o.create_micros).max(0) as f64 / 1e6),
        oldest_last_error: oldest.and_then(|o| o.last_error).unwrap_or_default(),
    })
}
