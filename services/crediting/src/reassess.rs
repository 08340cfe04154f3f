//! Reassessing stored years after the rules changed: a full recompute as
//! its own operation. Each stored year names the rule set it was assessed
//! with (`RuleSet::fingerprint`, docs/rules.md); when a province's overlay
//! is edited or a rules fix is released, only the province-years whose
//! stored years name other rules are reassessed from their records,
//! writing only what changed. Crediting does this at start-up in the
//! background, and operators ask for it with `ReassessAnnualStatuses`,
//! which streams its progress.

use std::sync::Arc;

use ce_db::Db;
use ce_proto::crediting::{ReassessAnnualStatusesRequest, ReassessAnnualStatusesResponse};
use ce_rules::RuleBook;
use ce_server::{ApiError, Call, Violations};
use tokio::sync::mpsc;

use crate::feed::Feed;
use crate::records::Crediting;
use crate::scope;
use crate::store;
use crate::sweep;

/// Engineers reassessed between two progress messages.
const STEP: usize = 10_000;

/// Which stored years to look at.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// One province, or all.
    pub province: Option<String>,
    /// One year, or all.
    pub year: Option<i32>,
    /// Every stored year, not only those assessed under other rules.
    pub all: bool,
}

/// One province-year to reassess, and its engineers.
struct Due {
    province: String,
    year: i32,
    engineers: Vec<String>,
}

/// The province-years in `scope` with stored years assessed under other
/// rules than their province and year have now (every one with `all`).
async fn due(db: &Db, rules: &RuleBook, scope: &Scope) -> Result<Vec<Due>, ApiError> {
    let (province, year) = (scope.province.clone(), scope.year);
    let in_use = db
        .read(move |conn| {
            Ok::<_, ApiError>(store::rule_sets_in_use(conn, province.as_deref(), year)?)
        })
        .await?;
    let mut places: Vec<(String, i32, Option<String>)> = Vec::new();
    for (province, year, rule_set, _) in in_use {
        let set = rules
            .for_year(&province, year)
            .map_err(|e| ApiError::Internal(format!("no rule set for a stored year: {e}")))?;
        let now = rules.fingerprint(set);
        let stale = scope.all || rule_set.as_deref() != Some(now.as_str());
        let listed = places
            .last()
            .is_some_and(|p| (&p.0, p.1) == (&province, year));
        if stale && !listed {
            places.push((province, year, (!scope.all).then_some(now)));
        }
    }
    let mut due = Vec::with_capacity(places.len());
    for (province, year, now) in places {
        let p = province.clone();
        let engineers = db
            .read(move |conn| {
                Ok::<_, ApiError>(store::assessed_under_other_rules(
                    conn,
                    &p,
                    year,
                    now.as_deref(),
                )?)
            })
            .await?;
        due.push(Due {
            province,
            year,
            engineers,
        });
    }
    Ok(due)
}

/// Reassesses the stored years `scope` names, as of `today`, a step of
/// engineers at a time, telling `progress` at each province-year's start,
/// after each step, and once at the end (`done`). Returns the last message.
pub async fn run(
    db: &Db,
    feed: &Feed,
    rules: &Arc<RuleBook>,
    today: time::Date,
    scope: &Scope,
    mut progress: impl FnMut(ReassessAnnualStatusesResponse),
) -> Result<ReassessAnnualStatusesResponse, ApiError> {
    for d in due(db, rules, scope).await? {
        let mut at = ReassessAnnualStatusesResponse {
            province: d.province.clone(),
            year: d.year,
            total: d.engineers.len() as i64,
            ..Default::default()
        };
        progress(at.clone());
        for step in d.engineers.chunks(STEP) {
            let swept =
                sweep::reassess_engineers(db, feed, rules, today, d.year, step.to_vec()).await?;
            at.reassessed += swept.reassessed;
            at.changed += swept.changed;
            progress(at.clone());
        }
    }
    let done = ReassessAnnualStatusesResponse {
        done: true,
        ..Default::default()
    };
    progress(done.clone());
    Ok(done)
}

/// At start-up, in the background: the stored years assessed under other
/// rules than now are reassessed, and each province-year's progress is
/// logged. A failure is logged; the next start tries again.
pub fn spawn_at_start(c: Crediting) {
    tokio::spawn(async move {
        let today = (c.clock)();
        let result = run(&c.db, &c.feed, &c.rules, today, &Scope::default(), |p| {
            if p.done {
                return;
            }
            if p.total > 0 && (p.reassessed == 0 || p.reassessed == p.total) {
                tracing::info!(
                    province = %p.province,
                    year = p.year,
                    total = p.total,
                    reassessed = p.reassessed,
                    changed = p.changed,
                    "reassessing years stored under other rules"
                );
            }
        })
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "reassessing years stored under other rules stopped");
        }
    });
}

impl Crediting {
    /// `ReassessAnnualStatuses`: checked and scoped here, then run in the
    /// background, its progress sent on the returned channel; an audit row
    /// names who asked, once the request is accepted.
    pub async fn reassess(
        &self,
        call: &Call,
        req: ReassessAnnualStatusesRequest,
    ) -> Result<
        mpsc::UnboundedReceiver<Result<ReassessAnnualStatusesResponse, tonic::Status>>,
        ApiError,
    > {
        let mut v = Violations::new();
        if req.year != 0 && req.year < ce_rules::ruleset::FIRST_YEAR {
            v.add(
                "year",
                format!(
                    "must be 0 (every year) or {} or later ({})",
                    ce_rules::ruleset::FIRST_YEAR,
                    ce_rules::article::ART_31
                ),
            );
        }
        sweep::check_province(&mut v, &req.province);
        v.finish()?;
        let province =
            scope::province_wide(&call.caller, &req.province, "reassessing stored years")?;
        let province = self.deployment_province(call, province, "annualStatuses")?;
        let scope = Scope {
            province,
            year: (req.year != 0).then_some(req.year),
            all: req.all,
        };
        let entry = call.audit("annualStatuses", "OK");
        self.db
            .write(move |conn| ce_db::audit::append(conn, &entry))
            .await?;
        // A handful of messages a province-year: unbounded is bounded.
        let (tx, rx) = mpsc::unbounded_channel();
        let c = self.clone();
        tokio::spawn(async move {
            let today = (c.clock)();
            let sent = tx.clone();
            let result = run(&c.db, &c.feed, &c.rules, today, &scope, move |p| {
                // A caller that went away stops hearing, not the work.
                let _ = sent.send(Ok(p));
            })
            .await;
            if let Err(e) = result {
                let _ = tx.send(Err(e.into()));
            }
        });
        Ok(rx)
    }
}
