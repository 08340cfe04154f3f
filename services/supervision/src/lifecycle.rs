//! The rest of a violation's life: quality monitoring's poor results
//! coming in (Art. 25), appeals, the audit trail, and escalation when a
//! rectification deadline passes unmet.

use ce_db::Db;
use ce_db::audit::{self, AuditEntry};
use ce_proto::common::Role;
use ce_proto::supervision::{
    Appeal, AuditEntry as PAuditEntry, ClosureKind, ListViolationAuditEntriesResponse,
    Notification, QualityResult, ReportQualityResultRequest, Violation, ViolationCategory,
    ViolationState, WithdrawQualityResultRequest,
};
use ce_rules::article::{ART_25, ART_26, cite};
use ce_server::call::now_micros;
use ce_server::scope::deny;
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::store::{self, ViolationRow};
use crate::violations::{NOTIFICATIONS, Subject, Supervision, VIOLATIONS, decode, new_row};

/// The idempotency namespace of quality reports: one violation per
/// institution and period, whoever reports it.
const QUALITY_INTAKE: &str = "quality-monitoring";

/// Poor quality-monitoring results (Art. 25) sanctioned under Art. 26.
fn poor_quality_articles() -> String {
    cite(&[ART_25, ART_26])
}

#[allow(clippy::too_many_arguments)]
fn reported(
    institution: &str,
    period: String,
    grade: &str,
    score: f64,
    model_version: &str,
    poor: bool,
    compute_micros: Option<i64>,
    finding: &str,
) -> Reported {
    let compute_micros = compute_micros.unwrap_or_else(now_micros);
    let grade = grade.trim().to_owned();
    let finding = if finding.trim().is_empty() {
        format!("grade {grade}")
    } else {
        finding.trim().to_owned()
    };
    let id = institution
        .strip_prefix("institutions/")
        .unwrap_or(institution);
    Reported {
        result: QualityResult {
            score_name: format!("institutions/{id}/scores/{period}"),
            period,
            grade,
            score,
            model_version: model_version.trim().to_owned(),
            poor,
            compute_time: Some(dates::timestamp(compute_micros)),
        },
        finding,
        compute_micros,
    }
}

/// Tells the department that decided `row` that the result it rests on
/// changed; once for each new result. The decision itself stands.
fn notify_decider(
    conn: &mut ce_db::DbConnection,
    row: &ViolationRow,
    violation: &Violation,
    reported: &Reported,
    now: i64,
) -> Result<(), ApiError> {
    let department = violation
        .decision
        .as_ref()
        .map(|d| d.decided_by.clone())
        .unwrap_or_default();
    let text = format!(
        "The quality result that {} rests on changed after it was decided: the final result of {} for {} is now {}{}. \
         The decision stands unless you review it ({}).",
        violation.name,
        violation.institution,
        reported.result.period,
        reported.figures(),
        if reported.result.poor {
            ", still poor"
        } else {
            ", no longer poor"
        },
        poor_quality_articles(),
    );
    let sent = store::notifications_of_violation(conn, &row.id)?;
    if sent
        .iter()
        .filter(|n| n.department.is_some())
        .filter_map(|n| Notification::decode(n.body.as_slice()).ok())
        .any(|n| n.text == text)
    {
        return Ok(());
    }
    let id = names::new_id();
    let note = Notification {
        name: names::name(NOTIFICATIONS, &id),
        employer: String::new(),
        violation: violation.name.clone(),
        engineer: String::new(),
        text,
        province: row.province.clone(),
        create_time: Some(dates::timestamp(now)),
        department: department.clone(),
        ..Default::default()
    };
    store::insert_notification(
        conn,
        &store::NotificationRow {
            id,
            employer_id: String::new(),
            violation_id: row.id.clone(),
            province: row.province.clone(),
            body: note.encode_to_vec(),
            create_micros: now,
            acknowledge_micros: None,
            department: Some(department),
        },
    )?;
    Ok(())
}

/// A final quality result as quality monitoring reports it.
#[derive(Clone)]
struct Reported {
    result: QualityResult,
    finding: String,
    compute_micros: i64,
}

impl Reported {
    fn figures(&self) -> String {
        let r = &self.result;
        if r.grade.is_empty() {
            return "no grade (too little evidence for a score)".into();
        }
        format!(
            "grade {}, score {:.2} under model {}",
            r.grade,
            r.score,
            if r.model_version.is_empty() {
                "-"
            } else {
                &r.model_version
            }
        )
    }

