//! Hour records (Art. 17, 21, 22): registration on the three routes,
//! confirmation and rejection, and scoped reads. Every change to a counted
//! record recomputes its year in the same transaction.

use ce_rules::article::{ART_27, ART_31};
use ce_rules::revocation::Revoker;
use std::sync::Arc;

use ce_db::{Db, audit};
use ce_proto::common::Role;
use ce_proto::crediting::{
    CheckTitleEligibilityRequest, CheckTitleEligibilityResponse, HourRecord,
    ListHourRecordsRequest, ListHourRecordsResponse, RecordState, RevokeHourRecordsRequest,
};
use ce_rules::RuleBook;
use ce_server::call::now_micros;
use ce_server::dates;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations};
use prost::Message;

use crate::convert;
use crate::feed::Changes;
use crate::names;
use crate::registry::Registry;
use crate::scope::{self, Narrowed, Subject};
use crate::status::{self, Who};
use crate::store::{self, RecordFilter, RecordRow};

/// Today's date, China time. Injected so tests can fix the day the
/// date-dependent rules (Art. 17, 20, 21) see.
pub type Clock = Arc<dyn Fn() -> time::Date + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Arc::new(dates::today)
}

/// What the handlers share.
#[derive(Clone)]
pub struct Crediting {
    pub db: Db,
    pub registry: Arc<Registry>,
    /// Asked whether the case a service's revocation names decided it.
    pub supervision: Arc<crate::supervision::Supervision>,
    pub rules: Arc<RuleBook>,
    pub clock: Clock,
    pub feed: crate::feed::Feed,
    pub certificates: Arc<crate::certificates::Signer>,
    /// `GetAnnualStatus`'s point reads of stored statuses, batched under load.
    pub statuses: ce_db::batch::Batcher<crate::store::StatusKey, crate::store::StatusRow>,
    /// Which province's hours this crediting accepts writes about
    /// (`deployment.rs` in ce-server): by the engineer's province as
    /// crediting records it.
    pub deployment: ce_server::deployment::Deployment,
}

fn subject_of(row: &RecordRow) -> (String, Option<String>, Option<String>) {
    (
        names::engineer_name(&row.engineer_id),
        row.employer_id.as_deref().map(names::employer_name),
        row.institution_id
            .as_ref()
            .map(|i| format!("institutions/{i}")),
    )
}

fn check(
    row: &RecordRow,
    f: impl FnOnce(&Subject) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (engineer, employer, institution) = subject_of(row);
    f(&Subject {
        engineer: &engineer,
        province: &row.province,
        field: row.field,
        employer: employer.as_deref(),
        institution: institution.as_deref(),
    })
}

/// The years a record counts in, oldest first.
pub fn years_of(row: &RecordRow) -> std::ops::RangeInclusive<i32> {
    row.year..=row.last_year.max(row.year)
}

/// A stable digest of what a record says, to tell a retry from a reused key.
pub(crate) fn digest(
    engineer: &str,
    activity: &[u8],
    registry_activity: &str,
    claimed: Option<i64>,
) -> String {
    // Each part ends with 0xff, so no two splits of the same bytes agree.
    let mut h = ce_server::hash::Fnv64::default();
    for part in [
        engineer.as_bytes(),
        activity,
        registry_activity.as_bytes(),
        &claimed.unwrap_or(-1).to_le_bytes(),
    ] {
        h.write(part).write(&[0xff]);
    }
    format!("{:016x}", h.finish())
}

/// The digest a record would be stored with, from the request alone:
/// what a re-send is matched on before anything that depends on the clock
/// or the registry is checked. None when the request is malformed (prepare
/// then says why).
fn request_digest(hr: &HourRecord) -> Option<String> {
    let engineer_id = names::engineer_id("hour_record.engineer", &hr.engineer).ok()?;
    let claimed = if hr.claimed_hours == 0.0 {
        None
    } else {
        Some(i64::from(
            ce_rules::Hours::from_f64(hr.claimed_hours)?.centi(),
        ))
    };
    let activity = HourRecord {
        activity: hr.activity.clone(),
        ..Default::default()
    }
    .encode_to_vec();
    Some(digest(
        engineer_id,
        &activity,
        &hr.registry_activity,
        claimed,
    ))
}

