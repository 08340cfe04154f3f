//! Closing a year and counting it: the year-end sweep that turns every
//! stored year that is still open into its final state and gives engineers
//! who registered nothing a status too; and compliance statistics by
//! province and field (Art. 22).
//!
//! The sweep works a thousand engineers at a time: one query for their
//! records, the rules library in memory, and writes only for what changed,
//! so a steady-state sweep of a province costs about one read of its rows.

use ce_rules::article::{ART_21, ART_31};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ce_db::Db;
use ce_proto::crediting::{
    AnnualState, ComplianceRow, ComplianceStatistics, GetComplianceStatisticsRequest,
    SweepAnnualStatusesRequest, SweepAnnualStatusesResponse,
};
use ce_rules::RuleBook;
use ce_server::{ApiError, Call, Violations};

use crate::feed::Feed;
use crate::records::Crediting;
use crate::scope::{self, Narrowed};
use crate::status::{self, COUNTED, Sameness, Who, YearRows};
use crate::store::{self, StatusFilter};

/// Engineers per transaction.
const BATCH: i64 = 1000;
/// Batches reassessed at once (the database and the rules each get a core).
const PARALLEL: usize = 2;

fn check_year(v: &mut Violations, year: i32) {
    if year < ce_rules::ruleset::FIRST_YEAR {
        v.add("year", format!("is required: 2026 or later ({ART_31})"));
    }
}

