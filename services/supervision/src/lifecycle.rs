//! The rest of a violation's life: appeals, the audit trail, and
//! escalation when a rectification deadline passes unmet (Art. 26).
//! Quality monitoring's results are [`crate::quality`]'s.

use ce_db::Db;
use ce_db::audit::{self, AuditEntry};
use ce_proto::supervision::{
    Appeal, ClosureKind, ListViolationAuditEntriesResponse, Violation, ViolationState,
};
use ce_rules::article::ART_26;
use ce_rules::sanction;
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, dates, names};
use prost::Message;

use crate::convert;
use crate::scope;
use crate::store::{self, ViolationRow};
use crate::violations::{Supervision, VIOLATIONS, accepts_answer};

impl Supervision {
    pub async fn appeal(&self, call: &Call, name: &str, text: &str) -> Result<Violation, ApiError> {
        let text = text.trim().to_owned();
        if text.is_empty() || text.len() > 4000 {
            return Err(ApiError::invalid(
                "text",
                "is required: the appeal, in at most 4000 characters",
            ));
        }
        let id = names::parse("name", VIOLATIONS, name)?.to_owned();
        let call = call.clone();
        let name = name.to_owned();
        let deployment = self.deployment.clone();
        let row = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                store::lock_violation(conn, &id)?;
                let mut row =
                    store::get_violation(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
                scope::may_appeal(&call.caller, &row)?;
                accepts_answer(&deployment, &call.caller, &row.province, &name)?;
                let mut violation = convert::violation(&row)?;
                let now = now_micros();
                violation.appeals.push(Appeal {
                    text,
                    filed_by: call.caller.subject.clone(),
                    file_time: Some(dates::timestamp(now)),
                });
                violation.update_time = Some(dates::timestamp(now));
                row.body = violation.encode_to_vec();
                row.update_micros = now;
                store::update_violation(conn, &row)?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                Ok(row)
            })
            .await?;
        self.with_pending(&row).await
    }

    pub async fn audit_trail(
        &self,
        call: &Call,
        name: &str,
    ) -> Result<ListViolationAuditEntriesResponse, ApiError> {
        // Whoever may read the violation and is a department or service.
        scope::may_read_audit(&call.caller)?;
        self.get(call, name).await?;
        let resource = name.to_owned();
        let rows = self
            .db
            .read(move |conn| Ok::<_, ApiError>(audit::for_resource(conn, &resource)?))
            .await?;
        let entries: Vec<_> = rows.into_iter().map(convert::audit_entry).collect();
        // The whole trail or nothing: the answer has no page token.
        ce_server::paging::whole("name", &entries, 0, call.max_message_bytes)?;
        Ok(ListViolationAuditEntriesResponse { entries })
    }
}

/// Whether `row` is a decided rectification order overdue on `today`
/// ([`sanction::overdue`]).
fn is_overdue(row: &ViolationRow, today: time::Date) -> bool {
    row.state() == ViolationState::Decided
        && row
            .deadline
            .as_deref()
            .and_then(|d| dates::parse(d).ok())
            .is_some_and(|deadline| sanction::overdue(deadline, today))
}

/// Closes an overdue order as escalated, in the caller's transaction.
fn escalate(conn: &mut ce_db::DbConnection, mut row: ViolationRow) -> Result<(), ApiError> {
    let mut violation = convert::violation(&row)?;
    let now = now_micros();
    let deadline = row.deadline.take().unwrap_or_default();
    violation.state = ViolationState::Closed as i32;
    violation.closure = ClosureKind::Escalated as i32;
    violation.closure_reason = format!(
        "the rectification deadline {deadline} passed unmet ({ART_26}): escalated for a harder decision"
    );
    violation.update_time = Some(dates::timestamp(now));
    row.state = violation.state;
    row.body = violation.encode_to_vec();
    row.update_micros = now;
    store::update_violation(conn, &row)?;
    audit::append(
        conn,
        &AuditEntry {
            at_micros: now,
            actor: "supervision".into(),
            role: "service".into(),
            province: Some(row.province.clone()),
            rpc: "EscalateOverdue".into(),
            resource: names::name(VIOLATIONS, &row.id),
            request_id: String::new(),
            outcome: "OK".into(),
        },
    )?;
    Ok(())
}

/// Closes, as escalated, every decided rectification order whose deadline
/// passed unmet (Art. 26). Run by the outbox worker; returns how many.
/// Safe with several replicas: each order is escalated by one of them.
pub async fn escalate_overdue(db: &Db, today: time::Date) -> Result<usize, ApiError> {
    let day = dates::format(today);
    let probe = day.clone();
    let any = db
        .read(move |conn| Ok::<_, ApiError>(!store::overdue(conn, &probe)?.is_empty()))
        .await?;
    if !any {
        return Ok(0);
    }
    db.write(move |conn| -> Result<_, ApiError> {
        let mut escalated = 0;
        for candidate in store::overdue(conn, &day)? {
            // Another replica may be escalating the same order: lock it and
            // read it again, so it is escalated (and audited) once.
            store::lock_violation(conn, &candidate.id)?;
            let Some(row) = store::get_violation(conn, &candidate.id)? else {
                continue;
            };
            if !is_overdue(&row, today) {
                continue;
            }
            escalate(conn, row)?;
            escalated += 1;
        }
        Ok(escalated)
    })
    .await
}

/// Runs [`escalate_overdue`] once a second, for the clock's today, until
/// `stop` turns true.
pub fn spawn_escalation(db: Db, clock: dates::Clock, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = escalate_overdue(&db, clock.today()).await {
                tracing::warn!(error = %e, "escalating overdue rectification orders failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    });
}
