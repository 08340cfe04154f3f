//! Evidence in, scores out (Art. 25): evaluations and indicators are stored,
//! and the institution's score for the period is recomputed with the model
//! in the same transaction. A poor result is reported to supervision through
//! the outbox, once per institution and period.

use ce_rules::article::ART_25;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ce_db::{Db, DbConnection, audit};
use ce_proto::common::Role;
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::quality::{
    Contribution, Indicator as PIndicator, ListScoresRequest, ListScoresResponse,
    RecordIndicatorRequest, Score, ScoreStanding, ScoreState, SubmitEvaluationsRequest,
    SubmitEvaluationsResponse,
};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{GetInstitutionRequest, Institution, RecordQualityGradeRequest};
use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
use ce_proto::supervision::{ReportQualityResultRequest, WithdrawQualityResultRequest};
use ce_server::auth::Caller;
use ce_server::call::now_micros;
use ce_server::outbox::{self as effects, Deliver, Effect, Outbox};
use ce_server::paging::Page;
use ce_server::peer::{PeerAuth, PeerError, Peers};
use ce_server::scope::{deny, department_covers, narrow};
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::dashboards::Scope;
use crate::model::{Indicator, Model, Outcome, Value};
use crate::store::{self, EvaluationRow, IndicatorRow, RankKey, ScoreRow};

type Intercepted = InterceptedService<Channel, PeerAuth>;

pub const REPORT_POOR: &str = "supervision.ReportQualityResult";
pub const WITHDRAW_POOR: &str = "supervision.WithdrawQualityResult";
pub const RECORD_GRADE: &str = "registry.RecordQualityGrade";

/// The services quality monitoring reads from and reports to.
#[derive(Clone)]
pub struct Clients {
    pub registry: RegistryServiceClient<Intercepted>,
    pub supervision: SupervisionServiceClient<Intercepted>,
    pub crediting: CreditingServiceClient<Intercepted>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clients")
    }
}

impl Clients {
    pub fn new(peers: &Arc<Peers>) -> Result<Clients, PeerError> {
        Ok(Clients {
            registry: RegistryServiceClient::new(peers.intercepted("registry")?),
            supervision: SupervisionServiceClient::new(peers.intercepted("supervision")?),
            crediting: CreditingServiceClient::new(peers.intercepted("crediting")?),
        })
    }
}

impl Deliver for Clients {
    fn deliver<'a>(
        &'a self,
        method: &'a str,
        payload: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            match method {
                REPORT_POOR => {
                    let req =
                        ReportQualityResultRequest::decode(payload).map_err(|e| e.to_string())?;
                    self.supervision
                        .clone()
                        .report_quality_result(req)
                        .await
                        .map(|_| ())
                        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
                }
                WITHDRAW_POOR => {
                    let req =
                        WithdrawQualityResultRequest::decode(payload).map_err(|e| e.to_string())?;
                    match self.supervision.clone().withdraw_quality_result(req).await {
                        // No violation was raised: nothing to withdraw.
                        Err(s) if s.code() == tonic::Code::NotFound => Ok(()),
                        r => r
                            .map(|_| ())
                            .map_err(|s| format!("{:?}: {}", s.code(), s.message())),
                    }
                }
                RECORD_GRADE => {
                    let req =
                        RecordQualityGradeRequest::decode(payload).map_err(|e| e.to_string())?;
                    self.registry
                        .clone()
                        .record_quality_grade(req)
                        .await
                        .map(|_| ())
                        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
                }
                other => Err(format!("unknown effect {other}")),
            }
        })
    }
}

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct Quality {
    pub db: Db,
    pub clients: Clients,
    pub models: Arc<crate::model::Models>,
    pub outbox: Outbox,
    /// Bumped at every score computed here: wakes this replica's watches,
    /// which read the scores themselves from the database.
    pub computed: tokio::sync::watch::Sender<u64>,
    /// Today (China time): which periods have ended and may be closed.
    pub clock: dates::Clock,
}

fn to_model(i: PIndicator) -> Option<Indicator> {
    Some(match i {
        PIndicator::Evaluation => Indicator::Evaluation,
        PIndicator::PassRate => Indicator::PassRate,
        PIndicator::AttendanceAnomalies => Indicator::AttendanceAnomalies,
        PIndicator::ComplaintsUpheld => Indicator::ComplaintsUpheld,
        PIndicator::ComplaintsReceived => Indicator::ComplaintsReceived,
        PIndicator::DisclosureCompleteness => Indicator::DisclosureCompleteness,
        PIndicator::QualifiedStaff => Indicator::QualifiedStaff,
        PIndicator::DualQualifiedStaff => Indicator::DualQualifiedStaff,
        PIndicator::RegistrationDelay => Indicator::RegistrationDelay,
        PIndicator::Violations => Indicator::Violations,
        PIndicator::Unspecified => return None,
    })
}