pub(crate) fn check_province(v: &mut Violations, province: &str) {
    if !province.is_empty() && ce_proto::reference::region(province).is_none() {
        v.add("province", format!("`{province}` is not a province code"));
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub reassessed: i64,
    /// Of those, how many were written with another state, figures or
    /// explanations.
    pub changed: i64,
    pub created: i64,
    pub non_compliant: i64,
}

impl Swept {
    /// Counts a finished batch: how many it reassessed, how many changed.
    fn add(
        &mut self,
        batch: Result<Result<(i64, i64), ApiError>, tokio::task::JoinError>,
    ) -> Result<(), ApiError> {
        let (n, changed) = batch.map_err(|e| ApiError::Internal(e.to_string()))??;
        self.reassessed += n;
        self.changed += changed;
        Ok(())
    }
}

impl Crediting {
    /// The province work over whole province-years (a sweep, a
    /// reassessment) covers, `province` (None for every one) as the caller's
    /// scope left it, narrowed to this deployment's: a provincial
    /// deployment's own province when none is asked, another refused.
    pub fn deployment_province(
        &self,
        call: &Call,
        province: Option<String>,
        resource: &str,
    ) -> Result<Option<String>, ApiError> {
        let p = self.deployment.province_of_request(
            &call.caller,
            province.as_deref().unwrap_or_default(),
            resource,
        )?;
        Ok((!p.is_empty()).then_some(p))
    }

    pub async fn sweep(
        &self,
        call: &Call,
        req: SweepAnnualStatusesRequest,
    ) -> Result<SweepAnnualStatusesResponse, ApiError> {
        let mut v = Violations::new();
        check_year(&mut v, req.year);
        check_province(&mut v, &req.province);
        v.finish()?;
        let province = scope::province_wide(&call.caller, &req.province, "closing a year")?;
        let province = self.deployment_province(call, province, "annualStatuses")?;
        let today = (self.clock)();
        if req.year >= today.year() {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::YearNotEnded,
                "",
                format!(
                    "{} has not ended: a year is closed after 31 December ({ART_21})",
                    req.year
                ),
            ));
        }
        let mut swept = close(
            &self.db,
            &self.feed,
            &self.rules,
            today,
            req.year,
            province.clone(),
        )
        .await?;
        swept.created = self.fill_year(req.year, province.as_deref()).await?;
        // What the sweep found, counted from what it stored.
        let counts = {
            let f = StatusFilter {
                year: req.year,
                province,
                ..Default::default()
            };
            self.db
                .read(move |conn| store::status_counts(conn, &f))
                .await?
        };
        swept.non_compliant = counts
            .iter()
            .filter(|c| c.2 == AnnualState::NonCompliant)
            .map(|c| c.3)
            .sum();
        // Every status the year had before it was filled was considered.
        swept.reassessed = counts.iter().map(|c| c.3).sum::<i64>() - swept.created;
        // Closing a year is a decision an auditor looks for: who closed which year, when.
        let entry = call.audit(&format!("annualStatuses/{}", req.year), "OK");
        self.db
            .write(move |conn| ce_db::audit::append(conn, &entry))
            .await?;
        Ok(SweepAnnualStatusesResponse {
            reassessed: swept.reassessed,
            created: swept.created,
            non_compliant: swept.non_compliant,
        })
    }

    /// Gives every engineer the registry holds (of one province, or all)
    /// who was registered by the end of `year` and has no status for it a
    /// status: with no records, non-compliant. Returns how many.
    async fn fill_year(&self, year: i32, province: Option<&str>) -> Result<i64, ApiError> {
        let today = (self.clock)();
        let next_year = time::Date::from_calendar_date(year + 1, time::Month::January, 1)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let end = ce_rules::dates::midnight(next_year).unix_timestamp();
        let mut token = String::new();
        let mut created = 0;
        loop {
            let (engineers, next) = self
                .registry
                .list_engineers(province.unwrap_or_default(), token)
                .await?;
            let who: Vec<Who> = engineers
                .iter()
                .filter(|e| e.create_time.as_ref().is_none_or(|t| t.seconds < end))
                .map(Who::of)
                .collect();
            let rules = self.rules.clone();
            created += self
                .feed
                .write(&self.db, move |conn, changes| {
                    let ids: Vec<String> = who.iter().map(|w| w.engineer_id.clone()).collect();
                    store::lock_engineers(conn, &ids)?;
                    let have: BTreeSet<String> =
                        store::with_status(conn, &ids, year)?.into_iter().collect();
                    let mut n = 0;
                    for w in who.iter().filter(|w| !have.contains(&w.engineer_id)) {
                        status::recompute(conn, changes, &rules, w, year, today)?;
                        n += 1;
                    }
                    Ok(n)
                })
                .await?;
            if next.is_empty() {
                return Ok(created);
            }
            token = next;
        }
    }

    pub async fn statistics(
        &self,
        call: &Call,
        req: GetComplianceStatisticsRequest,
    ) -> Result<ComplianceStatistics, ApiError> {
        let mut v = Violations::new();
        check_year(&mut v, req.year);
        check_province(&mut v, &req.province);
        if req.field != 0 && ce_proto::common::Field::try_from(req.field).is_err() {
            v.add("field", "is not a field");
        }
        v.finish()?;
        let n = scope::narrow_list(
            &call.caller,
            Narrowed {
                province: (!req.province.is_empty()).then(|| req.province.clone()),
                field: (req.field != 0).then_some(req.field),
                ..Default::default()
            },
            true,
        )?;
        let f = status::status_filter(req.year, None, n);
        let counts = self
            .db
            .read(move |conn| store::status_counts(conn, &f))
            .await?;
        // Hours summed exactly, in centi-hours, and turned into hours once.
        let mut rows: Vec<(ComplianceRow, i64)> = Vec::new();
        let mut total = (ComplianceRow::default(), 0);
        for (province, field, state, count, centi) in counts {
            if rows
                .last()
                .is_none_or(|(r, _)| r.province != province || r.field != field)
            {
                let row = ComplianceRow {
                    province: province.clone(),
                    field,
                    ..Default::default()
                };
                rows.push((row, 0));
            }
            for r in [rows.last_mut(), Some(&mut total)].into_iter().flatten() {
                add(&mut r.0, state, count);
                r.1 += centi;
            }
        }
        let finish = |(mut r, centi): (ComplianceRow, i64)| {
            let complete = r.compliant + r.deemed_complete + r.made_up;
            r.completion_rate = if r.engineers == 0 {
                0.0
            } else {
                complete as f64 / r.engineers as f64
            };
            r.total_hours = centi as f64 / 100.0;
            r
        };
        Ok(ComplianceStatistics {
            year: req.year,
            rows: rows.into_iter().map(finish).collect(),
            total: Some(finish(total)),
        })
    }
}

