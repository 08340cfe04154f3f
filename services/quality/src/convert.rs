//! Conversions between quality monitoring's stored rows, the scoring
//! model's types and the protos, all in one place.

use ce_proto::quality::{Contribution, GradeChange, Indicator as PIndicator, Score, ScoreState};
use ce_proto::supervision::{ReportQualityResultRequest, WithdrawQualityResultRequest};
use ce_rules::quality::{Figures, Said};
use ce_server::{ApiError, dates};
use prost::Message;

use crate::model::{self, Indicator, Value};
use crate::store::{GradeChangeRow, Graded, IndicatorRow, ScoreRow};

/// The model's indicator for the proto's; `None` for unspecified.
pub fn to_model(i: PIndicator) -> Option<Indicator> {
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

/// The proto's indicator for the model's.
pub fn to_proto(i: Indicator) -> PIndicator {
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

/// A stored indicator as the model's value, with where it came from and
/// when it was taken; `None` for an indicator this release does not know.
pub fn indicator_value(r: &IndicatorRow) -> Option<(Value, String, i64)> {
    let i = PIndicator::try_from(r.indicator).ok().and_then(to_model)?;
    Some((
        Value {
            indicator: i,
            value: r.value,
            samples: r.samples.max(0) as u64,
        },
        r.source.clone(),
        r.take_micros,
    ))
}

/// A stored score state as the proto's.
pub fn state_to_proto(g: Graded) -> ScoreState {
    match g {
        Graded::Scored => ScoreState::Scored,
        Graded::InsufficientData => ScoreState::InsufficientData,
    }
}

/// A score's resource name.
pub fn score_name(institution_id: &str, period: &str) -> String {
    format!("institutions/{institution_id}/scores/{period}")
}

/// A stored score's body.
pub fn decode(row: &ScoreRow) -> Result<Score, ApiError> {
    Score::decode(row.body.as_slice())
        .map_err(|e| ApiError::Internal(format!("score does not decode: {e}")))
}

/// A history row's body.
pub fn decode_history(body: &[u8]) -> Result<Score, ApiError> {
    Score::decode(body).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The row a computed score is stored as.
pub fn score_row(id: &str, score: &Score, compute_micros: i64) -> ScoreRow {
    ScoreRow {
        institution_id: id.to_owned(),
        period: score.period.clone(),
        province: score.province.clone(),
        field: score.field,
        state: score.state,
        score: score.score,
        grade: score.grade.clone(),
        body: score.encode_to_vec(),
        compute_micros,
    }
}

/// A model's contribution as the proto's, with its evidence's source.
pub fn contribution(
    c: &model::Contribution,
    samples: i64,
    source: String,
    taken: i64,
) -> Contribution {
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
}

/// A stored grade change as the proto's.
pub fn grade_change(r: GradeChangeRow) -> GradeChange {
    GradeChange {
        institution: format!("institutions/{}", r.institution_id),
        period: r.period,
        from_grade: r.from_grade.unwrap_or_default(),
        to_grade: r.to_grade,
        province: r.province,
        change_time: Some(dates::timestamp(r.change_micros)),
    }
}

/// A score's figures, as a report to supervision carries them.
pub fn figures(score: &Score) -> Figures<'_> {
    Figures {
        grade: &score.grade,
        score: score.score,
        model_version: &score.model_version,
    }
}

/// What a stored report or withdrawal said.
pub enum Stored {
    Report(ReportQualityResultRequest),
    Withdrawal(WithdrawQualityResultRequest),
}

impl Stored {
    /// Decodes an outbox payload: a report if `report`, else a withdrawal.
    pub fn decode(report: bool, payload: &[u8]) -> Result<Stored, ApiError> {
        let bad = |e: prost::DecodeError| {
            ApiError::Internal(format!("a stored report does not decode: {e}"))
        };
        Ok(if report {
            Stored::Report(ReportQualityResultRequest::decode(payload).map_err(bad)?)
        } else {
            Stored::Withdrawal(WithdrawQualityResultRequest::decode(payload).map_err(bad)?)
        })
    }

    /// What it said, for the rule.
    pub fn said(&self) -> Said<'_> {
        match self {
            Stored::Report(r) => Said::Reported(Figures {
                grade: &r.grade,
                score: r.score,
                model_version: &r.model_version,
            }),
            Stored::Withdrawal(_) => Said::Withdrawn,
        }
    }
}

/// The report of a poor result to supervision (Art. 26).
pub fn report(institution: &str, score: &Score) -> ReportQualityResultRequest {
    ReportQualityResultRequest {
        institution: institution.to_owned(),
        period: score.period.clone(),
        grade: score.grade.clone(),
        score: score.score,
        model_version: score.model_version.clone(),
        finding: format!("grade {} under {}", score.grade, score.model_version),
        compute_time: score.compute_time,
    }
}

/// The withdrawal of a report: the result is no longer poor.
pub fn withdrawal(institution: &str, score: &Score) -> WithdrawQualityResultRequest {
    WithdrawQualityResultRequest {
        institution: institution.to_owned(),
        period: score.period.clone(),
        grade: score.grade.clone(),
        score: score.score,
        model_version: score.model_version.clone(),
        compute_time: score.compute_time,
    }
}

/// A period's text checked, as the API's error on the `period` field.
pub fn period(text: &str) -> Result<ce_rules::quality::Period, ApiError> {
    ce_rules::quality::check_period(text).map_err(|e| ApiError::invalid("period", e.to_string()))
}

/// The outbox's state as the proto's.
pub fn outbox_status(s: ce_server::outbox::Status) -> ce_proto::quality::OutboxStatus {
    ce_proto::quality::OutboxStatus {
        pending: s.pending,
        delivered: s.delivered,
        oldest_pending_age_seconds: s.oldest_pending_age_seconds,
        oldest_last_error: s.oldest_last_error,
    }
}