fn to_proto(i: Indicator) -> PIndicator {
    match i {
        Indicator::Evaluation => PIndicator::Evaluation,
        Indicator::PassRate => PIndicator::PassRate,
        Indicator::AttendanceAnomalies => PIndicator::AttendanceAnomalies,
        Indicator::ComplaintsUpheld => PIndicator::ComplaintsUpheld,
        Indicator::ComplaintsReceived => PIndicator::ComplaintsReceived,
        Indicator::DisclosureCompleteness => PIndicator::DisclosureCompleteness,
        Indicator::QualifiedStaff => PIndicator::QualifiedStaff,
        Indicator::DualQualifiedStaff => PIndicator::DualQualifiedStaff,
        Indicator::RegistrationDelay => PIndicator::RegistrationDelay,
        Indicator::Violations => PIndicator::Violations,
    }
}

/// A period: a year, a half or a quarter ("2026", "2026-H1", "2026-Q3").
/// Periods of one granularity sort in time order as text.
pub fn check_period(period: &str) -> Result<(), ApiError> {
    let ok = match period.split_once('-') {
        None => period.len() == 4 && period.bytes().all(|b| b.is_ascii_digit()),
        Some((y, part)) => {
            y.len() == 4
                && y.bytes().all(|b| b.is_ascii_digit())
                && matches!(part, "H1" | "H2" | "Q1" | "Q2" | "Q3" | "Q4")
        }
    };
    // The regulation applies from its first year (Art. 31).
    if ok
        && period[..4]
            .parse::<i32>()
            .is_ok_and(|y| y >= ce_rules::ruleset::FIRST_YEAR)
    {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "period",
            "must be a year (2026 or later), optionally with -H1/-H2 or -Q1 to -Q4",
        ))
    }
}

pub fn score_name(institution_id: &str, period: &str) -> String {
    format!("institutions/{institution_id}/scores/{period}")
}

/// Every field a score's institution serves; scores computed before
/// `fields` was kept name only the first.
pub fn fields_of(score: &Score) -> Vec<i32> {
    if score.fields.is_empty() {
        vec![score.field]
    } else {
        score.fields.clone()
    }
}

/// Who may read an institution's full score: its own breakdown to the
/// institution; departments within their scope (a field's regulator, any
/// institution serving that field among others).
fn may_read(caller: &Caller, score: &Score) -> bool {
    match caller.role {
        Role::Service => true,
        Role::Institution => caller.org.as_deref() == Some(score.institution.as_str()),
        _ => department_covers(caller, &score.province, &fields_of(score)),
    }
}

fn decode(row: &ScoreRow) -> Result<Score, ApiError> {
    Score::decode(row.body.as_slice())
        .map_err(|e| ApiError::Internal(format!("score does not decode: {e}")))
}

/// The score as `caller` may see it: an institution sees its own score,
/// indicators and reasons, and of another institution only which it is,
/// the period, its grade (or that there was too little evidence for one)
/// and whether that is final (`docs/dashboards.md`).
pub fn for_caller(caller: &Caller, s: Score) -> Score {
    if caller.role != Role::Institution || caller.org.as_deref() == Some(&s.institution) {
        return s;
    }
    Score {
        name: s.name,
        institution: s.institution,
        period: s.period,
        province: s.province,
        field: s.field,
        fields: s.fields,
        state: s.state,
        grade: s.grade,
        standing: s.standing,
        ..Default::default()
    }
}

/// Recomputes and stores an institution's score for `period`, inside the
/// caller's transaction, and the periods after it whose "poor" rests on
/// its grade (Art. 25 "consecutive"), as far as grades keep changing.
fn recompute(
    conn: &mut DbConnection,
    model: &Model,
    institution: &Institution,
    period: &str,
) -> Result<Score, ApiError> {
    let id = institution
        .name
        .strip_prefix("institutions/")
        .unwrap_or(&institution.name);
    let grade_of = |conn: &mut DbConnection, p: &str| -> Result<Option<String>, ApiError> {
        Ok(store::get_score(conn, id, p)?.map(|r| r.grade))
    };
    let before = grade_of(conn, period)?;
    let score = recompute_one(conn, model, institution, period)?;
    let mut changed = before.as_deref() != Some(score.grade.as_str());
    let mut next = next_period(period);
    for _ in 0..model.poor.repeated_periods.max(1) {
        let Some(p) = next.filter(|_| changed) else {
            break;
        };
        let Some(before) = grade_of(conn, &p)? else {
            break;
        };
        let later = recompute_one(conn, model, institution, &p)?;
        changed = before != later.grade;
        next = next_period(&p);
    }
    Ok(score)
}

/// What was last said to supervision about a score: the final figures
/// reported poor, or withdrawn. `None` before anything was said.
fn last_report(
    conn: &mut DbConnection,
    score: &str,
) -> Result<Option<(bool, String, f64, String)>, ApiError> {
    let Some(e) = effects::latest_of(conn, score, &[REPORT_POOR, WITHDRAW_POOR])? else {
        return Ok(None);
    };
    let bad =
        |e: prost::DecodeError| ApiError::Internal(format!("a stored report does not decode: {e}"));
    Ok(Some(if e.method == REPORT_POOR {
        let r = ReportQualityResultRequest::decode(e.payload.as_slice()).map_err(bad)?;
        (true, r.grade, r.score, r.model_version)
    } else {
        let r = WithdrawQualityResultRequest::decode(e.payload.as_slice()).map_err(bad)?;
        (false, r.grade, r.score, r.model_version)
    }))
}

