//! Scoring (Art. 25): an institution's score for a period is recomputed
//! with the model in the transaction that stores its evidence, with the
//! periods after it whose "poor" rests on its grade. Every new grade goes
//! to the registry, and a final poor result to supervision (Art. 26),
//! through the outbox.

use ce_db::{DbConnection, audit};
use ce_proto::quality::{Score, ScoreStanding, ScoreState};
use ce_proto::registry::{Institution, RecordQualityGradeRequest};
use ce_rules::quality::{self as rules, Tell};
use ce_server::call::now_micros;
use ce_server::outbox::{self as effects, Effect};
use ce_server::{ApiError, Call, dates, names};
use prost::Message;

use crate::convert::{self, Stored};
use crate::model::{Indicator, Model, Outcome, Value};
use crate::peers::{RECORD_GRADE, REPORT_POOR, WITHDRAW_POOR};
use crate::scores::Quality;
use crate::store::{self, Graded};

/// The indicators quality monitoring pulls from the other services itself:
/// a score is final only once they are taken (Art. 25).
const PULLED: [Indicator; 2] = [Indicator::DisclosureCompleteness, Indicator::Violations];

impl Quality {
    /// Runs `write` and recomputes the institution's score for `period` in
    /// one transaction, audited; wakes the outbox and the watches.
    pub(crate) async fn store_and_score(
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
}

/// The institution's id, without `institutions/`.
fn id_of(institution: &Institution) -> &str {
    institution
        .name
        .strip_prefix("institutions/")
        .unwrap_or(&institution.name)
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
    let id = id_of(institution);
    let grade_of = |conn: &mut DbConnection, p: &str| -> Result<Option<String>, ApiError> {
        Ok(store::get_score(conn, id, p)?.map(|r| r.grade))
    };
    let before = grade_of(conn, period)?;
    let score = recompute_one(conn, model, institution, period)?;
    let mut changed = before.as_deref() != Some(score.grade.as_str());
    let mut next = rules::next_period(period);
    for _ in 0..model.poor.look_back() {
        let Some(p) = next.filter(|_| changed) else {
            break;
        };
        let Some(before) = grade_of(conn, &p)? else {
            break;
        };
        let later = recompute_one(conn, model, institution, &p)?;
        changed = before != later.grade;
        next = rules::next_period(&p);
    }
    Ok(score)
}

/// A period's evidence: the model's values, and each one's source and when
/// it was taken.
struct Evidence {
    values: Vec<Value>,
    sources: Vec<(Indicator, String, i64)>,
}

impl Evidence {
    fn read(conn: &mut DbConnection, id: &str, period: &str) -> Result<Evidence, ApiError> {
        let mut values = Vec::new();
        let mut sources = Vec::new();
        let (count, sum) = store::evaluation_totals(conn, id, period)?;
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
        for r in store::indicators_of(conn, id, period)? {
            if let Some((value, source, taken)) = convert::indicator_value(&r) {
                values.push(value);
                sources.push((value.indicator, source, taken));
            }
        }
        Ok(Evidence { values, sources })
    }

    /// Whether the indicators quality monitoring pulls itself are taken.
    fn pulled(&self) -> bool {
        PULLED
            .iter()
            .all(|i| self.sources.iter().any(|s| s.0 == *i))
    }