    fn description(&self) -> String {
        format!(
            "Quality monitoring ({}) for {}: {}; final {}",
            ce_rules::article::ART_25,
            self.result.period,
            self.finding,
            self.figures()
        )
    }
}

/// The same figures: grade, score, model and whether poor.
fn same_figures(a: Option<&QualityResult>, b: &QualityResult) -> bool {
    a.is_some_and(|a| {
        a.grade == b.grade
            && a.score == b.score
            && a.model_version == b.model_version
            && a.poor == b.poor
    })
}

impl Supervision {
    /// Checks a report's fields and its caller, and gives the institution
    /// it is about.
    async fn quality_intake(
        &self,
        call: &Call,
        institution: &str,
        period: &str,
        grade: &str,
        model_version: &str,
        poor: bool,
    ) -> Result<Subject, ApiError> {
        let mut v = Violations::new();
        if period.is_empty() || period.len() > 32 {
            v.add(
                "period",
                "is required: the monitoring period, at most 32 characters",
            );
        }
        // A withdrawal may carry no grade: the period ended with too little
        // evidence for one.
        if grade.len() > 16 || (poor && grade.trim().is_empty()) {
            v.add(
                "grade",
                "is required: the grade published, at most 16 characters",
            );
        }
        if model_version.len() > 64 {
            v.add("model_version", "at most 64 characters");
        }
        v.finish()?;
        let institution = self.clients.institution("institution", institution).await?;
        let allowed = match call.caller.role {
            Role::Ministry | Role::Service => true,
            Role::ProvincialHrss => call.caller.province.as_deref() == Some(&institution.province),
            _ => false,
        };
        if !allowed {
            return Err(deny("reporting quality results"));
        }
        Ok(Subject {
            province: institution.province,
            fields: institution.fields,
            employer: String::new(),
        })
    }