/// Tells supervision what a final score means for Art. 26, through the
/// outbox: a poor result not reported yet (or reported with other figures)
/// is reported; a result no longer poor withdraws the report made. A
/// provisional score says nothing.
fn settle_report(
    conn: &mut DbConnection,
    institution: &Institution,
    score: &Score,
) -> Result<(), ApiError> {
    if score.standing != ScoreStanding::Final as i32 {
        return Ok(());
    }
    let last = last_report(conn, &score.name)?;
    let effect = match last {
        Some((true, grade, points, model))
            if score.poor
                && grade == score.grade
                && points == score.score
                && model == score.model_version =>
        {
            return Ok(());
        }
        _ if score.poor => {
            let report = ReportQualityResultRequest {
                institution: institution.name.clone(),
                period: score.period.clone(),
                grade: score.grade.clone(),
                score: score.score,
                model_version: score.model_version.clone(),
                finding: format!("grade {} under {}", score.grade, score.model_version),
                compute_time: score.compute_time,
            };
            (REPORT_POOR, report.encode_to_vec())
        }
        Some((true, ..)) => {
            let withdrawal = WithdrawQualityResultRequest {
                institution: institution.name.clone(),
                period: score.period.clone(),
                grade: score.grade.clone(),
                score: score.score,
                model_version: score.model_version.clone(),
                compute_time: score.compute_time,
            };
            (WITHDRAW_POOR, withdrawal.encode_to_vec())
        }
        _ => return Ok(()),
    };
    effects::insert(
        conn,
        &Effect::new(names::new_id(), &score.name, effect.0, effect.1),
    )?;
    Ok(())
}

/// Recomputes and stores one period's score; see [`recompute`].
fn recompute_one(
    conn: &mut DbConnection,
    model: &Model,
    institution: &Institution,
    period: &str,
) -> Result<Score, ApiError> {
    let id = institution
        .name
        .strip_prefix("institutions/")
        .unwrap_or(&institution.name)
        .to_owned();
    let mut values = Vec::new();
    let mut sources = Vec::new();
    let (count, sum) = store::evaluation_totals(conn, &id, period)?;
    if count > 0 {
        values.push(Value {
            indicator: Indicator::Evaluation,
            value: sum as f64 / count as f64,
            samples: count as u64,
        });
        sources.push((
            Indicator::Evaluation,
            "learners' evaluations".to_owned(),
            now_micros(),
        ));
    }
    for r in store::indicators_of(conn, &id, period)? {
        if let Some(i) = PIndicator::try_from(r.indicator).ok().and_then(to_model) {
            values.push(Value {
                indicator: i,
                value: r.value,
                samples: r.samples.max(0) as u64,
            });
            sources.push((i, r.source.clone(), r.take_micros));
        }
    }
    // Final once the period is closed for the province and the indicators
    // pulled from the other services have been taken (Art. 25).
    let pulled = [Indicator::DisclosureCompleteness, Indicator::Violations]
        .iter()
        .all(|i| sources.iter().any(|s| s.0 == *i));
    let standing = if pulled && store::period_closed(conn, &institution.province, period)? {
        ScoreStanding::Final
    } else {
        ScoreStanding::Provisional
    };
    let now = now_micros();
    let field = institution.fields.first().copied().unwrap_or(0);
    let previous_grade = store::get_score(conn, &id, period)?
        .filter(|r| r.state == ScoreState::Scored as i32)
        .map(|r| r.grade);
    let mut score = Score {
        name: score_name(&id, period),
        institution: institution.name.clone(),
        period: period.to_owned(),
        province: institution.province.clone(),
        field,
        fields: institution.fields.clone(),
        model_version: model.version.clone(),
        compute_time: Some(dates::timestamp(now)),
        standing: standing as i32,
        ..Default::default()
    };
    match model.score(&values) {
        Outcome::Scored {
            score: points,
            grade,
            contributions,
            notes,
        } => {
            score.reasons = notes;
            // Art. 25 "consecutive": the periods right before, same granularity.
            let preceding: Vec<String> =
                std::iter::successors(previous_period(period), |p| previous_period(p))
                    .take(model.poor.repeated_periods.max(1) as usize)
                    .collect();
            let earlier = store::grades_in_a_row(conn, &id, &preceding, ScoreState::Scored as i32)?;
            score.state = ScoreState::Scored as i32;
            score.score = points;
            score.poor = model.is_poor(&grade, &earlier);
            score.grade = grade;
            score.contributions = contributions
                .iter()
                .map(|c| {
                    let (source, taken) = sources
                        .iter()
                        .find(|s| s.0 == c.indicator)
                        .map(|s| (s.1.clone(), s.2))
                        .unwrap_or_default();
                    let samples = values
                        .iter()
                        .find(|v| v.indicator == c.indicator)
                        .map_or(0, |v| v.samples as i64);
                    Contribution {
                        indicator: to_proto(c.indicator) as i32,
                        value: c.value,
                        normalised: c.normalised,
                        weight: c.weight,
                        points: c.points,
                        samples,
                        source,
                        take_time: Some(dates::timestamp(taken)),
                    }
                })
                .collect();
        }
        Outcome::InsufficientData { reasons } => {
            score.state = ScoreState::InsufficientData as i32;
            score.reasons = reasons;
        }
    }
    store::put_fields(conn, &id, &institution.fields)?;
    store::put_score(
        conn,
        &ScoreRow {
            institution_id: id.clone(),
            period: period.to_owned(),
            province: score.province.clone(),
            field,
            state: score.state,
            score: score.score,
            grade: score.grade.clone(),
            body: score.encode_to_vec(),
            compute_micros: now,
        },
        &names::new_id(),
    )?;
    // Every new grade goes to the registry, where it judges the institution.
    if score.state == ScoreState::Scored as i32
        && previous_grade.as_deref() != Some(score.grade.as_str())
    {
        store::insert_grade_change(
            conn,
            &store::GradeChangeRow {
                id: names::new_id(),
                institution_id: id.clone(),
                period: period.to_owned(),
                province: score.province.clone(),
                from_grade: previous_grade.clone(),
                to_grade: score.grade.clone(),
                change_micros: now,
            },
        )?;
        let grade = RecordQualityGradeRequest {
            name: institution.name.clone(),
            period: period.to_owned(),
            grade: score.grade.clone(),
            model_version: score.model_version.clone(),
            compute_time: score.compute_time,
        };
        effects::insert(
            conn,
            &Effect::new(
                names::new_id(),
                &score.name,
                RECORD_GRADE,
                grade.encode_to_vec(),
            ),
        )?;
    }
    settle_report(conn, institution, &score)?;
    Ok(score)
}

