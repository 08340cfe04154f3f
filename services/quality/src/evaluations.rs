//! Learners' evaluations of an institution (Art. 25): only its learners
//! evaluate it, one evaluation each per period; a repeat replaces the
//! earlier answer.

use std::collections::HashSet;

use ce_proto::common::Role;
use ce_proto::crediting::RecordState;
use ce_proto::quality::{SubmitEvaluationsRequest, SubmitEvaluationsResponse};
use ce_rules::article::ART_25;
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, Violations, names};

use crate::convert;
use crate::scope::{for_caller, learner_of};
use crate::scores::Quality;
use crate::store::{self, EvaluationRow};

/// At most this many evaluations an upload.
const MOST: usize = 10_000;
/// Learners without hours named one by one at most.
const NAMED: usize = 10;

/// The answers' count and range.
fn check_answers(req: &SubmitEvaluationsRequest) -> Result<(), ApiError> {
    let mut v = Violations::new();
    if req.evaluations.is_empty() || req.evaluations.len() > MOST {
        v.add("evaluations", "1 to 10000 evaluations");
    }
    for (i, e) in req.evaluations.iter().enumerate() {
        if !(1..=5).contains(&e.score) {
            v.add(format!("evaluations[{i}].score"), "must be 1 to 5");
        }
    }
    v.finish()
}

/// The learner of each evaluation, as the caller may name them: one each.
fn learners(call: &Call, req: &SubmitEvaluationsRequest) -> Result<Vec<String>, ApiError> {
    let c = &call.caller;
    if c.role == Role::Engineer && req.evaluations.len() != 1 {
        return Err(ApiError::invalid(
            "evaluations",
            "a learner submits one evaluation at a time",
        ));
    }
    let mut v = Violations::new();
    let mut learners = Vec::with_capacity(req.evaluations.len());
    for (i, e) in req.evaluations.iter().enumerate() {
        let learner = learner_of(c, &req.institution, &e.learner)?;
        let field = format!("evaluations[{i}].learner");
        if names::parse(&field, "engineers", &learner).is_err() {
            v.add(
                field,
                format!("is required: the learner, `engineers/{{engineer}}` ({ART_25}: one evaluation per learner)"),
            );
        } else if learners.contains(&learner) {
            v.add(
                field,
                format!(
                    "{learner} appears twice: one evaluation per learner and period ({ART_25})"
                ),
            );
        }
        learners.push(learner);
    }
    v.finish()?;
    Ok(learners)
}

/// Refuses the learners without hours from the institution in `year`.
fn only_its_learners(
    institution: &str,
    year: i32,
    learners: &[String],
    attended: &HashSet<String>,
) -> Result<(), ApiError> {
    let strangers: Vec<usize> = (0..learners.len())
        .filter(|i| !attended.contains(&learners[*i]))
        .collect();
    let mut v = Violations::new();
    // The first few by name; a whole upload of strangers would not fit
    // in the status's trailers.
    for &i in strangers.iter().take(NAMED) {
        v.add(
            format!("evaluations[{i}].learner"),
            format!(
                "{} has no {year} hours uploaded by {institution}: only its learners evaluate it ({ART_25})",
                learners[i]
            ),
        );
    }
    if strangers.len() > NAMED {
        v.add(
            "evaluations",
            format!(
                "{} more learners without hours from this institution ({ART_25})",
                strangers.len() - NAMED
            ),
        );
    }
    v.finish()
}

impl Quality {
    /// Stores the evaluations and rescores the institution for the period.
    pub async fn submit_evaluations(
        &self,
        call: &Call,
        req: SubmitEvaluationsRequest,
    ) -> Result<SubmitEvaluationsResponse, ApiError> {
        let period = convert::period(&req.period)?;
        check_answers(&req)?;
        let learners = learners(call, &req)?;
        let id = names::parse("institution", "institutions", &req.institution)?.to_owned();
        let institution = self.clients.institution(&req.institution).await?;
        self.deployment
            .accepts_write(&call.caller, &institution.province, &req.institution)?;
        let year = period.year;
        let attended = self.learners_of(&req.institution, year, &learners).await?;
        only_its_learners(&req.institution, year, &learners, &attended)?;
        let now = now_micros();
        let rows: Vec<EvaluationRow> = req
            .evaluations
            .iter()
            .zip(learners)
            .map(|(e, learner)| EvaluationRow {
                id: names::new_id(),
                institution_id: id.clone(),
                period: req.period.clone(),
                learner: Some(learner),
                activity: (!e.activity.is_empty()).then(|| e.activity.clone()),
                score: e.score,
                submitted_by: call.caller.subject.clone(),
                create_micros: now,
            })
            .collect();
        let stored = rows.len() as i32;
        let score = self
            .store_and_score(call, institution, req.period, move |conn| {
                Ok(store::put_evaluations(conn, &rows)?)
            })
            .await?;
        Ok(SubmitEvaluationsResponse {
            stored,
            score: Some(for_caller(&call.caller, score)),
        })
    }

    /// Which of `learners` attended the institution in `year`: crediting
    /// holds hours the institution uploaded for them, neither rejected nor
    /// revoked. One learner is asked about directly; a batch is checked
    /// against one listing of the institution's uploads.
    async fn learners_of(
        &self,
        institution: &str,
        year: i32,
        learners: &[String],
    ) -> Result<HashSet<String>, ApiError> {
        let engineer = match learners {
            [one] => one.clone(),
            _ => String::new(),
        };
        let mut attended = HashSet::new();
        self.clients
            .each_hour_record_page(institution, year, &engineer, |records| {
                attended.extend(
                    records
                        .into_iter()
                        .filter(|r| {
                            matches!(
                                RecordState::try_from(r.state),
                                Ok(RecordState::Submitted | RecordState::Confirmed)
                            )
                        })
                        .map(|r| r.engineer),
                );
                learners.iter().all(|l| attended.contains(l))
            })
            .await?;
        Ok(attended)
    }
}