/// A re-send of `hr`, whose client key the submitter used for `existing`:
/// the stored record, as the first attempt answered it, whatever changed
/// since (the Art. 21 deadline passed, the institution's standing, the
/// registry), so a client that retries gets the same answers. The same key
/// with other content is ALREADY_EXISTS.
pub fn replayed(existing: &RecordRow, hr: &HourRecord) -> Result<RecordRow, ApiError> {
    if request_digest(hr).as_deref() == Some(existing.content_digest.as_str()) {
        Ok(existing.clone())
    } else {
        Err(ApiError::AlreadyExists(format!(
            "client_key {} was used for a different record ({})",
            hr.client_key,
            names::record_name(&existing.id)
        )))
    }
}

/// Stores a prepared record unless its client key was used already: the
/// same key and content answer with the record stored before (and `false`),
/// the same key with other content is ALREADY_EXISTS. Audits the insert.
pub fn save(
    conn: &mut ce_db::DbConnection,
    changes: &mut Changes,
    call: &Call,
    row: RecordRow,
) -> Result<(RecordRow, bool), ApiError> {
    if let Some(key) = &row.client_key
        && let Some(existing) = store::record_by_key(conn, &row.submitter, key)?
    {
        return if existing.content_digest == row.content_digest {
            Ok((existing, false))
        } else {
            Err(ApiError::AlreadyExists(format!(
                "client_key {key} was used for a different record ({})",
                names::record_name(&existing.id)
            )))
        };
    }
    store::insert_record(conn, &row)?;
    crate::claims::note(conn, &row)?;
    changes.record(&row.id, &row.engineer_id, row.year, &row.province);
    audit::append(conn, &call.audit(&names::record_name(&row.id), "OK"))?;
    Ok((row, true))
}

/// The records a revocation names, checked (Art. 27).
fn revocation_ids(req: &RevokeHourRecordsRequest) -> Result<Vec<String>, ApiError> {
    let mut v = Violations::new();
    if req.names.is_empty() || req.names.len() > 1000 {
        v.add("names", "between 1 and 1000 records");
    }
    let ids: Vec<String> = req
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match names::record_id("names", n) {
            Ok(id) => Some(id.to_owned()),
            Err(_) => {
                v.add(format!("names[{i}]"), "must be `hourRecords/{id}`");
                None
            }
        })
        .collect();
    if req.reason.trim().is_empty() {
        v.add(
            "reason",
            format!("is required: why the hours are revoked ({ART_27})"),
        );
    }
    if req.case_reference.trim().is_empty() {
        v.add(
            "case_reference",
            "is required: the case that decided the revocation",
        );
    }
    v.finish()?;
    Ok(ids)
}

/// A revocation decided and checked, to apply in one transaction.
struct Revocation {
    call: Call,
    rules: Arc<RuleBook>,
    /// The reason, with the case that decided it.
    reason: String,
    today: time::Date,
    /// The records' engineers as the registry has them now, by id.
    who: std::collections::BTreeMap<String, Who>,
    ids: Vec<String>,
}