impl Quality {
    async fn institution(&self, name: &str) -> Result<Institution, ApiError> {
        names::parse("institution", "institutions", name)?;
        self.clients
            .registry
            .clone()
            .get_institution(GetInstitutionRequest { name: name.into() })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| match e.code() {
                tonic::Code::NotFound | tonic::Code::InvalidArgument => ApiError::invalid(
                    "institution",
                    format!("{name} is not a registered institution"),
                ),
                _ => ApiError::Unavailable(format!("the registry did not answer: {}", e.message())),
            })
    }

    async fn store_and_score(
        &self,
        call: &Call,
        institution: Institution,
        period: String,
        write: impl FnOnce(&mut DbConnection) -> Result<(), ApiError> + Send + 'static,
    ) -> Result<Score, ApiError> {
        let models = self.models.clone();
        let call = call.clone();
        let score = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                write(conn)?;
                let model = models.for_province(&institution.province);
                let score = recompute(conn, model, &institution, &period)?;
                audit::append(conn, &call.audit(&score.name, "OK"))?;
                Ok(score)
            })
            .await?;
        self.outbox.wake();
        self.computed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(score)
    }

    /// Art. 25: only an institution's learners evaluate it, one evaluation
    /// each per period; a repeat replaces the earlier answer.
    pub async fn submit_evaluations(
        &self,
        call: &Call,
        req: SubmitEvaluationsRequest,
    ) -> Result<SubmitEvaluationsResponse, ApiError> {
        check_period(&req.period)?;
        let mut v = Violations::new();
        if req.evaluations.is_empty() || req.evaluations.len() > 10_000 {
            v.add("evaluations", "1 to 10000 evaluations");
        }
        for (i, e) in req.evaluations.iter().enumerate() {
            if !(1..=5).contains(&e.score) {
                v.add(format!("evaluations[{i}].score"), "must be 1 to 5");
            }
        }
        v.finish()?;
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
            let learner = match c.role {
                Role::Engineer if e.learner.is_empty() || e.learner == c.subject => {
                    c.subject.clone()
                }
                Role::Engineer => return Err(deny("evaluating in another learner's name")),
                Role::Institution if c.org.as_deref() == Some(&req.institution) => {
                    e.learner.clone()
                }
                _ => return Err(deny("submitting evaluations of this institution")),
            };
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
        let id = names::parse("institution", "institutions", &req.institution)?.to_owned();
        let institution = self.institution(&req.institution).await?;
        let year: i32 = req.period[..4]
            .parse()
            .map_err(|_| ApiError::invalid("period", "bad year"))?;
        let attended = self.learners_of(&req.institution, year, &learners).await?;
        let strangers: Vec<usize> = (0..learners.len())
            .filter(|i| !attended.contains(&learners[*i]))
            .collect();
        let mut v = Violations::new();
        // The first few by name; a whole upload of strangers would not fit
        // in the status's trailers.
        for &i in strangers.iter().take(10) {
            v.add(
                format!("evaluations[{i}].learner"),
                format!(
                    "{} has no {year} hours uploaded by {}: only its learners evaluate it ({ART_25})",
                    learners[i], req.institution
                ),
            );
        }
        if strangers.len() > 10 {
            v.add(
                "evaluations",
                format!(
                    "{} more learners without hours from this institution ({ART_25})",
                    strangers.len() - 10
                ),
            );
        }
        v.finish()?;
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
                submitted_by: c.subject.clone(),
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
    ) -> Result<std::collections::HashSet<String>, ApiError> {
        use ce_proto::crediting::RecordState;
        let engineer = match learners {
            [one] => one.clone(),
            _ => String::new(),
        };
        let mut attended = std::collections::HashSet::new();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .crediting
                .clone()
                .list_hour_records(ce_proto::crediting::ListHourRecordsRequest {
                    page_size: 1000,
                    page_token: token,
                    engineer: engineer.clone(),
                    year,
                    institution: institution.to_owned(),
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    ApiError::Unavailable(format!("crediting did not answer: {}", e.message()))
                })?
                .into_inner();
            attended.extend(
                page.hour_records
                    .into_iter()
                    .filter(|r| {
                        matches!(
                            RecordState::try_from(r.state),
                            Ok(RecordState::Submitted | RecordState::Confirmed)
                        )
                    })
                    .map(|r| r.engineer),
            );
            if page.next_page_token.is_empty() || learners.iter().all(|l| attended.contains(l)) {
                return Ok(attended);
            }
            token = page.next_page_token;
        }
    }

    pub async fn record_indicator(
        &self,
        call: &Call,
        req: RecordIndicatorRequest,
    ) -> Result<Score, ApiError> {
        check_period(&req.period)?;
        let mut v = Violations::new();
        let indicator = PIndicator::try_from(req.indicator).unwrap_or(PIndicator::Unspecified);
        match indicator {
            PIndicator::Unspecified => v.add("indicator", "is required"),
            PIndicator::Evaluation => v.add(
                "indicator",
                "evaluations are submitted with SubmitEvaluations",
            ),
            _ => {}
        }
        if !req.value.is_finite() || req.value < 0.0 {
            v.add("value", "must be a number, not negative");
        }
        if req.samples < 0 {
            v.add("samples", "must not be negative");
        }
        if req.source.trim().is_empty() || req.source.len() > 500 {
            v.add(
                "source",
                "is required: where the value comes from, at most 500 characters",
            );
        }
        v.finish()?;
        let institution = self.institution(&req.institution).await?;
        let c = &call.caller;
        let allowed = match c.role {
            Role::Service => true,
            Role::Ministry | Role::ProvincialHrss | Role::IndustryRegulator => {
                department_covers(c, &institution.province, &institution.fields)
            }
            // An institution reports what it measures itself.
            Role::Institution => {
                c.org.as_deref() == Some(&req.institution)
                    && matches!(
                        indicator,
                        PIndicator::PassRate
                            | PIndicator::QualifiedStaff
                            | PIndicator::DualQualifiedStaff
                    )
            }
            _ => false,
        };
        if !allowed {
            return Err(deny("recording this indicator"));
        }
        let row = IndicatorRow {
            institution_id: names::parse("institution", "institutions", &req.institution)?
                .to_owned(),
            period: req.period.clone(),
            indicator: req.indicator,
            value: req.value,
            samples: req.samples,
            source: req.source.trim().to_owned(),
            take_micros: now_micros(),
        };
        let score = self
            .store_and_score(call, institution, req.period, move |conn| {
                Ok(store::put_indicator(conn, &row)?)
            })
            .await?;
        Ok(for_caller(&call.caller, score))
    }

    pub async fn get_score(&self, call: &Call, name: &str) -> Result<Score, ApiError> {
        let bad = || {
            ApiError::invalid(
                "name",
                "must be `institutions/{institution}/scores/{period}`",
            )
        };
        let rest = name.strip_prefix("institutions/").ok_or_else(bad)?;
        let (id, period) = rest.split_once("/scores/").ok_or_else(bad)?;
        let (id, period) = (id.to_owned(), period.to_owned());
        let row = self
            .db
            .read(move |conn| Ok::<_, ApiError>(store::get_score(conn, &id, &period)?))
            .await?
            .ok_or_else(|| names::not_found(name))?;
        let score = decode(&row)?;
        let c = &call.caller;
        if !may_read(c, &score) && c.role != Role::Institution {
            return Err(deny("reading this institution's score"));
        }
        Ok(for_caller(c, score))
    }

    pub async fn list_scores(
        &self,
        call: &Call,
        req: ListScoresRequest,
    ) -> Result<ListScoresResponse, ApiError> {
        check_period(&req.period)?;
        if !req.province.is_empty() && ce_proto::reference::region(&req.province).is_none() {
            return Err(ApiError::invalid(
                "province",
                format!("`{}` is not a province code", req.province),
            ));
        }
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &format!("{}|{}|{}", req.period, req.province, req.field),
        )?;
        let c = &call.caller;
        let Scope { province, field } = Scope::of(c, &req.province, req.field, "reading rankings")?;
        let after: Option<RankKey> = match &page.after {
            None => None,
            Some(token) => {
                let mut parts = token.splitn(3, '|');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(s), Some(sc), Some(id)) => Some((
                        s.parse().map_err(|_| {
                            ApiError::invalid("page_token", "is not a token of this list")
                        })?,
                        sc.parse().map_err(|_| {
                            ApiError::invalid("page_token", "is not a token of this list")
                        })?,
                        id.to_owned(),
                    )),
                    _ => {
                        return Err(ApiError::invalid(
                            "page_token",
                            "is not a token of this list",
                        ));
                    }
                }
            }
        };
        let period = req.period.clone();
        let limit = page.fetch_limit();
        let rows = self
            .db
            .read(move |conn| {
                Ok::<_, ApiError>(store::ranking(
                    conn,
                    &period,
                    province.as_deref(),
                    field,
                    after.as_ref(),
                    limit,
                )?)
            })
            .await?;
        let (scores, next_page_token) = page.finish_within(
            rows,
            |r| format!("{}|{}|{}", r.state, r.score, r.institution_id),
            |r| decode(&r).map(|s| for_caller(c, s)),
            call.max_message_bytes,
        )?;
        Ok(ListScoresResponse {
            scores,
            next_page_token,
        })
    }

    pub async fn history(&self, call: &Call, institution: &str) -> Result<Vec<Score>, ApiError> {
        let id = names::parse("institution", "institutions", institution)?.to_owned();
        // Roles that never read histories are refused before any read.
        if !matches!(
            call.caller.role,
            Role::Ministry
                | Role::Service
                | Role::ProvincialHrss
                | Role::IndustryRegulator
                | Role::Institution
        ) {
            return Err(deny("reading score histories"));
        }
        let bodies = self
            .db
            .read(move |conn| Ok::<_, ApiError>(store::history(conn, &id)?))
            .await?;
        let scores: Vec<Score> = bodies
            .iter()
            .map(|b| Score::decode(b.as_slice()).map_err(|e| ApiError::Internal(e.to_string())))
            .collect::<Result<_, _>>()?;
        // The latest computation knows the institution's current fields.
        if let Some(s) = scores.last()
            && !may_read(&call.caller, s)
        {
            return Err(deny("reading this institution's score history"));
        }
        // The whole history or nothing: the answer has no page token.
        ce_server::paging::whole("institution", &scores, 0, call.max_message_bytes)?;
        Ok(scores)
    }

    /// Pulls the indicators other services own, records them, recomputes.
    pub async fn refresh(
        &self,
        call: &Call,
        institution: &str,
        period: &str,
    ) -> Result<Score, ApiError> {
        check_period(period)?;
        let inst = self.institution(institution).await?;
        let c = &call.caller;
        let allowed = match c.role {
            Role::Ministry | Role::Service => true,
            Role::ProvincialHrss => c.province.as_deref() == Some(inst.province.as_str()),
            _ => false,
        };
        if !allowed {
            return Err(deny("refreshing indicators"));
        }
        let (from, to) = period_days(period)?;
        let id = names::parse("institution", "institutions", institution)?.to_owned();
        let now = now_micros();
        let mut rows = Vec::new();
        let row = |indicator: PIndicator, value: f64, samples: i64, source: String| IndicatorRow {
            institution_id: id.clone(),
            period: period.to_owned(),
            indicator: indicator as i32,
            value,
            samples,
            source,
            take_micros: now,
        };
        // The registry: how much of the Art. 15 disclosure is published.
        let d = inst.disclosure.clone().unwrap_or_default();
        let parts = [
            !d.scope.trim().is_empty(),
            !d.content.trim().is_empty(),
            !d.fee_items.is_empty(),
        ];
        let published = parts.iter().filter(|p| **p).count();
        rows.push(row(
            PIndicator::DisclosureCompleteness,
            published as f64 / 3.0,
            1,
            format!("registry: {published} of scope, content and fees published"),
        ));
        // Supervision: violations decided in the period, its own reports excluded.
        let mut decided = 0i64;
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .supervision
                .clone()
                .list_violations(ce_proto::supervision::ListViolationsRequest {
                    page_size: 1000,
                    page_token: token,
                    institution: institution.to_owned(),
                    start_date: Some(ce_server::dates::to_proto(from)),
                    end_date: Some(ce_server::dates::to_proto(to)),
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    ApiError::Unavailable(format!("supervision did not answer: {}", e.message()))
                })?
                .into_inner();
            decided += page
                .violations
                .iter()
                .filter(|v| {
                    v.category != ce_proto::supervision::ViolationCategory::PoorQuality as i32
                        && v.state != ce_proto::supervision::ViolationState::Open as i32
                })
                .count() as i64;
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        rows.push(row(
            PIndicator::Violations,
            decided as f64,
            1,
            "supervision: violations decided in the period".into(),
        ));
        // Crediting: days from an activity's end to its hours being
        // registered, and online records whose claims attendance does not bear out.
        let mut delays = Vec::new();
        let (mut online, mut anomalies) = (0i64, 0i64);
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .crediting
                .clone()
                .list_hour_records(ce_proto::crediting::ListHourRecordsRequest {
                    page_size: 1000,
                    page_token: token,
                    year: from.year(),
                    institution: institution.to_owned(),
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    ApiError::Unavailable(format!("crediting did not answer: {}", e.message()))
                })?
                .into_inner();
            for r in &page.hour_records {
                // Art. 13: online hours claimed beyond what attendance tracking verifies.
                if let Some(ce_proto::crediting::hour_record::Activity::Online(_)) = &r.activity {
                    online += 1;
                    if r.explanation
                        .as_ref()
                        .is_some_and(|e| e.attendance_unverified)
                    {
                        anomalies += 1;
                    }
                }
                let end = match &r.activity {
                    Some(ce_proto::crediting::hour_record::Activity::FaceToFace(f)) => {
                        dates::from_proto(f.start_date.as_ref())
                            .ok()
                            .map(|d| d + time::Duration::days(i64::from(f.days.max(1)) - 1))
                    }
                    Some(ce_proto::crediting::hour_record::Activity::Online(o)) => {
                        dates::from_proto(o.end_date.as_ref()).ok()
                    }
                    _ => None,
                };
                let registered = r.create_time.as_ref().and_then(|t| {
                    time::OffsetDateTime::from_unix_timestamp(t.seconds)
                        .ok()
                        .map(ce_rules::dates::date_of)
                });
                if let (Some(end), Some(registered)) = (end, registered)
                    && end >= from
                    && end <= to
                {
                    delays.push((registered - end).whole_days().max(0));
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        if online > 0 {
            rows.push(row(
                PIndicator::AttendanceAnomalies,
                anomalies as f64 / online as f64,
                online,
                format!("crediting: {anomalies} of {online} online records claim more than xAPI verifies"),
            ));
        }
        if !delays.is_empty() {
            delays.sort_unstable();
            let median = delays[delays.len() / 2];
            rows.push(row(
                PIndicator::RegistrationDelay,
                median as f64,
                delays.len() as i64,
                format!("crediting: median of {} records", delays.len()),
            ));
        }
        let score = self
            .store_and_score(call, inst, period.to_owned(), move |conn| {
                for r in &rows {
                    store::put_indicator(conn, r)?;
                }
                Ok(())
            })
            .await?;
        Ok(for_caller(&call.caller, score))
    }
}

/// The provinces a close or reopen covers: the one asked for, or every
/// province when the ministry asks for none.
fn provinces_of(province: &Option<String>) -> Vec<String> {
    match province {
        Some(p) => vec![p.clone()],
        None => ce_proto::reference::REGIONS
            .iter()
            .map(|r| r.code.to_owned())
            .collect(),
    }
}

impl Quality {
    /// Who may close or reopen a period, for which province (`None`: all).
    fn period_scope(
        &self,
        call: &Call,
        period: &str,
        province: &str,
        what: &str,
    ) -> Result<Option<String>, ApiError> {
        check_period(period)?;
        let c = &call.caller;
        let asked = (!province.is_empty()).then(|| province.to_owned());
        if let Some(p) = &asked
            && ce_proto::reference::region(p).is_none()
        {
            return Err(ApiError::invalid(
                "province",
                format!("`{p}` is not a province code"),
            ));
        }
        match c.role {
            Role::Ministry | Role::Service => Ok(asked),
            Role::ProvincialHrss => narrow(asked, c.province.clone(), "province"),
            _ => Err(deny(what)),
        }
    }

    /// Closes a period that has ended: marks it closed for the province
    /// (or all), then refreshes and rescores every institution of it, whose
    /// scores become final (Art. 25).
    pub async fn close_period(
        &self,
        call: &Call,
        req: ce_proto::quality::ClosePeriodRequest,
    ) -> Result<ce_proto::quality::ClosePeriodResponse, ApiError> {
        let province = self.period_scope(
            call,
            &req.period,
            &req.province,
            "closing a monitoring period",
        )?;
        let (_, last) = period_days(&req.period)?;
        let today = self.clock.today();
        if today <= last {
            return Err(ApiError::FailedPrecondition(format!(
                "{} runs to {}: a monitoring period is closed once it has ended, and its results are final from then ({})",
                req.period,
                dates::format(last),
                ce_rules::article::ART_25
            )));
        }
        self.mark_period(call, &req.period, &province, None).await?;
        let mut out = ce_proto::quality::ClosePeriodResponse::default();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .registry
                .clone()
                .list_institutions(ce_proto::registry::ListInstitutionsRequest {
                    page_size: 1000,
                    page_token: token,
                    province: province.clone().unwrap_or_default(),
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    ApiError::Unavailable(format!("the registry did not answer: {}", e.message()))
                })?
                .into_inner();
            for i in &page.institutions {
                let score = self.refresh(call, &i.name, &req.period).await?;
                out.institutions += 1;
                if score.state == ScoreState::Scored as i32 {
                    out.scored += 1;
                } else {
                    out.insufficient_data += 1;
                }
                if score.poor {
                    out.poor += 1;
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            token = page.next_page_token;
        }
    }

    /// Stores that `period` is closed (or open) for the provinces covered.
    async fn mark_period(
        &self,
        call: &Call,
        period: &str,
        province: &Option<String>,
        reopened_because: Option<&str>,
    ) -> Result<(), ApiError> {
        let provinces = provinces_of(province);
        let period = period.to_owned();
        let call = call.clone();
        let reason = reopened_because.map(str::to_owned);
        self.db
            .write(move |conn| -> Result<_, ApiError> {
                let now = now_micros();
                for p in &provinces {
                    store::set_period_closed(
                        conn,
                        p,
                        &period,
                        reason.as_deref(),
                        &call.caller.subject,
                        now,
                    )?;
                }
                audit::append(conn, &call.audit(&format!("scores/{period}"), "OK"))?;
                Ok(())
            })
            .await
    }

    /// Reopens a closed period: its scores are provisional until the next
    /// close. Violations raised stay as they are until that close decides
    /// them again.
    pub async fn reopen_period(
        &self,
        call: &Call,
        req: ce_proto::quality::ReopenPeriodRequest,
    ) -> Result<ce_proto::quality::ReopenPeriodResponse, ApiError> {
        let province = self.period_scope(
            call,
            &req.period,
            &req.province,
            "reopening a monitoring period",
        )?;
        let reason = req.reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(ApiError::invalid(
                "reason",
                "is required: why the period is reopened, at most 1000 characters",
            ));
        }
        self.mark_period(call, &req.period, &province, Some(reason))
            .await?;
        let period = req.period.clone();
        let scores = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                let mut n = 0;
                for row in store::scores_of_period(conn, &period, province.as_deref())? {
                    let mut score = decode(&row)?;
                    if score.standing == ScoreStanding::Provisional as i32 {
                        continue;
                    }
                    score.standing = ScoreStanding::Provisional as i32;
                    store::set_score_body(
                        conn,
                        &row.institution_id,
                        &row.period,
                        &score.encode_to_vec(),
                    )?;
                    n += 1;
                }
                Ok(n)
            })
            .await?;
        self.computed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(ce_proto::quality::ReopenPeriodResponse { scores })
    }
}