fn add(r: &mut ComplianceRow, state: AnnualState, count: i64) {
    r.engineers += count;
    match state {
        AnnualState::InProgress => r.in_progress += count,
        AnnualState::Compliant => r.compliant += count,
        AnnualState::DeemedComplete => r.deemed_complete += count,
        AnnualState::Deferred => r.deferred += count,
        AnnualState::MadeUp => r.made_up += count,
        AnnualState::NonCompliant => r.non_compliant += count,
        AnnualState::Unspecified => {}
    }
}

/// Closes `year` (of one province, or all) as of `today`, a day after it
/// ended. Statuses are exact after every write, so what a year's end
/// changes is only the state of the years still open, and the close is a
/// state transition (`ce_rules::close::after_year_end`, Art. 18-20): one
/// `UPDATE` a province moves its open verdicts to their final state, and
/// the verdicts moved get a feed entry each; no record or body is read.
/// Engineers an Art. 20 deferral links to this year or the one before take
/// the careful path, through their records ([`status::recompute`]).
pub async fn close(
    db: &Db,
    feed: &Feed,
    rules: &Arc<RuleBook>,
    today: time::Date,
    year: i32,
    province: Option<String>,
) -> Result<Swept, ApiError> {
    let p = province.clone();
    let careful = db
        .read(move |conn| Ok::<_, ApiError>(store::deferred_of_year(conn, year, p.as_deref())?))
        .await?;
    let mut swept = reassess_engineers(db, feed, rules, today, year, careful).await?;
    let provinces = db
        .read(move |conn| {
            Ok::<_, ApiError>(store::provinces_in_state(
                conn,
                year,
                province.as_deref(),
                AnnualState::InProgress,
            )?)
        })
        .await?;
    // With no deferral, every open year ends the same way.
    let ends_as = ce_rules::close::after_year_end(
        ce_rules::Status::InProgress,
        year,
        year,
        false,
        &ce_rules::Shortfall::default(),
    );
    for province in provinces {
        let moved = close_province(db, feed, year, today, province, ends_as).await?;
        swept.reassessed += moved;
        swept.changed += moved;
    }
    Ok(swept)
}

/// Moves the open verdicts of `year` in `province` to `ends_as`, with a
/// feed entry each, in one transaction; returns how many moved.
async fn close_province(
    db: &Db,
    feed: &Feed,
    year: i32,
    today: time::Date,
    province: String,
    ends_as: ce_rules::Status,
) -> Result<i64, ApiError> {
    let (ended, _) = crate::convert::annual_state(ends_as);
    feed.write(db, move |conn, changes| {
        let at = ce_server::call::now_micros();
        let verdict = crate::convert::status_verdict(ended, ends_as.is_complete(), at);
        let on = ce_server::dates::format(today);
        let close = store::Close {
            year,
            province: &province,
            from: AnnualState::InProgress,
            to: ended,
            verdict: &verdict,
            on: &on,
            at_micros: at,
        };
        let moved = store::close_verdicts(conn, &close)?;
        for engineer_id in &moved {
            changes.status(engineer_id, year, &province);
        }
        Ok::<_, ApiError>(moved.len() as i64)
    })
    .await
}

/// Reassesses every stored status of `year` (of one province, or all),
/// a batch of engineers per transaction, writing only what changed, as of
/// `today`.
pub async fn reassess(
    db: &Db,
    feed: &Feed,
    rules: &Arc<RuleBook>,
    today: time::Date,
    year: i32,
    province: Option<String>,
) -> Result<Swept, ApiError> {
    let ids = db
        .read(move |conn| {
            Ok::<_, ApiError>(store::status_engineers(conn, year, province.as_deref())?)
        })
        .await?;
    reassess_engineers(db, feed, rules, today, year, ids).await
}

