//! The outbox: effects of decisions on other services, stored in the
//! decision's transaction and delivered by a background worker with
//! retries and backoff until the peer acknowledges. Each effect's id is the
//! idempotency key its peer sees (the registry's `request_id`; revoking a
//! revoked record changes nothing in crediting), so a delivery repeated
//! after a crash or a lost answer has no second effect.

use std::sync::Arc;
use std::time::Duration;

use ce_db::Db;
use ce_proto::crediting::RevokeHourRecordsRequest;
use ce_proto::registry::ChangeInstitutionStandingRequest;
use ce_proto::supervision::OutboxStatus;
use ce_server::ApiError;
use ce_server::call::now_micros;
use prost::Message;
use tokio::sync::{Notify, watch};

use crate::peers::Clients;
use crate::store::{self, OutboxRow};

pub const CHANGE_STANDING: &str = "registry.ChangeInstitutionStanding";
pub const REVOKE_HOURS: &str = "crediting.RevokeHourRecords";

/// Effects taken per round.
const ROUND: i64 = 20;
/// How long a worker holds an effect it is delivering.
const LEASE: Duration = Duration::from_secs(30);
/// How often the worker looks for due effects without being woken.
const POLL: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Wakes the worker when a decision stores effects.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    notify: Arc<Notify>,
}

impl Outbox {
    pub fn wake(&self) {
        self.notify.notify_one();
    }
}

/// An effect for the decision's transaction.
pub fn effect(id: String, violation: &str, method: &str, payload: Vec<u8>) -> OutboxRow {
    let now = now_micros();
    OutboxRow {
        id,
        violation_id: violation.to_owned(),
        method: method.to_owned(),
        payload,
        attempts: 0,
        next_attempt_micros: now,
        last_error: None,
        create_micros: now,
        delivered_micros: None,
    }
}

fn backoff(attempts: i32) -> Duration {
    let secs = 1u64 << attempts.clamp(0, 16);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

async fn deliver(clients: &Clients, row: &OutboxRow) -> Result<(), String> {
    let status = match row.method.as_str() {
        CHANGE_STANDING => {
            let req = ChangeInstitutionStandingRequest::decode(row.payload.as_slice())
                .map_err(|e| e.to_string())?;
            clients
                .registry
                .clone()
                .change_institution_standing(req)
                .await
                .map(|_| ())
        }
        REVOKE_HOURS => {
            let req = RevokeHourRecordsRequest::decode(row.payload.as_slice())
                .map_err(|e| e.to_string())?;
            clients
                .crediting
                .clone()
                .revoke_hour_records(req)
                .await
                .map(|_| ())
        }
        other => return Err(format!("unknown effect {other}")),
    };
    status.map_err(|s| format!("{:?}: {}", s.code(), s.message()))
}

/// Delivers the effects due now; returns how many it tried.
pub async fn round(db: &Db, clients: &Clients) -> Result<usize, ApiError> {
    let now = now_micros();
    let until = now + LEASE.as_micros() as i64;
    let due = db
        .write(move |conn| -> Result<_, ApiError> {
            let due = store::due_effects(conn, now, ROUND)?;
            for r in &due {
                store::lease(conn, &r.id, until)?;
            }
            Ok(due)
        })
        .await?;
    for row in &due {
        let outcome = deliver(clients, row).await;
        if let Err(e) = &outcome {
            tracing::warn!(effect = %row.id, method = %row.method, attempts = row.attempts + 1, error = %e, "effect not delivered; will retry");
        }
        let (id, attempts) = (row.id.clone(), row.attempts);
        db.write(move |conn| -> Result<_, ApiError> {
            match &outcome {
                Ok(()) => store::delivered(conn, &id, now_micros())?,
                Err(e) => {
                    let next = now_micros() + backoff(attempts).as_micros() as i64;
                    store::failed(conn, &id, e, next)?;
                }
            }
            Ok(())
        })
        .await?;
    }
    Ok(due.len())
}

/// Runs the worker until `stop` turns true.
pub fn spawn(db: Db, clients: Clients, outbox: Outbox, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            let woken = outbox.notify.notified();
            if let Err(e) = crate::lifecycle::escalate_overdue(&db).await {
                tracing::warn!(error = %e, "escalating overdue rectification orders failed");
            }
            let tried = match round(&db, &clients).await {
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
    });
}

pub async fn status(db: &Db) -> Result<OutboxStatus, ApiError> {
    let (pending, delivered, oldest) = db
        .read(|conn| Ok::<_, ApiError>(store::outbox_status(conn)?))
        .await?;
    let now = now_micros();
    Ok(OutboxStatus {
        pending,
        delivered,
        oldest_pending_age_seconds: oldest
            .as_ref()
            .map_or(0.0, |o| (now - o.create_micros).max(0) as f64 / 1e6),
        oldest_last_error: oldest.and_then(|o| o.last_error).unwrap_or_default(),
    })
}