/// The period right before `period`, of the same granularity: 2025 before
/// 2026, 2025-H2 before 2026-H1, 2026-Q2 before 2026-Q3. `None` for a
/// string that is not a period.
pub fn previous_period(period: &str) -> Option<String> {
    let year: i32 = period.get(..4)?.parse().ok()?;
    match period.get(4..)? {
        "" => Some(format!("{}", year - 1)),
        "-H1" => Some(format!("{}-H2", year - 1)),
        "-H2" => Some(format!("{year}-H1")),
        "-Q1" => Some(format!("{}-Q4", year - 1)),
        "-Q2" => Some(format!("{year}-Q1")),
        "-Q3" => Some(format!("{year}-Q2")),
        "-Q4" => Some(format!("{year}-Q3")),
        _ => None,
    }
}

/// The period right after `period`, of the same granularity.
pub fn next_period(period: &str) -> Option<String> {
    let year: i32 = period.get(..4)?.parse().ok()?;
    match period.get(4..)? {
        "" => Some(format!("{}", year + 1)),
        "-H1" => Some(format!("{year}-H2")),
        "-H2" => Some(format!("{}-H1", year + 1)),
        "-Q1" => Some(format!("{year}-Q2")),
        "-Q2" => Some(format!("{year}-Q3")),
        "-Q3" => Some(format!("{year}-Q4")),
        "-Q4" => Some(format!("{}-Q1", year + 1)),
        _ => None,
    }
}