/// Reassesses these engineers' stored statuses of `year`, a batch per
/// transaction, two batches at once.
pub(crate) async fn reassess_engineers(
    db: &Db,
    feed: &Feed,
    rules: &Arc<RuleBook>,
    today: time::Date,
    year: i32,
    ids: Vec<String>,
) -> Result<Swept, ApiError> {
    let mut swept = Swept::default();
    if ids.is_empty() {
        return Ok(swept);
    }
    // Batches look engineers up by id: planned from stale statistics (a
    // year loaded in bulk minutes ago), each would read the whole table.
    if let Err(e) = db.refresh_statistics(crate::bulk::BULK_TABLES).await {
        tracing::warn!(error = %e, "planner statistics not refreshed before reassessing");
    }
    let mut running = tokio::task::JoinSet::new();
    for batch in ids.chunks(BATCH as usize) {
        if running.len() >= PARALLEL
            && let Some(done) = running.join_next().await
        {
            swept.add(done)?;
        }
        running.spawn(reassess_batch(
            db.clone(),
            feed.clone(),
            rules.clone(),
            today,
            year,
            batch.to_vec(),
        ));
    }
    while let Some(done) = running.join_next().await {
        swept.add(done)?;
    }
    Ok(swept)
}

/// Reassesses one batch of engineers' `year` in one transaction; returns
/// how many.
async fn reassess_batch(
    db: Db,
    feed: Feed,
    rules: Arc<RuleBook>,
    today: time::Date,
    year: i32,
    ids: Vec<String>,
) -> Result<(i64, i64), ApiError> {
    feed.write(&db, move |conn, changes| {
        store::lock_engineers(conn, &ids)?;
        // The statuses without their bytes and the records without their
        // explanations: an unchanged year is recognised by its digest, and
        // only changed years read what they replace.
        let heads = store::status_heads_of(conn, &ids, year)?;
        // Art. 20 chains (a deferral of this year or the one before) take the careful path.
        let chained: BTreeSet<String> = store::deferred_among(conn, &ids, &[year - 1, year])?
            .into_iter()
            .collect();
        let mut records: BTreeMap<String, Vec<store::RecordRow>> = BTreeMap::new();
        for r in store::records_for_rules_of(conn, &ids, year, &COUNTED)? {
            records.entry(r.engineer_id.clone()).or_default().push(r);
        }
        // In id order, as every other assessment reads them (`records_of`,
        // `recompute_batch`): the order the explanations are listed in.
        for own in records.values_mut() {
            own.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        }
        let mut changed = Vec::new();
        let mut writes = store::StatusWrites::default();
        let mut chained_here = 0;
        for head in &heads {
            let who = Who::held(
                &head.engineer_id,
                &head.province,
                head.field,
                &head.employer_id,
            );
            if chained.contains(&head.engineer_id) {
                let before = changes.statuses_noted();
                status::recompute(conn, changes, &rules, &who, year, today)?;
                if changes.statuses_noted() > before {
                    chained_here += 1;
                }
                continue;
            }
            let rows =
                YearRows::plain(conn, records.remove(&head.engineer_id).unwrap_or_default())?;
            let ev = status::evaluate(&rules, &who, year, today, &rows, &[])?;
            match status::compared(head, &who, &ev) {
                // A status and its records' explanations are written
                // together, so the same status means the same explanations.
                Sameness::Same => {}
                // The same body, so the same explanations: only the
                // verdict's rule set is written, and nothing is read back.
                Sameness::RuleSetOnly => writes.rule_sets.push(ev.rule_set_of(head)),
                Sameness::Differs => changed.push((head, who, rows, ev)),
            }
        }
        // What the years to write replace: their records' explanations,
        // compared before any is written again.
        let moved = changed.len() as i64;
        let ids: Vec<String> = changed
            .iter()
            .map(|(head, ..)| head.engineer_id.clone())
            .collect();
        let mut explanations: BTreeMap<String, Option<Vec<u8>>> =
            store::explanations_of(conn, &ids, year, &COUNTED)?
                .into_iter()
                .collect();
        for (head, who, mut rows, ev) in changed {
            for r in &mut rows.own {
                r.explanation = explanations.remove(&r.id).flatten();
            }
            status::store_evaluated(
                conn,
                changes,
                &who,
                &rows.own,
                Some(head),
                ev,
                Some(&mut writes),
            )?;
        }
        writes.flush(conn)?;
        Ok((heads.len() as i64, moved + chained_here))
    })
    .await
}
