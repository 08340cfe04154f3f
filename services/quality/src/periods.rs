//! Monitoring periods closed and reopened (Art. 25): a period is closed
//! once it has ended, and its scores become final; a reopened period's
//! scores are provisional until the next close.

use ce_db::audit;
use ce_proto::quality::{
    ClosePeriodRequest, ClosePeriodResponse, ReopenPeriodRequest, ReopenPeriodResponse, Score,
    ScoreStanding, ScoreState,
};
use ce_rules::article::ART_25;
use ce_rules::quality as rules;
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, dates};
use prost::Message;

use crate::convert;
use crate::scope::{period_scope, provinces_of};
use crate::scores::Quality;
use crate::store;

/// Counts a refreshed score in a close's answer.
fn count(out: &mut ClosePeriodResponse, score: &Score) {
    out.institutions += 1;
    if score.state() == ScoreState::Scored {
        out.scored += 1;
    } else {
        out.insufficient_data += 1;
    }
    if score.poor {
        out.poor += 1;
    }
}

impl Quality {
    /// Closes a period that has ended: marks it closed for the province
    /// (or all), then refreshes and rescores every institution of it, whose
    /// scores become final (Art. 25).
    pub async fn close_period(
        &self,
        call: &Call,
        req: ClosePeriodRequest,
    ) -> Result<ClosePeriodResponse, ApiError> {
        let period = convert::period(&req.period)?;
        let province = period_scope(&call.caller, &req.province, "closing a monitoring period")?;
        let province = self.in_deployment(call, province, &req.period)?;
        if let Err(last) = rules::may_close(period, self.clock.today()) {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::PeriodNotEnded,
                "",
                format!(
                    "{} runs to {}: a monitoring period is closed once it has ended, and its results are final from then ({ART_25})",
                    req.period,
                    dates::format(last),
                ),
            ));
        }
        self.mark_period(call, &req.period, &province, None).await?;
        let mut out = ClosePeriodResponse::default();
        let mut token = String::new();
        loop {
            let (institutions, next) = self
                .clients
                .institutions_page(province.as_deref().unwrap_or_default(), token)
                .await?;
            for i in &institutions {
                let score = self.refresh(call, &i.name, &req.period).await?;
                count(&mut out, &score);
            }
            if next.is_empty() {
                return Ok(out);
            }
            token = next;
        }
    }

    /// The province (`None`: every one) a close or reopen of `period` for
    /// `province`, as the caller's scope narrowed it, covers in this
    /// deployment: a provincial one takes none as its own and refuses
    /// another; the national one takes the ministry's and the suite's
    /// services' (`Deployment::province_of_request`).
    fn in_deployment(
        &self,
        call: &Call,
        province: Option<String>,
        period: &str,
    ) -> Result<Option<String>, ApiError> {
        let province = self.deployment.province_of_request(
            &call.caller,
            province.as_deref().unwrap_or_default(),
            &format!("scores/{period}"),
        )?;
        Ok((!province.is_empty()).then_some(province))
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
        req: ReopenPeriodRequest,
    ) -> Result<ReopenPeriodResponse, ApiError> {
        convert::period(&req.period)?;
        let province = period_scope(&call.caller, &req.province, "reopening a monitoring period")?;
        let province = self.in_deployment(call, province, &req.period)?;
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
                    let mut score = convert::decode(&row)?;
                    if score.standing() == ScoreStanding::Provisional {
                        continue;
                    }
                    score.set_standing(ScoreStanding::Provisional);
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
        Ok(ReopenPeriodResponse { scores })
    }
}