/// The first and last day of a period.
pub fn period_days(period: &str) -> Result<(time::Date, time::Date), ApiError> {
    check_period(period)?;
    let year: i32 = period[..4]
        .parse()
        .map_err(|_| ApiError::invalid("period", "bad year"))?;
    let (first, last) = match period.get(5..) {
        None => (1, 12),
        Some("H1") => (1, 6),
        Some("H2") => (7, 12),
        Some("Q1") => (1, 3),
        Some("Q2") => (4, 6),
        Some("Q3") => (7, 9),
        _ => (10, 12),
    };
    let month = |m: u8| time::Month::try_from(m).map_err(|e| ApiError::Internal(e.to_string()));
    let start = time::Date::from_calendar_date(year, month(first)?, 1)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let next = if last == 12 {
        time::Date::from_calendar_date(year + 1, time::Month::January, 1)
    } else {
        time::Date::from_calendar_date(year, month(last + 1)?, 1)
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((start, next.previous_day().unwrap_or(next)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn periods_are_years_halves_and_quarters() {
        assert_eq!(
            period_days("2026").unwrap(),
            (date!(2026 - 01 - 01), date!(2026 - 12 - 31))
        );
        assert_eq!(
            period_days("2026-H1").unwrap(),
            (date!(2026 - 01 - 01), date!(2026 - 06 - 30))
        );
        assert_eq!(
            period_days("2027-Q3").unwrap(),
            (date!(2027 - 07 - 01), date!(2027 - 09 - 30))
        );
        assert_eq!(
            period_days("2026-Q4").unwrap(),
            (date!(2026 - 10 - 01), date!(2026 - 12 - 31))
        );
        for bad in ["2025", "2026-H3", "26", "2026-", "abcd"] {
            assert!(check_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_previous_period_is_the_one_right_before_of_the_same_kind() {
        for (p, before) in [
            ("2027", "2026"),
            ("2027-H1", "2026-H2"),
            ("2027-H2", "2027-H1"),
            ("2027-Q1", "2026-Q4"),
            ("2027-Q2", "2027-Q1"),
            ("2027-Q3", "2027-Q2"),
            ("2027-Q4", "2027-Q3"),
        ] {
            assert_eq!(previous_period(p).as_deref(), Some(before), "{p}");
            assert_eq!(next_period(before).as_deref(), Some(p), "{before}");
        }
        assert_eq!(previous_period("2027-Q5"), None);
        assert_eq!(previous_period("27"), None);
    }
}