impl Revocation {
    /// Revokes the submitted and confirmed records among `ids`, recomputes
    /// the years they counted in (and the years they made up), revokes
    /// those years' certificates, and reassesses the engineers whose claims
    /// they contested. The records as they are after.
    fn apply(
        &self,
        conn: &mut ce_db::DbConnection,
        changes: &mut Changes,
    ) -> Result<Vec<RecordRow>, ApiError> {
        let engineers: Vec<String> = self.who.keys().cloned().collect();
        store::lock_engineers(conn, &engineers)?;
        let mut touched = std::collections::BTreeSet::new();
        let mut revoked_claims = Vec::new();
        for id in &self.ids {
            let row = store::get_record(conn, id)?
                .ok_or_else(|| names::not_found(&names::record_name(id)))?;
            if row.is(RecordState::Confirmed) || row.is(RecordState::Submitted) {
                store::decide(
                    conn,
                    id,
                    RecordState::Revoked,
                    &self.call.caller.subject,
                    Some(&self.reason),
                    now_micros(),
                )?;
                audit::append(conn, &self.call.audit(&names::record_name(id), "OK"))?;
                changes.record(id, &row.engineer_id, row.year, &row.province);
                revoked_claims.push(row.clone());
                if row.is(RecordState::Confirmed) {
                    for year in years_of(&row) {
                        touched.insert((row.engineer_id.clone(), year));
                    }
                    // The year it made up no longer has these hours either (Art. 20).
                    if let Some(earlier) = row.make_up_for {
                        touched.insert((row.engineer_id.clone(), earlier));
                    }
                }
            } else if row.is(RecordState::Revoked) {
                // Already revoked (a delivery repeated, or two
                // departments on one case): nothing changes, the
                // call is still on the record.
                audit::append(conn, &self.call.audit(&names::record_name(id), "OK"))?;
            }
        }
        for (engineer, year) in touched {
            let w = self.who.get(&engineer).ok_or_else(|| {
                ApiError::precondition(
                    ce_server::reason::Reason::EngineerNotInRegistry,
                    format!("engineers/{engineer}"),
                    format!("engineers/{engineer} is no longer in the registry"),
                )
            })?;
            status::recompute(conn, changes, &self.rules, w, year, self.today)?;
            // A certificate of the year no longer states what stands (Art. 27).
            store::certificates::revoke_year(
                conn,
                &engineer,
                year,
                &format!("records of the year revoked ({ART_27}): {}", self.reason),
                now_micros(),
            )?;
        }
        for row in &revoked_claims {
            reassess_claimants(conn, changes, &self.rules, row, self.today)?;
        }
        let mut out = Vec::with_capacity(self.ids.len());
        for id in &self.ids {
            out.extend(store::get_record(conn, id)?);
        }
        Ok(out)
    }
}

/// Reassesses the years of other engineers whose confirmed claims on the
/// item `row` names conflict with it, so the signal appears (or goes) on
/// their side too when `row` is stored or changes state (Art. 27).
fn reassess_claimants(
    conn: &mut ce_db::DbConnection,
    changes: &mut Changes,
    rules: &ce_rules::RuleBook,
    row: &RecordRow,
    today: time::Date,
) -> Result<(), ApiError> {
    for (who, year) in crate::claims::others_to_reassess(conn, row)? {
        status::recompute(conn, changes, rules, &who, year, today)?;
    }
    Ok(())
}

impl Crediting {
    /// Registers a record on the route the caller's role calls for (Art. 21).
    pub async fn create(&self, call: &Call, hr: HourRecord) -> Result<HourRecord, ApiError> {
        let (row, who) = match self.prepare(call, &hr).await {
            Ok(prepared) => prepared,
            // Refused now, but perhaps stored by an earlier attempt (before
            // the deadline passed, or a standing changed): a re-send gets
            // that answer. Accepted re-sends are matched by `save`.
            Err(refused) if refused.is_refusal() && !hr.client_key.is_empty() => {
                let (submitter, key) = (call.caller.organisation(), hr.client_key.clone());
                let existing = self
                    .db
                    .read(move |conn| {
                        Ok::<_, ApiError>(store::record_by_key(conn, &submitter, &key)?)
                    })
                    .await?;
                return match existing {
                    Some(existing) => convert::record_to_proto(replayed(&existing, &hr)?),
                    None => Err(refused),
                };
            }
            Err(e) => return Err(e),
        };
        let today = (self.clock)();
        let call = call.clone();
        let rules = self.rules.clone();
        let row = self
            .feed
            .write(&self.db, move |conn, changes| {
                let (row, inserted) = save(conn, changes, &call, row)?;
                if inserted && row.is(RecordState::Confirmed) {
                    for year in years_of(&row) {
                        status::recompute(conn, changes, &rules, &who, year, today)?;
                    }
                }
                if inserted {
                    reassess_claimants(conn, changes, &rules, &row, today)?;
                }
                Ok(store::get_record(conn, &row.id)?.unwrap_or(row))
            })
            .await?;
        convert::record_to_proto(row)
    }