    /// The model's contributions as the proto's, with their evidence.
    fn contributions(
        &self,
        contributions: &[crate::model::Contribution],
    ) -> Vec<ce_proto::quality::Contribution> {
        contributions
            .iter()
            .map(|c| {
                let (source, taken) = self
                    .sources
                    .iter()
                    .find(|s| s.0 == c.indicator)
                    .map(|s| (s.1.clone(), s.2))
                    .unwrap_or_default();
                let samples = self
                    .values
                    .iter()
                    .find(|v| v.indicator == c.indicator)
                    .map_or(0, |v| v.samples as i64);
                convert::contribution(c, samples, source, taken)
            })
            .collect()
    }
}

/// Recomputes and stores one period's score; see [`recompute`].
fn recompute_one(
    conn: &mut DbConnection,
    model: &Model,
    institution: &Institution,
    period: &str,
) -> Result<Score, ApiError> {
    let id = id_of(institution).to_owned();
    let evidence = Evidence::read(conn, &id, period)?;
    let closed = store::period_closed(conn, &institution.province, period)?;
    let standing = if rules::is_final(closed, evidence.pulled()) {
        ScoreStanding::Final
    } else {
        ScoreStanding::Provisional
    };
    let now = now_micros();
    let previous_grade = store::get_score(conn, &id, period)?
        .filter(|r| r.graded() == Some(Graded::Scored))
        .map(|r| r.grade);
    let mut score = Score {
        name: convert::score_name(&id, period),
        institution: institution.name.clone(),
        period: period.to_owned(),
        province: institution.province.clone(),
        field: institution.fields.first().copied().unwrap_or(0),
        fields: institution.fields.clone(),
        model_version: model.version.clone(),
        compute_time: Some(dates::timestamp(now)),
        standing: standing as i32,
        institution_display_name: institution.display_name.clone(),
        institution_code: institution.code.clone(),
        ..Default::default()
    };
    match model.score(&evidence.values) {
        Outcome::Scored {
            score: points,
            grade,
            contributions,
            notes,
        } => {
            score.reasons = notes;
            // Art. 25 "consecutive": the periods right before, same granularity.
            let preceding = rules::preceding_periods(period, model.poor.look_back());
            let earlier = store::grades_in_a_row(conn, &id, &preceding)?;
            score.set_state(ScoreState::Scored);
            score.score = points;
            score.poor = rules::is_poor(&model.poor, &grade, &earlier);
            score.grade = grade;
            score.contributions = evidence.contributions(&contributions);
        }
        Outcome::InsufficientData { reasons } => {
            score.set_state(ScoreState::InsufficientData);
            score.reasons = reasons;
        }
    }
    store::put_fields(conn, &id, &institution.fields)?;
    store::put_score(
        conn,
        &convert::score_row(&id, &score, now),
        &names::new_id(),
    )?;
    if score.state() == ScoreState::Scored && previous_grade.as_deref() != Some(&score.grade) {
        record_grade(conn, &id, &score, previous_grade, now)?;
    }
    settle_report(conn, institution, &score)?;
    Ok(score)
}

/// A new grade: kept for the dashboards' grade changes, and sent to the
/// registry, where it judges the institution.
fn record_grade(
    conn: &mut DbConnection,
    id: &str,
    score: &Score,
    previous_grade: Option<String>,
    now: i64,
) -> Result<(), ApiError> {
    store::insert_grade_change(
        conn,
        &store::GradeChangeRow {
            id: names::new_id(),
            institution_id: id.to_owned(),
            period: score.period.clone(),
            province: score.province.clone(),
            from_grade: previous_grade,
            to_grade: score.grade.clone(),
            change_micros: now,
        },
    )?;
    let grade = RecordQualityGradeRequest {
        name: score.institution.clone(),
        period: score.period.clone(),
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
    Ok(())
}

/// What was last said to supervision about a score: the final figures
/// reported poor, or withdrawn. `None` before anything was said.
fn last_report(conn: &mut DbConnection, score: &str) -> Result<Option<Stored>, ApiError> {
    let Some(e) = effects::latest_of(conn, score, &[REPORT_POOR, WITHDRAW_POOR])? else {
        return Ok(None);
    };
    Stored::decode(e.method == REPORT_POOR, &e.payload).map(Some)
}

/// Tells supervision what a final score means for Art. 26, through the
/// outbox, as [`rules::what_to_tell`] decides.
fn settle_report(
    conn: &mut DbConnection,
    institution: &Institution,
    score: &Score,
) -> Result<(), ApiError> {
    let final_ = score.standing() == ScoreStanding::Final;
    // A provisional score says nothing: what was said is not even read.
    let last = if final_ {
        last_report(conn, &score.name)?
    } else {
        None
    };
    let tell = rules::what_to_tell(
        final_,
        score.poor,
        convert::figures(score),
        last.as_ref().map(Stored::said),
    );
    let effect = match tell {
        Tell::Nothing => return Ok(()),
        Tell::Report => (
            REPORT_POOR,
            convert::report(&institution.name, score).encode_to_vec(),
        ),
        Tell::Withdraw => (
            WITHDRAW_POOR,
            convert::withdrawal(&institution.name, score).encode_to_vec(),
        ),
    };
    effects::insert(
        conn,
        &Effect::new(names::new_id(), &score.name, effect.0, effect.1),
    )?;
    Ok(())
}
