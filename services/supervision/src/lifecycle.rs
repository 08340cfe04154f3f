//! The rest of a violation's life: quality monitoring's poor results
//! coming in (Art. 25), appeals, the audit trail, and escalation when a
//! rectification deadline passes unmet.

use ce_db::Db;
use ce_db::audit::{self, AuditEntry};
use ce_proto::common::Role;
use ce_proto::supervision::{
    Appeal, AuditEntry as PAuditEntry, ClosureKind, ListViolationAuditEntriesResponse,
    ReportQualityResultRequest, Violation, ViolationCategory, ViolationState,
};
use ce_server::call::now_micros;
use ce_server::scope::deny;
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::store;
use crate::violations::{Subject, Supervision, VIOLATIONS};

/// The idempotency namespace of quality reports: one violation per
/// institution and period, whoever reports it.
const QUALITY_INTAKE: &str = "quality-monitoring";

impl Supervision {
    pub async fn report_quality(
        &self,
        call: &Call,
        req: ReportQualityResultRequest,
    ) -> Result<Violation, ApiError> {
        let mut v = Violations::new();
        let period = req.period.trim().to_owned();
        if period.is_empty() || period.len() > 32 {
            v.add(
                "period",
                "is required: the monitoring period, at most 32 characters",
            );
        }
        if req.grade.trim().is_empty() || req.grade.len() > 16 {
            v.add(
                "grade",
                "is required: the grade published, at most 16 characters",
            );
        }
        if req.finding.len() > 1000 || req.model_version.len() > 64 {
            v.add(
                "finding",
                "at most 1000 characters (model_version at most 64)",
            );
        }
        v.finish()?;
        let institution = self
            .clients
            .institution("institution", &req.institution)
            .await?;
        let allowed = match call.caller.role {
            Role::Ministry | Role::Service => true,
            Role::ProvincialHrss => call.caller.province.as_deref() == Some(&institution.province),
            _ => false,
        };
        if !allowed {
            return Err(deny("reporting quality results"));
        }
        let finding = if req.finding.trim().is_empty() {
            format!("grade {}", req.grade.trim())
        } else {
            req.finding.trim().to_owned()
        };
        let violation = Violation {
            institution: req.institution.clone(),
            category: ViolationCategory::PoorQuality as i32,
            description: format!(
                "Quality monitoring (Art. 25) for {period}: {finding}; score {:.1} under model {}",
                req.score,
                if req.model_version.is_empty() {
                    "-"
                } else {
                    req.model_version.trim()
                },
            ),
            evidence: vec![format!("quality-monitoring:{}:{period}", req.institution)],
            ..Default::default()
        };
        self.insert_new(
            call,
            violation,
            Subject {
                province: institution.province,
                fields: institution.fields,
                employer: String::new(),
            },
            QUALITY_INTAKE.into(),
            format!("{}|{period}", req.institution),
            true,
        )
        .await
    }

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
        let row =
            self.db
                .write(move |conn| -> Result<_, ApiError> {
                    ce_db::lock_row(conn, "violations", &id)?;
                    let mut row =
                        store::get_violation(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
                    let c = &call.caller;
                    let own = match c.role {
                        Role::Institution => row.institution_id.as_deref().is_some_and(|i| {
                            c.org.as_deref() == Some(&format!("institutions/{i}"))
                        }),
                        Role::Engineer => row
                            .engineer_id
                            .as_deref()
                            .is_some_and(|e| c.subject == format!("engineers/{e}")),
                        Role::Employer => row
                            .employer_id
                            .as_deref()
                            .is_some_and(|e| c.org.as_deref() == Some(&format!("employers/{e}"))),
                        _ => false,
                    };
                    if !own {
                        return Err(deny("appealing a violation that is not about you"));
                    }
                    let mut violation = Violation::decode(row.body.as_slice())
                        .map_err(|e| ApiError::Internal(e.to_string()))?;
                    let now = now_micros();
                    violation.appeals.push(Appeal {
                        text,
                        filed_by: c.subject.clone(),
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
        if !matches!(
            call.caller.role,
            Role::Ministry | Role::Service | Role::ProvincialHrss | Role::IndustryRegulator
        ) {
            return Err(deny("reading the audit trail"));
        }
        self.get(call, name).await?;
        let resource = name.to_owned();
        let rows = self
            .db
            .read(move |conn| Ok::<_, ApiError>(audit::for_resource(conn, &resource)?))
            .await?;
        Ok(ListViolationAuditEntriesResponse {
            entries: rows
                .into_iter()
                .map(|a| PAuditEntry {
                    time: Some(dates::timestamp(a.at_micros)),
                    actor: a.actor,
                    role: a.role,
                    rpc: a.rpc,
                    outcome: a.outcome,
                    request_id: a.request_id,
                })
                .collect(),
        })
    }
}

/// Closes, as escalated, every decided rectification order whose deadline
/// passed unmet (Art. 26). Run by the outbox worker; returns how many.
/// Safe with several replicas: each order is escalated by one of them.
pub async fn escalate_overdue(db: &Db) -> Result<usize, ApiError> {
    let today = dates::format(dates::today());
    let probe = today.clone();
    let any = db
        .read(move |conn| Ok::<_, ApiError>(!store::overdue(conn, &probe)?.is_empty()))
        .await?;
    if !any {
        return Ok(0);
    }
    db.write(move |conn| -> Result<_, ApiError> {
        let mut escalated = 0;
        for candidate in store::overdue(conn, &today)? {
            // Another replica may be escalating the same order: lock it and
            // read it again, so it is escalated (and audited) once.
            ce_db::lock_row(conn, "violations", &candidate.id)?;
            let Some(mut row) = store::get_violation(conn, &candidate.id)? else {
                continue;
            };
            if row.state != ViolationState::Decided as i32
                || row.deadline.as_deref().is_none_or(|d| d >= today.as_str())
            {
                continue;
            }
            let mut violation = Violation::decode(row.body.as_slice())
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let now = now_micros();
            let deadline = row.deadline.take().unwrap_or_default();
            violation.state = ViolationState::Closed as i32;
            violation.closure = ClosureKind::Escalated as i32;
            violation.closure_reason = format!(
                "the rectification deadline {deadline} passed unmet (Art. 26): escalated for a harder decision"
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
            escalated += 1;
        }
        Ok(escalated)
    })
    .await
}

/// Runs [`escalate_overdue`] once a second until `stop` turns true.
pub fn spawn_escalation(db: Db, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = escalate_overdue(&db).await {
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