    /// Replaces a record with a corrected one; the old one is kept as
    /// SUPERSEDED (records are never edited in place, `docs/product.md`).
    pub async fn correct(
        &self,
        call: &Call,
        name: &str,
        hr: HourRecord,
    ) -> Result<HourRecord, ApiError> {
        let old_id = names::record_id("name", name)?.to_owned();
        let old = {
            let id = old_id.clone();
            self.db
                .read(move |conn| store::get_record(conn, &id))
                .await?
                .ok_or_else(|| names::not_found(name))?
        };
        if old.submitter != call.caller.organisation() {
            return Err(ApiError::denied(
                ce_server::reason::Reason::NotTheRegistrant,
                name,
                "only whoever registered a record corrects it",
            ));
        }
        if hr.engineer != names::engineer_name(&old.engineer_id) {
            return Err(ApiError::invalid(
                "hour_record.engineer",
                "a correction is for the same engineer; register another engineer's hours anew",
            ));
        }
        // The record corrected is this deployment's; `prepare` checks the
        // engineer's place for the new version.
        self.deployment
            .accepts_write(&call.caller, &old.province, name)?;
        let (mut row, who) = self.prepare(call, &hr).await?;
        row.supersedes = Some(old_id.clone());
        let today = (self.clock)();
        let call = call.clone();
        let rules = self.rules.clone();
        let name = name.to_owned();
        let row = self
            .feed
            .write(&self.db, move |conn, changes| {
                let old = store::get_record(conn, &old_id)?.ok_or_else(|| names::not_found(&name))?;
                let correctable = [
                    RecordState::Submitted,
                    RecordState::Confirmed,
                    RecordState::Rejected,
                ];
                let retry = row.client_key.is_some()
                    && store::record_by_key(conn, &row.submitter, row.client_key.as_deref().unwrap_or_default())?
                        .is_some();
                if !correctable.contains(&old.state()) && !retry {
                    return Err(ApiError::precondition(ce_server::reason::Reason::RecordNotCorrectable, name.clone(), format!(
                        "{name} is {:?}: only a submitted, confirmed or rejected record is corrected (a revoked \
                         one stands, {ART_27}; a superseded one has a newer version)",
                        old.state()
                    )));
                }
                let (row, inserted) = save(conn, changes, &call, row)?;
                if inserted {
                    let reason = format!("corrected by {}", names::record_name(&row.id));
                    store::decide(
                        conn,
                        &old_id,
                        RecordState::Superseded,
                        &call.caller.subject,
                        Some(&reason),
                        now_micros(),
                    )?;
                    changes.record(&old_id, &old.engineer_id, old.year, &old.province);
                    let mut years = std::collections::BTreeSet::new();
                    if old.is(RecordState::Confirmed) {
                        years.extend(years_of(&old));
                    }
                    if row.is(RecordState::Confirmed) {
                        years.extend(years_of(&row));
                    }
                    for year in years {
                        status::recompute(conn, changes, &rules, &who, year, today)?;
                    }
                    reassess_claimants(conn, changes, &rules, &old, today)?;
                    reassess_claimants(conn, changes, &rules, &row, today)?;
                }
                Ok(store::get_record(conn, &row.id)?.unwrap_or(row))
            })
            .await?;
        convert::record_to_proto(row)
    }

    pub async fn get(&self, call: &Call, name: &str) -> Result<HourRecord, ApiError> {
        let id = names::record_id("name", name)?.to_owned();
        let row = self
            .db
            .read(move |conn| store::get_record(conn, &id))
            .await?
            .ok_or_else(|| names::not_found(name))?;
        let denied = match check(&row, |s| {
            scope::read(&call.caller, s, "reading this record")
        }) {
            Ok(()) => return convert::record_to_proto(row),
            Err(e) => e,
        };
        // The engineer may have moved since (Art. 22).
        let stored =
            status::Who::held(&row.engineer_id, &row.province, row.field, &row.employer_id);
        if status::moved_into_scope(&self.db, &self.registry, call, &stored).await {
            convert::record_to_proto(row)
        } else {
            Err(denied)
        }
    }

