//! What the handlers share ([`Quality`]), and reading scores: one score,
//! a period's ranking, an institution's history.

use std::sync::Arc;

use ce_proto::common::Role;
use ce_proto::quality::{ListScoresRequest, ListScoresResponse, OutboxStatus, Score, ScoringModel};
use ce_server::outbox::Outbox;
use ce_server::paging::Page;
use ce_server::scope::deny;
use ce_server::{ApiError, Call, dates, names};

use crate::convert;
use crate::scope::{Scope, for_caller, may_read, may_read_histories};
use crate::store::{self, RankKey};

pub use crate::peers::{Clients, RECORD_GRADE, REPORT_POOR, WITHDRAW_POOR};

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct Quality {
    pub db: ce_db::Db,
    pub clients: Clients,
    pub models: Arc<crate::model::Models>,
    pub outbox: Outbox,
    /// Bumped at every score computed here: wakes this replica's watches,
    /// which read the scores themselves from the database.
    pub computed: tokio::sync::watch::Sender<u64>,
    /// Today (China time): which periods have ended and may be closed.
    pub clock: dates::Clock,
    /// Which province's writes this quality monitoring accepts
    /// (`ce_server::deployment`; docs/deploying.md, "One country, many
    /// systems"): each write passes it with its institution's province,
    /// after the caller's scope and before anything is stored.
    pub deployment: ce_server::deployment::Deployment,
}

/// Where a ranking page starts, from its token.
fn rank_key(token: &str) -> Result<RankKey, ApiError> {
    let bad = || ApiError::invalid("page_token", "is not a token of this list");
    let mut parts = token.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(sc), Some(id)) => Ok((
            s.parse().map_err(|_| bad())?,
            sc.parse().map_err(|_| bad())?,
            id.to_owned(),
        )),
        _ => Err(bad()),
    }
}

impl Quality {
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
        let score = convert::decode(&row)?;
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
        convert::period(&req.period)?;
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
        let after = page.after.as_deref().map(rank_key).transpose()?;
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
            |r| convert::decode(&r).map(|s| for_caller(c, s)),
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
        may_read_histories(&call.caller)?;
        let bodies = self
            .db
            .read(move |conn| Ok::<_, ApiError>(store::history(conn, &id)?))
            .await?;
        let scores: Vec<Score> = bodies
            .iter()
            .map(|b| convert::decode_history(b))
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

    /// The model scoring institutions of `province`, as written. Anyone
    /// signed in may read it.
    pub fn scoring_model(&self, province: &str) -> ScoringModel {
        let model = self.models.for_province(province);
        ScoringModel {
            version: model.version.clone(),
            definition: model.definition.clone(),
        }
    }

    /// The outbox's state, to whoever may see it.
    pub async fn outbox_status(&self, call: &Call) -> Result<OutboxStatus, ApiError> {
        ce_server::outbox::status_for(&self.db, &call.caller)
            .await
            .map(convert::outbox_status)
    }
}
