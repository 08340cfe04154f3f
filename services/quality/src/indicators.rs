//! Indicators measured by departments, services or the institution itself
//! (Art. 25), each rescoring the institution for its period.

use ce_proto::quality::{Indicator as PIndicator, RecordIndicatorRequest, Score};
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, Violations, names};

use crate::convert;
use crate::scope::{for_caller, may_record};
use crate::scores::Quality;
use crate::store::{self, IndicatorRow};

/// The request's indicator, value, samples and source, checked.
fn check(req: &RecordIndicatorRequest) -> Result<PIndicator, ApiError> {
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
    Ok(indicator)
}

impl Quality {
    pub async fn record_indicator(
        &self,
        call: &Call,
        req: RecordIndicatorRequest,
    ) -> Result<Score, ApiError> {
        convert::period(&req.period)?;
        let indicator = check(&req)?;
        let institution = self.clients.institution(&req.institution).await?;
        may_record(&call.caller, &req.institution, &institution, indicator)?;
        self.deployment
            .accepts_write(&call.caller, &institution.province, &req.institution)?;
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
}