    /// Confirms (`Some(None)`) or rejects (`Some(Some(reason))`) a submitted record.
    pub async fn decide(
        &self,
        call: &Call,
        name: &str,
        reject: Option<String>,
    ) -> Result<HourRecord, ApiError> {
        let id = names::record_id("name", name)?.to_owned();
        if let Some(reason) = &reject
            && reason.trim().is_empty()
        {
            return Err(ApiError::invalid(
                "reason",
                "is required: say why the record is rejected",
            ));
        }
        let current = {
            let id = id.clone();
            self.db
                .read(move |conn| store::get_record(conn, &id))
                .await?
                .ok_or_else(|| names::not_found(name))?
        };
        check(&current, |s| {
            scope::decide(&call.caller, current.route(), s)
        })?;
        self.deployment
            .accepts_write(&call.caller, &current.province, name)?;
        // The year is assessed with the engineer as the registry has them now.
        let who = Who::of(
            &self
                .registry
                .engineer(&names::engineer_name(&current.engineer_id))
                .await?,
        );
        let today = (self.clock)();
        let call = call.clone();
        let rules = self.rules.clone();
        let name = name.to_owned();
        let row = self
            .feed
            .write(&self.db, move |conn, changes| {
                let row = store::get_record(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
                if !row.is(RecordState::Submitted) {
                    return Err(ApiError::precondition(ce_server::reason::Reason::RecordNotSubmitted, name.clone(), format!(
                        "{name} is {:?}, not submitted: only a submitted record is confirmed or rejected",
                        row.state()
                    )));
                }
                let (state, reason) = match &reject {
                    None => (RecordState::Confirmed, None),
                    Some(r) => (RecordState::Rejected, Some(r.trim())),
                };
                store::decide(conn, &id, state, &call.caller.subject, reason, now_micros())?;
                changes.record(&id, &row.engineer_id, row.year, &row.province);
                if state == RecordState::Confirmed {
                    for year in years_of(&row) {
                        status::recompute(conn, changes, &rules, &who, year, today)?;
                    }
                }
                reassess_claimants(conn, changes, &rules, &row, today)?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                Ok(store::get_record(conn, &id)?.unwrap_or(row))
            })
            .await?;
        convert::record_to_proto(row)
    }

    /// Revokes records under Art. 27 and recomputes their years.
    pub async fn revoke(
        &self,
        call: &Call,
        req: RevokeHourRecordsRequest,
    ) -> Result<Vec<HourRecord>, ApiError> {
        let ids = revocation_ids(&req)?;
        let revoker = match call.caller.role {
            Role::Ministry | Role::ProvincialHrss | Role::IndustryRegulator => Revoker::Department,
            Role::Service => Revoker::Supervision,
            _ => Revoker::Other,
        };
        if !ce_rules::revocation::may_revoke(revoker) {
            return Err(ApiError::denied(
                ce_server::reason::Reason::RoleNotPermitted,
                "",
                format!(
                    "only HRSS departments, industry regulators and supervision revoke hours ({ART_27})"
                ),
            ));
        }
        if call.caller.role == Role::Service {
            self.supervision
                .check_revocation(&req.case_reference, &req.names)
                .await?;
        }
        let rows = {
            let ids = ids.clone();
            self.db
                .read(move |conn| -> Result<_, ApiError> {
                    let mut rows = Vec::with_capacity(ids.len());
                    for id in &ids {
                        rows.push(
                            store::get_record(conn, id)?
                                .ok_or_else(|| names::not_found(&names::record_name(id)))?,
                        );
                    }
                    Ok(rows)
                })
                .await?
        };
        for row in &rows {
            // Read scope doubles as revocation scope for departments and regulators.
            check(row, |s| {
                scope::read(&call.caller, s, "revoking this record")
            })?;
            self.deployment.accepts_write(
                &call.caller,
                &row.province,
                &names::record_name(&row.id),
            )?;
        }
        let engineers: Vec<String> = rows
            .iter()
            .map(|r| names::engineer_name(&r.engineer_id))
            .collect();
        let found = self.registry.engineers(&engineers).await?;
        let who: std::collections::BTreeMap<String, Who> = found
            .into_iter()
            .flatten()
            .map(|e| {
                let w = Who::of(&e);
                (w.engineer_id.clone(), w)
            })
            .collect();
        let revocation = Revocation {
            call: call.clone(),
            rules: self.rules.clone(),
            reason: format!("{} (case {})", req.reason.trim(), req.case_reference.trim()),
            today: (self.clock)(),
            who,
            ids,
        };
        let rows = self
            .feed
            .write(&self.db, move |conn, changes| {
                revocation.apply(conn, changes)
            })
            .await?;
        rows.into_iter().map(convert::record_to_proto).collect()
    }

    /// Art. 23: is every year of a span complete?
    pub async fn title_eligibility(
        &self,
        call: &Call,
        req: CheckTitleEligibilityRequest,
    ) -> Result<CheckTitleEligibilityResponse, ApiError> {
        let mut v = Violations::new();
        let engineer = v.check(
            "engineer",
            names::engineer_id("engineer", &req.engineer)
                .map(str::to_owned)
                .map_err(|_| "must be `engineers/{id}`".to_owned()),
        );
        if req.first_year < ce_rules::ruleset::FIRST_YEAR {
            v.add(
                "first_year",
                format!("must be 2026 or later: earlier years are out of scope ({ART_31})"),
            );
        }
        if req.last_year < req.first_year || req.last_year - req.first_year > 50 {
            v.add("last_year", "must be from first_year to 50 years after it");
        }
        v.finish()?;
        let engineer = engineer.unwrap_or_default();
        let mut years = Vec::new();
        let mut incomplete_years = Vec::new();
        for year in req.first_year..=req.last_year {
            let s = status::get(self, call, &names::status_name(&engineer, year)).await?;
            if !s.complete {
                incomplete_years.push(year);
            }
            years.push(s);
        }
        Ok(CheckTitleEligibilityResponse {
            eligible: incomplete_years.is_empty(),
            years,
            incomplete_years,
        })
    }

    pub async fn list(
        &self,
        call: &Call,
        req: ListHourRecordsRequest,
    ) -> Result<ListHourRecordsResponse, ApiError> {
        let mut v = Violations::new();
        if !req.engineer.is_empty() && names::engineer_id("engineer", &req.engineer).is_err() {
            v.add("engineer", "must be `engineers/{id}`");
        }
        if req.state != 0 && RecordState::try_from(req.state).is_err() {
            v.add("state", "is not a record state");
        }
        if !req.institution.is_empty()
            && ce_server::names::parse("institution", "institutions", &req.institution).is_err()
        {
            v.add("institution", "must be `institutions/{id}`");
        }
        if !req.province.is_empty() && ce_proto::reference::region(&req.province).is_none() {
            v.add(
                "province",
                format!("`{}` is not a province code", req.province),
            );
        }
        v.finish()?;
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &format!(
                "{}|{}|{}|{}|{}",
                req.engineer, req.year, req.state, req.province, req.institution
            ),
        )?;
        let n = scope::narrow_list(
            &call.caller,
            Narrowed {
                province: (!req.province.is_empty()).then(|| req.province.clone()),
                engineer: (!req.engineer.is_empty()).then(|| req.engineer.clone()),
                institution: (!req.institution.is_empty()).then(|| req.institution.clone()),
                ..Default::default()
            },
            false,
        )?;
        let filter = RecordFilter {
            engineer_id: n
                .engineer
                .as_deref()
                .and_then(|e| e.strip_prefix("engineers/"))
                .map(str::to_owned),
            year: (req.year != 0).then_some(req.year),
            state: (req.state != 0).then_some(req.state),
            province: n.province,
            field: n.field,
            employer_id: n
                .employer
                .as_deref()
                .and_then(|e| e.strip_prefix("employers/"))
                .map(str::to_owned),
            institution_id: n
                .institution
                .as_deref()
                .and_then(|i| i.strip_prefix("institutions/"))
                .map(str::to_owned),
        };
        let (hour_records, next_page_token) = page
            .load_within(
                &self.db,
                move |conn, after, limit| Ok(store::list_records(conn, &filter, after, limit)?),
                |r| r.id.clone(),
                convert::record_to_proto,
                call.max_message_bytes,
            )
            .await?;
        Ok(ListHourRecordsResponse {
            hour_records,
            next_page_token,
        })
    }
}
