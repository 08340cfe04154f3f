//! `ce.audit.v1.AuditService`, which every service serves over its own
//! audit log, and the background task that seals that log
//! (docs/audit.md; the seals themselves are `ce_db::seal`).
//!
//! Only the ministry, as auditor, may verify; every other caller, other
//! services included, is refused with PERMISSION_DENIED.

use std::time::Duration;

use ce_db::seal::{self, Anchor, BreakKind};
use ce_proto::audit::audit_break::Kind;
use ce_proto::audit::audit_service_server::{AuditService, AuditServiceServer};
use ce_proto::audit::{AuditBreak, AuditSeal, VerifyAuditLogRequest, VerifyAuditLogResponse};
use ce_proto::common::Role;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::call::{Call, reply};
use crate::error::ApiError;

/// The gRPC service's full name, for health and reflection.
pub const NAME: &str = "ce.audit.v1.AuditService";

/// The audit API over one service's database.
#[derive(Debug, Clone)]
pub struct AuditApi {
    db: ce_db::Db,
}

/// The server to add to a service's routes.
pub fn server(db: ce_db::Db) -> AuditServiceServer<AuditApi> {
    AuditServiceServer::new(AuditApi { db })
}

/// Seals the audit log every `every` (`server.audit_seal_interval_secs`) until `stop` turns
/// true. The first round runs one interval after start.
pub fn spawn_sealer(db: ce_db::Db, every: Duration, stop: watch::Receiver<bool>) {
    tokio::spawn(run_sealer(db, every, stop));
}

/// The sealer's loop: seals every `every` until `stop` turns true.
pub async fn run_sealer(db: ce_db::Db, every: Duration, mut stop: watch::Receiver<bool>) {
    // The last seal this service saw: if it later changes or disappears,
    // someone rewrote or cut back the chain, which verification alone
    // cannot see without an anchor (docs/audit.md).
    let mut seen: Option<(i64, String)> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match seal::seal_pending(&db).await {
            Ok(made) if !made.is_empty() => tracing::debug!(
                seals = made.len(),
                rows = made.iter().map(|s| s.row_count).sum::<i64>(),
                "audit log sealed"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not seal the audit log; trying again later");
                continue;
            }
        }
        let previous = seen.clone();
        let checked = db
            .read(move |conn| {
                let still = match &previous {
                    Some((id, _)) => seal::hash_of(conn, *id)?,
                    None => None,
                };
                Ok::<_, ce_db::DbError>((still, seal::head(conn)?))
            })
            .await;
        match checked {
            Ok((still, head)) => {
                if let Some((id, hash)) = &seen
                    && still.as_ref() != Some(hash)
                {
                    tracing::error!(
                        seal = id,
                        "audit seal {id} changed or disappeared since this service sealed or saw \
                         it: the audit log's seals were tampered with; run `cectl audit verify`"
                    );
                }
                seen = head;
            }
            Err(e) => tracing::warn!(error = %e, "could not read the audit log's last seal"),
        }
    }
}

fn kind(k: BreakKind) -> Kind {
    match k {
        BreakKind::RowAltered => Kind::RowAltered,
        BreakKind::RowMissing => Kind::RowMissing,
        BreakKind::RowOutsideSeals => Kind::RowOutsideSeals,
        BreakKind::SealAltered => Kind::SealAltered,
        BreakKind::SealUnlinked => Kind::SealUnlinked,
        BreakKind::SealMissing => Kind::SealMissing,
        BreakKind::AnchorMismatch => Kind::AnchorMismatch,
    }
}

fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

impl AuditApi {
    async fn verify(
        &self,
        call: &Call,
        req: VerifyAuditLogRequest,
    ) -> Result<VerifyAuditLogResponse, ApiError> {
        if call.caller.role != Role::Ministry {
            return Err(ApiError::denied(
                crate::reason::Reason::RoleNotPermitted,
                "",
                "only the ministry, as auditor, verifies the audit log",
            ));
        }
        let anchor = match (req.anchor_seal, req.anchor_hash.trim()) {
            (0, "") => None,
            (n, h) if n > 0 && h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(Anchor {
                    seal: n,
                    hash: h.to_ascii_lowercase(),
                })
            }
            (n, _) if n <= 0 => {
                return Err(ApiError::invalid(
                    "anchor_seal",
                    "a seal number (1 or more), given with anchor_hash",
                ));
            }
            _ => {
                return Err(ApiError::invalid(
                    "anchor_hash",
                    "the recorded seal's hash: 64 hexadecimal digits",
                ));
            }
        };
        if req.seal_first {
            seal::seal_pending(&self.db).await?;
        }
        let v = self
            .db
            .read(move |conn| seal::verify(conn, anchor.as_ref()))
            .await?;
        Ok(VerifyAuditLogResponse {
            intact: v.intact(),
            first_break: v.first_break.map(|b| AuditBreak {
                kind: kind(b.kind) as i32,
                row_id: b.row_id.unwrap_or(0),
                seal_number: b.seal,
                description: b.description,
            }),
            break_count: v.break_count,
            seal_count: v.seal_count,
            sealed_row_count: v.sealed_rows,
            unsealed_row_count: v.unsealed_rows,
            last_seal: v.last_seal.map(|h| AuditSeal {
                number: h.id,
                hash: h.hash,
                seal_time: Some(timestamp(h.sealed_at_micros)),
                row_count: h.row_count,
                through_row_id: h.through_id,
            }),
        })
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn verify_audit_log(
        &self,
        request: Request<VerifyAuditLogRequest>,
    ) -> Result<Response<VerifyAuditLogResponse>, Status> {
        let call = Call::from_request(&request)?;
        reply(self.verify(&call, request.into_inner()).await)
    }
}
