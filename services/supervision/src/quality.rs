//! Quality monitoring's final results coming in (Art. 25): a poor one
//! raises a violation sanctioned under Art. 26; later results update or
//! withdraw it while it is open, and tell its decider once it is decided
//! ([`ce_rules::sanction::on_quality_result`]).

use ce_db::{DbConnection, audit};
use ce_proto::supervision::{
    Notification, QualityResult, ReportQualityResultRequest, Violation, ViolationCategory,
    ViolationState, WithdrawQualityResultRequest,
};
use ce_rules::article::ART_25;
use ce_rules::sanction::{self, QualityAction};
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::convert;
use crate::scope;
use crate::store::{self, ViolationRow};
use crate::violations::{NOTIFICATIONS, Subject, Supervision, VIOLATIONS, new_row};

/// The idempotency namespace of quality reports: one violation per
/// institution and period, whoever reports it.
const QUALITY_INTAKE: &str = "quality-monitoring";

/// Poor quality-monitoring results (Art. 25) sanctioned under Art. 26:
/// the articles an institution's poor quality breaches.
fn poor_quality_articles() -> String {
    sanction::article(
        sanction::Category::PoorQuality,
        sanction::Party::Institution,
    )
}

/// What a report or withdrawal carries, as [`reported`] reads it.
struct Report<'a> {
    institution: &'a str,
    period: String,
    grade: &'a str,
    score: f64,
    model_version: &'a str,
    poor: bool,
    compute_micros: Option<i64>,
    finding: &'a str,
}

/// A final result as reported; computed now when the report does not say
/// when (an ordering stamp between reports, not a date a rule reads).
fn reported(r: Report<'_>) -> Reported {
    let compute_micros = r.compute_micros.unwrap_or_else(now_micros);
    let grade = r.grade.trim().to_owned();
    let finding = if r.finding.trim().is_empty() {
        format!("grade {grade}")
    } else {
        r.finding.trim().to_owned()
    };
    let id = r
        .institution
        .strip_prefix("institutions/")
        .unwrap_or(r.institution);
    Reported {
        result: QualityResult {
            score_name: format!("institutions/{id}/scores/{}", r.period),
            period: r.period,
            grade,
            score: r.score,
            model_version: r.model_version.trim().to_owned(),
            poor: r.poor,
            compute_time: Some(dates::timestamp(compute_micros)),
        },
        finding,
        compute_micros,
    }
}

/// Tells the department that decided `row` that the result it rests on
/// changed; once for each new result. The decision itself stands.
fn notify_decider(
    conn: &mut DbConnection,
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
        .filter_map(|n| convert::notification(n).ok())
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
            ART_25,
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

/// What one application of a result works on.
struct Intake<'a> {
    call: &'a Call,
    institution: &'a str,
    key: &'a str,
    reported: &'a Reported,
    now: i64,
}

impl Intake<'_> {
    /// A new poor-quality violation; `again` after a withdrawal.
    fn raise(
        &self,
        conn: &mut DbConnection,
        subject: Subject,
        again: bool,
    ) -> Result<ViolationRow, ApiError> {
        let (institution, reported) = (self.institution, self.reported);
        let request_key = if again {
            format!("{}|{}", self.key, reported.compute_micros)
        } else {
            self.key.to_owned()
        };
        let violation = Violation {
            institution: institution.to_owned(),
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
            self.call,
            violation,
            subject,
            QUALITY_INTAKE.into(),
            request_key,
        );
        store::insert_violation(conn, &row)?;
        audit::append(
            conn,
            &self.call.audit(&names::name(VIOLATIONS, &row.id), "OK"),
        )?;
        Ok(row)
    }

    /// The open violation takes the new figures, or is withdrawn when the
    /// result is no longer poor.
    fn update_open(
        &self,
        conn: &mut DbConnection,
        mut row: ViolationRow,
        mut violation: Violation,
    ) -> Result<ViolationRow, ApiError> {
        let (reported, now) = (self.reported, self.now);
        if reported.result.poor {
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
            &self.call.audit(&names::name(VIOLATIONS, &row.id), "OK"),
        )?;
        Ok(row)
    }

    /// Applies the result in the caller's transaction; answers the
    /// violation, if there is one.
    fn apply(
        &self,
        conn: &mut DbConnection,
        subject: Subject,
    ) -> Result<Option<ViolationRow>, ApiError> {
        let key = self.key;
        store::lock_quality_result(conn, key)?;
        let last = store::get_quality_result(conn, key)?;
        let raised = match last.as_ref().and_then(|l| l.violation_id.clone()) {
            Some(id) => store::get_violation(conn, &id)?,
            // Violations raised before results were kept.
            None => store::violation_by_request(conn, QUALITY_INTAKE, key)?,
        };
        if last
            .as_ref()
            .is_some_and(|l| l.compute_micros > self.reported.compute_micros)
        {
            return Ok(raised);
        }
        let case = match &raised {
            Some(r) => Some((convert::violation(r)?, convert::case_state(r.state()))),
            None => None,
        };
        let same = case
            .as_ref()
            .is_some_and(|(v, _)| same_figures(v.quality_result.as_ref(), &self.reported.result));
        let state = case.as_ref().map(|(_, s)| *s);
        let row = match (
            sanction::on_quality_result(state, self.reported.result.poor, same),
            raised,
            case,
        ) {
            (QualityAction::Raise, raised, _) => {
                Some(self.raise(conn, subject, raised.is_some())?)
            }
            (QualityAction::Update | QualityAction::Withdraw, Some(row), Some((v, _))) => {
                Some(self.update_open(conn, row, v)?)
            }
            (QualityAction::NotifyDecider, Some(row), Some((v, _))) => {
                notify_decider(conn, &row, &v, self.reported, self.now)?;
                Some(row)
            }
            (_, raised, _) => raised,
        };
        store::put_quality_result(
            conn,
            &store::QualityResultRow {
                id: key.to_owned(),
                violation_id: row.as_ref().map(|r| r.id.clone()),
                poor: i32::from(self.reported.result.poor),
                compute_micros: self.reported.compute_micros,
            },
        )?;
        Ok(row)
    }
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
        scope::may_report_quality(&call.caller, &institution.province)?;
        self.in_deployment(call, &institution.province, &institution.name)?;
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
        let reported = reported(Report {
            institution: &req.institution,
            period,
            grade: &req.grade,
            score: req.score,
            model_version: &req.model_version,
            poor: true,
            compute_micros: req
                .compute_time
                .as_ref()
                .map(|t| convert::micros(t.seconds, t.nanos)),
            finding: &req.finding,
        });
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
        let reported = reported(Report {
            institution: &req.institution,
            period: period.clone(),
            grade: &req.grade,
            score: req.score,
            model_version: &req.model_version,
            poor: false,
            compute_micros: req
                .compute_time
                .as_ref()
                .map(|t| convert::micros(t.seconds, t.nanos)),
            finding: "",
        });
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
            .write(move |conn| {
                Intake {
                    call: &call,
                    institution: &institution,
                    key: &key,
                    reported: &reported,
                    now: now_micros(),
                }
                .apply(conn, subject)
            })
            .await?;
        match row {
            Some(row) => self.with_pending(&row).await.map(Some),
            None => Ok(None),
        }
    }
}