    pub async fn report_quality(
        &self,
        call: &Call,
        req: ReportQualityResultRequest,
    ) -> Result<Violation, ApiError> {
        let period = req.period.trim().to_owned();
        if req.finding.len() > 1000 {
            return Err(ApiError::invalid("finding", "at most 1000 characters"));
        }
        let subject = self
            .quality_intake(
                call,
                &req.institution,
                &period,
                &req.grade,
                &req.model_version,
                true,
            )
            .await?;
        let reported = reported(
            &req.institution,
            period,
            &req.grade,
            req.score,
            &req.model_version,
            true,
            req.compute_time
                .as_ref()
                .map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000),
            &req.finding,
        );
        self.apply_quality(call, &req.institution, subject, reported)
            .await?
            .ok_or_else(|| ApiError::Internal("a poor result raised no violation".into()))
    }

    pub async fn withdraw_quality(
        &self,
        call: &Call,
        req: WithdrawQualityResultRequest,
    ) -> Result<Violation, ApiError> {
        let period = req.period.trim().to_owned();
        let subject = self
            .quality_intake(
                call,
                &req.institution,
                &period,
                &req.grade,
                &req.model_version,
                false,
            )
            .await?;
        let reported = reported(
            &req.institution,
            period.clone(),
            &req.grade,
            req.score,
            &req.model_version,
            false,
            req.compute_time
                .as_ref()
                .map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000),
            "",
        );
        self.apply_quality(call, &req.institution, subject, reported)
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no poor-quality violation was raised for {} in {period}",
                    req.institution
                ))
            })
    }

    /// Applies a final quality result, poor or not, in one transaction: the
    /// first poor one raises the violation; later ones update an open
    /// violation (or withdraw it, when no longer poor); a decided one stays
    /// as it is and its decider is notified. One older than the result last
    /// applied changes nothing. Answers the violation, if there is one.
    async fn apply_quality(
        &self,
        call: &Call,
        institution: &str,
        subject: Subject,
        reported: Reported,
    ) -> Result<Option<Violation>, ApiError> {
        // Two first reports at once on PostgreSQL: both found nothing, and
        // the other's insert committed first (the keys are unique). Once
        // more finds what it stored.
        let mut attempt = 0;
        loop {
            let applied = self
                .apply_quality_once(call, institution, subject.clone(), &reported)
                .await;
            match applied {
                Err(ApiError::AlreadyExists(_)) if attempt < 2 => attempt += 1,
                other => return other,
            }
        }
    }

    async fn apply_quality_once(
        &self,
        call: &Call,
        institution: &str,
        subject: Subject,
        reported: &Reported,
    ) -> Result<Option<Violation>, ApiError> {
        let reported = reported.clone();
        let key = format!("{institution}|{}", reported.result.period);
        let call = call.clone();
        let institution = institution.to_owned();
        let row = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                ce_db::lock_row(conn, "quality_results", &key)?;
                let last = store::get_quality_result(conn, &key)?;
                let raised = match last.as_ref().and_then(|l| l.violation_id.clone()) {
                    Some(id) => store::get_violation(conn, &id)?,
                    // Violations raised before results were kept.
                    None => store::violation_by_request(conn, QUALITY_INTAKE, &key)?,
                };
                if last
                    .as_ref()
                    .is_some_and(|l| l.compute_micros > reported.compute_micros)
                {
                    return Ok(raised);
                }
                let now = now_micros();
                let state = raised.as_ref().map(|r| r.state);
                let withdrawn = state == Some(ViolationState::Withdrawn as i32);
                let poor = reported.result.poor;
                let row = match raised {
                    None if !poor => None,
                    Some(r) if !poor && withdrawn => Some(r),
                    r if poor && (r.is_none() || withdrawn) => {
                        // Raised again after a withdrawal: a new violation.
                        let request_key = match &r {
                            None => key.clone(),
                            Some(_) => format!("{key}|{}", reported.compute_micros),
                        };
                        let violation = Violation {
                            institution: institution.clone(),
                            category: ViolationCategory::PoorQuality as i32,
                            description: reported.description(),
                            evidence: vec![format!(
                                "quality-monitoring:{institution}:{}",
                                reported.result.period
                            )],
                            quality_result: Some(reported.result.clone()),
                            ..Default::default()
                        };
                        let row = new_row(
                            &call,
                            violation,
                            subject,
                            QUALITY_INTAKE.into(),
                            request_key,
                        );
                        store::insert_violation(conn, &row)?;
                        audit::append(conn, &call.audit(&names::name(VIOLATIONS, &row.id), "OK"))?;
                        Some(row)
                    }
                    None => None,
                    Some(mut row) => {
                        let mut violation = decode(&row)?;
                        if !same_figures(violation.quality_result.as_ref(), &reported.result) {
                            if row.state == ViolationState::Open as i32 {
                                if poor {
                                    violation.description = reported.description();
                                } else {
                                    violation.state = ViolationState::Withdrawn as i32;
                                    violation.withdrawal_reason = format!(
                                        "the final quality result for {} is {}: no longer poor ({})",
                                        reported.result.period,
                                        reported.figures(),
                                        poor_quality_articles()
                                    );
                                    violation.withdraw_time = Some(dates::timestamp(now));
                                }
                                violation.quality_result = Some(reported.result.clone());
                                violation.update_time = Some(dates::timestamp(now));
                                row.state = violation.state;
                                row.body = violation.encode_to_vec();
                                row.update_micros = now;
                                store::update_violation(conn, &row)?;
                                audit::append(
                                    conn,
                                    &call.audit(&names::name(VIOLATIONS, &row.id), "OK"),
                                )?;
                            } else {
                                notify_decider(conn, &row, &violation, &reported, now)?;
                            }
                        }
                        Some(row)
                    }
                };
                store::put_quality_result(
                    conn,
                    &store::QualityResultRow {
                        id: key,
                        violation_id: row.as_ref().map(|r| r.id.clone()),
                        poor: i32::from(reported.result.poor),
                        compute_micros: reported.compute_micros,
                    },
                )?;
                Ok(row)
            })
            .await?;
        match row {
            Some(row) => self.with_pending(&row).await.map(Some),
            None => Ok(None),
        }
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
        let entries: Vec<PAuditEntry> = rows
            .into_iter()
            .map(|a| PAuditEntry {
                time: Some(dates::timestamp(a.at_micros)),
                actor: a.actor,
                role: a.role,
                rpc: a.rpc,
                outcome: a.outcome,
                request_id: a.request_id,
            })
            .collect();
        // The whole trail or nothing: the answer has no page token.
        ce_server::paging::whole("name", &entries, 0, call.max_message_bytes)?;
        Ok(ListViolationAuditEntriesResponse { entries })
    }
}

/// Closes, as escalated, every decided rectification order whose deadline
/// passed unmet (Art. 26). Run by the outbox worker; returns how many.
/// Safe with several replicas: each order is escalated by one of them.
pub async fn escalate_overdue(db: &Db, today: time::Date) -> Result<usize, ApiError> {
    let today = dates::format(today);
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
            escalated += 1;
        }
        Ok(escalated)
    })
    .await
}

/// Runs [`escalate_overdue`] once a second until `stop` turns true.
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
