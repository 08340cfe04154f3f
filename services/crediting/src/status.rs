//! Annual status (Art. 18-20): each engineer's year, assessed by the rules
//! library whenever one of its records changes, and stored so reads are
//! cheap.

use ce_rules::article::ART_31;
use std::collections::HashMap;

use ce_db::{Db, DbConnection};
use ce_proto::crediting::{
    AnnualState, AnnualStatus, Explanation, ListAnnualStatusesRequest, ListAnnualStatusesResponse,
    RecordExplanation, RecordState,
};
use ce_proto::registry::Engineer;
use ce_rules::{RuleBook, YearInput};
use ce_server::call::now_micros;
use ce_server::dates;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations};
use prost::Message;

use crate::activity;
use crate::certificates::Figures;
use crate::claims;
use crate::convert;
use crate::feed::Changes;
use crate::names;
use crate::records::Crediting;
use crate::scope::{self, Narrowed, Subject};
use crate::store::{self, RecordRow, StatusFilter, StatusHead, StatusRow};

/// What an engineer is for the status of their year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub engineer_id: String,
    pub province: String,
    pub field: i32,
    pub employer_id: Option<String>,
    /// For a place the registry gave: the registry change that set it
    /// (`Engineer.place_sequence`, 0 before the first), so [`settle`] can
    /// tell it from a later one. `None` for the place a stored year is
    /// held for, which stays as it is.
    pub sequence: Option<i64>,
}

impl Who {
    /// The engineer where the registry has them.
    pub fn of(e: &Engineer) -> Who {
        Who {
            sequence: Some(e.place_sequence),
            ..Who::at(
                e.name.trim_start_matches("engineers/"),
                &e.province,
                e.field,
                &e.employer,
            )
        }
    }

    /// An engineer at a place as the registry names it: `employer` is
    /// `employers/{id}`, or empty for none.
    pub fn at(engineer_id: &str, province: &str, field: i32, employer: &str) -> Who {
        Who {
            engineer_id: engineer_id.to_owned(),
            province: province.to_owned(),
            field,
            employer_id: employer.strip_prefix("employers/").map(str::to_owned),
            sequence: None,
        }
    }

    /// The place a stored year is held for.
    pub fn held(
        engineer_id: &str,
        province: &str,
        field: i32,
        employer_id: &Option<String>,
    ) -> Who {
        Who {
            engineer_id: engineer_id.to_owned(),
            province: province.to_owned(),
            field,
            employer_id: employer_id.clone(),
            sequence: None,
        }
    }

    /// Whether both are the same engineer at the same place.
    pub fn same_place(&self, other: &Who) -> bool {
        (
            &self.engineer_id,
            &self.province,
            self.field,
            &self.employer_id,
        ) == (
            &other.engineer_id,
            &other.province,
            other.field,
            &other.employer_id,
        )
    }
}

/// The places to write these engineers' years under, inside the
/// transaction that holds their locks: a place the registry gave yields to
/// a later change that crediting's follower (this replica's or another's)
/// has applied since. So a lookup made or cached before a move cannot put
/// a year back where the engineer was, whichever commits first: a write
/// before the follower's is moved by it, a write after it reads the new
/// place here. A place the registry gave that is newer than anything
/// applied stays (the follower will find the years already there), and so
/// does a stored place.
pub fn settle<'a>(
    conn: &mut DbConnection,
    whos: impl IntoIterator<Item = &'a mut Who>,
) -> Result<(), ApiError> {
    let mut whos: Vec<&mut Who> = whos.into_iter().filter(|w| w.sequence.is_some()).collect();
    if whos.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = whos.iter().map(|w| w.engineer_id.clone()).collect();
    let followed: std::collections::HashMap<String, store::FollowedRow> =
        store::followed(conn, &ids)?
            .into_iter()
            .map(|f| (f.engineer_id.clone(), f))
            .collect();
    for who in &mut whos {
        if let Some(f) = followed.get(&who.engineer_id)
            && who.sequence.is_some_and(|s| s < f.sequence)
            && let (Some(province), Some(field)) = (&f.province, f.field)
        {
            who.province = province.clone();
            who.field = field;
            who.employer_id = f.employer_id.clone();
            who.sequence = Some(f.sequence);
        }
    }
    Ok(())
}

/// The states a year's assessment sees: confirmed records count, revoked
/// ones are shown with 0 (Art. 27).
pub const COUNTED: [RecordState; 2] = [RecordState::Confirmed, RecordState::Revoked];

/// A year's stored inputs: its own counted records, its deferral, and the
/// next year's records designated to make it up (Art. 20).
pub struct YearRows {
    pub own: Vec<RecordRow>,
    pub deferral: Option<store::DeferralRow>,
    pub make_up: Vec<RecordRow>,
    /// Other engineers' claims that own records' claims exclude, by record
    /// ([`crate::claims::contested`]).
    pub contested: HashMap<String, Vec<String>>,
}

impl YearRows {
    /// A year's own rows with no deferral or make-up, and the claims that
    /// contest them.
    pub fn plain(conn: &mut DbConnection, own: Vec<RecordRow>) -> Result<YearRows, ApiError> {
        let contested = claims::contested(conn, &own.iter().collect::<Vec<_>>())?;
        Ok(YearRows {
            own,
            deferral: None,
            make_up: Vec::new(),
            contested,
        })
    }

    fn load(conn: &mut DbConnection, engineer: &str, year: i32) -> Result<YearRows, ApiError> {
        let own = store::year_records(conn, engineer, year, &COUNTED)?;
        let deferral = store::get_deferral(conn, engineer, year)?;
        let make_up = if deferral.is_some() {
            store::make_up_records(conn, engineer, year, &COUNTED)?
        } else {
            Vec::new()
        };
        let contested = claims::contested(conn, &own.iter().collect::<Vec<_>>())?;
        Ok(YearRows {
            own,
            deferral,
            make_up,
            contested,
        })
    }
}

/// The conflicting-claims signals (Art. 27) about `record`, for its
/// explanation: whoever reviews or confirms it sees them.
pub fn claim_signals(signals: &[ce_rules::Signal], record: &str) -> Vec<String> {
    signals
        .iter()
        .filter(|s| s.is_conflicting_claim() && s.records().contains(&record))
        .map(ToString::to_string)
        .collect()
}

/// A year assessed, not yet stored.
pub struct Evaluated {
    year: i32,
    /// The day it was assessed on.
    today: time::Date,
    status: AnnualStatus,
    totals: ce_rules::Totals,
    /// Each own record's explanation, encoded.
    explanations: Vec<(String, Vec<u8>)>,
    /// Hours this year took from the next year's make-up records.
    taken: Vec<(String, ce_rules::Hours)>,
    /// The rule set it was assessed with (`RuleSet::fingerprint`).
    rule_set: String,
    /// The status's body as stored, and its digest, made once on first
    /// use: comparing with the stored year and writing it both need them.
    body: std::cell::OnceCell<(Vec<u8>, i64)>,
}

impl Evaluated {
    /// The verdict of `head`, the same year, named with the rules it was
    /// assessed with now: what a year whose figures came out the same
    /// under other rules writes (`store::set_rule_sets`).
    pub fn rule_set_of(&self, head: &StatusHead) -> (String, i32, String) {
        (head.engineer_id.clone(), head.year, self.rule_set.clone())
    }

    /// The status's body as stored, and its digest.
    fn body(&self) -> &(Vec<u8>, i64) {
        self.body.get_or_init(|| {
            let body = convert::status_body(&self.status);
            let digest = store::status_digest(&body);
            (body, digest)
        })
    }
}

/// Assesses one year from its rows, with the hours the year before took
/// from it (`used`). Pure: touches no storage.
pub fn evaluate(
    rules: &RuleBook,
    who: &Who,
    year: i32,
    today: time::Date,
    rows: &YearRows,
    used: &[(String, ce_rules::Hours)],
) -> Result<Evaluated, ApiError> {
    let own = rows
        .own
        .iter()
        .map(|row| {
            let mut r = convert::rules_record(row)?;
            if let Some(c) = rows.contested.get(&row.id) {
                r.contested = c.clone();
            }
            Ok::<_, ApiError>(r)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let make_up = rows
        .make_up
        .iter()
        .map(convert::rules_record)
        .collect::<Result<Vec<_>, _>>()?;
    let deferral = rows.deferral.as_ref().map(|d| ce_rules::Deferral {
        reason: d.explanation.clone(),
        certified_by: d.certified_by.clone(),
    });
    let set = rules
        .for_year(&who.province, year)
        .map_err(|e| ApiError::Internal(format!("no rule set for a stored year: {e}")))?;
    let assessment = ce_rules::assess(
        &YearInput {
            year,
            records: &own,
            make_up: &make_up,
            used_for_make_up: used,
            deferral: deferral.as_ref(),
            as_of: today,
        },
        set,
    )
    .map_err(|e| ApiError::Internal(format!("a stored record fails the rules: {e}")))?;
    let mut explanations = Vec::with_capacity(assessment.explanations.len());
    let mut own_explanations = Vec::with_capacity(own.len());
    let mut taken = Vec::new();
    for e in &assessment.explanations {
        let mut explanation: Explanation = activity::explanation_to_proto(e);
        explanation.signals = claim_signals(&assessment.signals, &e.record);
        if own.iter().any(|r| r.id == e.record) {
            own_explanations.push((e.record.clone(), explanation.encode_to_vec()));
        } else {
            taken.push((e.record.clone(), e.hours));
        }
        explanations.push(RecordExplanation {
            hour_record: names::record_name(&e.record),
            explanation: Some(explanation),
        });
    }
    let mut status = convert::status_to_proto(who, &assessment, explanations, 0);
    status.update_time = None;
    Ok(Evaluated {
        year,
        today,
        status,
        totals: assessment.totals,
        explanations: own_explanations,
        taken,
        rule_set: rules.fingerprint(set),
        body: std::cell::OnceCell::new(),
    })
}

/// Stores what changed of an evaluated year: the explanations that differ
/// from the records' stored ones, and the status unless it is the stored
/// one already (and fresh): its verdict, and its body if that changed.
/// Notes each status written in `changes`, and each written over a stored
/// one with its figures, so the year's certificates follow it.
pub fn store_evaluated(
    conn: &mut DbConnection,
    changes: &mut Changes,
    who: &Who,
    own: &[RecordRow],
    existing: Option<&StatusHead>,
    mut ev: Evaluated,
    batch: Option<&mut store::StatusWrites>,
) -> Result<AnnualStatus, ApiError> {
    for (id, bytes) in &ev.explanations {
        let stored = own
            .iter()
            .find(|r| &r.id == id)
            .and_then(|r| r.explanation.as_ref());
        if stored != Some(bytes) {
            store::set_explanation(conn, id, Some(bytes.clone()))?;
        }
    }
    let digest = ev.body().1;
    if let Some(head) = existing {
        let sameness = compare(head, who, &ev, digest);
        if sameness != Sameness::Differs {
            if sameness == Sameness::RuleSetOnly {
                // Assessed under other rules that give the same year: the
                // verdict names the rules now, and nothing else moves.
                let key = ev.rule_set_of(head);
                match batch {
                    Some(batch) => batch.rule_sets.push(key),
                    None => store::set_rule_sets(conn, std::slice::from_ref(&key))?,
                }
            }
            ev.status.update_time = Some(dates::timestamp(head.update_micros));
            return Ok(ev.status);
        }
    }
    let at = now_micros();
    ev.status.update_time = Some(dates::timestamp(at));
    let state = AnnualState::try_from(ev.status.state).unwrap_or(AnnualState::Unspecified);
    let body = ev.body.take().map(|(body, _)| body);
    let write = store::StatusWrite {
        head: StatusHead {
            engineer_id: who.engineer_id.clone(),
            year: ev.year,
            province: who.province.clone(),
            field: who.field,
            employer_id: who.employer_id.clone(),
            state: ev.status.state,
            total_centi: i64::from(ev.totals.total.centi()),
            professional_centi: i64::from(ev.totals.professional.centi()),
            computed_on: dates::format(ev.today),
            update_micros: at,
            body_digest: Some(digest),
            rule_set: Some(ev.rule_set.clone()),
        },
        verdict: convert::status_verdict(state, ev.status.complete, at),
        // A body is written with its year's first status, and again only
        // when it changes.
        body: body.filter(|_| existing.is_none_or(|h| h.body_digest != Some(digest))),
    };
    match (existing, batch) {
        // A batch writes its statuses together.
        (Some(_), Some(batch)) => batch.updates.push(write),
        (None, Some(batch)) => batch.inserts.push(write),
        (Some(_), None) => store::put_status(conn, &write)?,
        (None, None) => store::insert_statuses(conn, std::slice::from_ref(&write))?,
    }
    changes.status(&who.engineer_id, ev.year, &who.province);
    if existing.is_some() {
        // A certificate of the year must still state it (checked at flush).
        changes.restated(&who.engineer_id, ev.year, Figures::of(&ev.status), ev.today);
    }
    Ok(ev.status)
}

/// How a stored year compares with the same year assessed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sameness {
    /// The same: nothing to write.
    Same,
    /// The same year, assessed under rules with another fingerprint that
    /// give the same result: only the verdict's rule set is written.
    RuleSetOnly,
    /// Another place, state, body, or a stale open state: written.
    Differs,
}

/// How the stored year `head` compares with `ev`: stored for the same
/// place, not an open state gone stale, in the same state, with the same
/// body (by digest); and under the same rule set.
fn compare(head: &StatusHead, who: &Who, ev: &Evaluated, digest: i64) -> Sameness {
    let same_year = stands(
        (&head.province, head.field, &head.employer_id),
        head.state(),
        &head.computed_on,
        who,
        ev.today,
    ) && head.state == ev.status.state
        && head.body_digest == Some(digest);
    if !same_year {
        Sameness::Differs
    } else if head.rule_set.as_deref() == Some(ev.rule_set.as_str()) {
        Sameness::Same
    } else {
        Sameness::RuleSetOnly
    }
}

/// Reassesses many engineers' years at once, counting `new` records that
/// are about to be inserted (their explanations are filled in here), in a
/// handful of queries. Years that an Art. 20 deferral links to a
/// neighbour are not assessed here: they are returned, to be recomputed
/// with [`recompute`] once the new records are stored.
pub fn recompute_batch(
    conn: &mut DbConnection,
    changes: &mut Changes,
    rules: &RuleBook,
    today: time::Date,
    years: &[(Who, i32)],
    new: &mut [RecordRow],
) -> Result<Vec<(Who, i32)>, ApiError> {
    let ids: Vec<String> = years
        .iter()
        .map(|(w, _)| w.engineer_id.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let all_years: Vec<i32> = years
        .iter()
        .flat_map(|(_, y)| [y - 1, *y])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    store::lock_engineers(conn, &ids)?;
    let mut years = years.to_vec();
    settle(conn, years.iter_mut().map(|(w, _)| w))?;
    let chained: std::collections::BTreeSet<String> =
        store::deferred_among(conn, &ids, &all_years)?
            .into_iter()
            .collect();
    let mut by_year: std::collections::BTreeMap<i32, Vec<&Who>> = Default::default();
    let mut later = Vec::new();
    for (who, year) in &years {
        if chained.contains(&who.engineer_id) {
            later.push((who.clone(), *year));
        } else {
            by_year.entry(*year).or_default().push(who);
        }
    }
    // Each engineer's new records, by position in `new`: a message holds
    // many engineers, and scanning all of it for each would be quadratic.
    let mut new_of: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for (i, r) in new.iter().enumerate() {
        new_of.entry(r.engineer_id.clone()).or_default().push(i);
    }
    let mut writes = store::StatusWrites::default();
    for (year, whos) in by_year {
        let ids: Vec<String> = whos.iter().map(|w| w.engineer_id.clone()).collect();
        let mut stored: std::collections::HashMap<String, Vec<RecordRow>> = Default::default();
        for r in store::records_of(conn, &ids, year, &COUNTED)? {
            stored.entry(r.engineer_id.clone()).or_default().push(r);
        }
        let mut statuses: std::collections::HashMap<String, StatusHead> =
            store::status_heads_of(conn, &ids, year)?
                .into_iter()
                .map(|s| (s.engineer_id.clone(), s))
                .collect();
        for who in whos {
            let own_stored = stored.remove(&who.engineer_id).unwrap_or_default();
            let theirs: &[usize] = new_of.get(&who.engineer_id).map_or(&[], Vec::as_slice);
            let mut own = own_stored.clone();
            own.extend(
                theirs
                    .iter()
                    .map(|&i| &new[i])
                    .filter(|r| {
                        crate::records::years_of(r).contains(&year) && COUNTED.contains(&r.state())
                    })
                    .cloned(),
            );
            own.sort_by(|a, b| a.id.cmp(&b.id));
            let rows = YearRows::plain(conn, own)?;
            let mut ev = evaluate(rules, who, year, today, &rows, &[])?;
            for &n in theirs {
                let r = &mut new[n];
                if let Some(i) = ev.explanations.iter().position(|(id, _)| *id == r.id) {
                    r.explanation = Some(ev.explanations.swap_remove(i).1);
                }
            }
            let existing = statuses.remove(&who.engineer_id);
            store_evaluated(
                conn,
                changes,
                who,
                &own_stored,
                existing.as_ref(),
                ev,
                Some(&mut writes),
            )?;
        }
    }
    writes.flush(conn)?;
    Ok(later)
}

/// Assesses one year, with its deferral and make-up (Art. 20) and the
/// hours the year before took from it (`used`), stores what changed, and
/// returns the hours it took from the next year's make-up records.
fn assess_and_store(
    conn: &mut DbConnection,
    changes: &mut Changes,
    rules: &RuleBook,
    who: &Who,
    year: i32,
    today: time::Date,
    used: &[(String, ce_rules::Hours)],
) -> Result<(AnnualStatus, Vec<(String, ce_rules::Hours)>), ApiError> {
    let rows = YearRows::load(conn, &who.engineer_id, year)?;
    let existing =
        store::status_heads_of(conn, std::slice::from_ref(&who.engineer_id), year)?.pop();
    let mut ev = evaluate(rules, who, year, today, &rows, used)?;
    let taken = std::mem::take(&mut ev.taken);
    let status = store_evaluated(conn, changes, who, &rows.own, existing.as_ref(), ev, None)?;
    Ok((status, taken))
}

/// Reassesses an engineer's `year` and stores it, inside the caller's
/// transaction, so a record change and its status commit together. With
/// Art. 20 in play the neighbours move too: a deferred year before it is
/// reassessed first (it may take hours from this one), and the next year
/// after it (it loses what this one takes).
pub fn recompute(
    conn: &mut DbConnection,
    changes: &mut Changes,
    rules: &RuleBook,
    who: &Who,
    year: i32,
    today: time::Date,
) -> Result<AnnualStatus, ApiError> {
    let who = locked(conn, who)?;
    recompute_locked(conn, changes, rules, &who, year, today)
}

/// Takes the engineer's lock for the rest of the transaction and returns
/// `who` settled against the last move applied: the place a year written
/// under this lock is assessed for, and the place to check a reader against.
pub fn locked(conn: &mut DbConnection, who: &Who) -> Result<Who, ApiError> {
    store::lock_engineers(conn, std::slice::from_ref(&who.engineer_id))?;
    let mut settled = who.clone();
    settle(conn, [&mut settled])?;
    Ok(settled)
}

/// [`recompute`] for a `who` that [`locked`] returned, in its transaction.
pub fn recompute_locked(
    conn: &mut DbConnection,
    changes: &mut Changes,
    rules: &RuleBook,
    who: &Who,
    year: i32,
    today: time::Date,
) -> Result<AnnualStatus, ApiError> {
    // Art. 20: from the first of the deferred years this one's hours depend on.
    let start = ce_rules::make_up_chain_start(year, |y| {
        Ok::<_, ApiError>(store::get_deferral(conn, &who.engineer_id, y)?.is_some())
    })?;
    let mut used = Vec::new();
    let mut status = None;
    for y in start..=year {
        let (s, taken) = assess_and_store(conn, changes, rules, who, y, today, &used)?;
        used = taken;
        status = Some(s);
    }
    if !used.is_empty() {
        assess_and_store(conn, changes, rules, who, year + 1, today, &used)?;
    }
    status.ok_or_else(|| ApiError::Internal("no year was assessed".into()))
}

/// A stored status computed before its year (or, deferred, its make-up
/// year) ended may have changed since, without any record changing.
pub fn stale(row: &StatusRow, today: time::Date) -> bool {
    open_before(row.state(), &row.computed_on, today)
}

/// An open state (in progress, deferred) computed before `today`.
fn open_before(state: AnnualState, computed_on: &str, today: time::Date) -> bool {
    let open = matches!(state, AnnualState::InProgress | AnnualState::Deferred);
    open && dates::parse(computed_on).is_ok_and(|d| d < today)
}

/// Whether a stored year can stand for `who` as of `today` if it encodes
/// the same: stored for the same place (province, field, employer) and not
/// an open state computed before today.
fn stands(
    place: (&str, i32, &Option<String>),
    state: AnnualState,
    computed_on: &str,
    who: &Who,
    today: time::Date,
) -> bool {
    place == (who.province.as_str(), who.field, &who.employer_id)
        && !open_before(state, computed_on, today)
}

/// How `ev` compares with the status stored as `head`, judged as
/// [`store_evaluated`] judges it.
pub fn compared(head: &StatusHead, who: &Who, ev: &Evaluated) -> Sameness {
    compare(head, who, ev, ev.body().1)
}

/// A year as `GetAnnualStatus` finds it: stored and still standing, or
/// assessed now.
enum Found {
    Stored(StatusRow),
    Assessed(AnnualStatus),
}

/// One engineer's year, for a caller who may read it.
pub async fn get(c: &Crediting, call: &Call, name: &str) -> Result<AnnualStatus, ApiError> {
    match find(c, call, name).await? {
        Found::Stored(row) => convert::decode_status(&row),
        Found::Assessed(status) => Ok(status),
    }
}

/// [`get`] in its wire encoding, for `GetAnnualStatus` itself: a stored
/// year is the encoding of an `AnnualStatus`, and is answered as stored,
/// without decoding it and encoding it again (see `api::StatusRoute`).
pub async fn get_encoded(c: &Crediting, call: &Call, name: &str) -> Result<Vec<u8>, ApiError> {
    Ok(match find(c, call, name).await? {
        Found::Stored(row) => row.status,
        Found::Assessed(status) => status.encode_to_vec(),
    })
}

async fn find(c: &Crediting, call: &Call, name: &str) -> Result<Found, ApiError> {
    let (db, registry, rules) = (&c.db, &c.registry, &c.rules);
    let today = (c.clock)();
    let (engineer_id, year) = names::parse_status(name)?;
    if year < ce_rules::ruleset::FIRST_YEAR {
        return Err(ApiError::invalid(
            "name",
            format!("{year} is before the regulation took effect ({ART_31})"),
        ));
    }
    let stored = c.statuses.get((engineer_id.clone(), year)).await?;
    let Some(row) = stored else {
        // Only years that can hold hours yet are assessed on request (a
        // stored year, an aid assignment's later ones say, reads as any).
        if year > today.year() + 1 {
            return Err(ApiError::invalid(
                "name",
                format!(
                    "{year} is more than a year ahead: a year not yet assessed has a status from {} to {}",
                    ce_rules::ruleset::FIRST_YEAR,
                    today.year() + 1
                ),
            ));
        }
        // Never assessed: assessed now by the rules, for the engineer where
        // they are, and answered without storing anything (a read never
        // writes).
        let engineer = registry
            .engineer(&names::engineer_name(&engineer_id))
            .await
            .map_err(|e| match e {
                ApiError::InvalidArgument(_) => names::not_found(name),
                other => other,
            })?;
        let who = Who::of(&engineer);
        let rules = rules.clone();
        let call = call.clone();
        let status = db
            .read(move |conn| -> Result<_, ApiError> {
                // The registry's answer may be cached from before a move:
                // the caller must cover the place the last applied move
                // gives.
                let mut who = who.clone();
                settle(conn, [&mut who])?;
                check_read(&call, &who)?;
                let rows = YearRows::load(conn, &who.engineer_id, year)?;
                Ok(evaluate(&rules, &who, year, today, &rows, &[])?.status)
            })
            .await?;
        return Ok(Found::Assessed(status));
    };
    let stored_who = Who::held(&row.engineer_id, &row.province, row.field, &row.employer_id);
    if let Err(denied) = check_read(call, &stored_who) {
        // The province or employer the engineer is with now reads the year
        // as stored: a year from the move on is put under them by
        // `follow`, a year before it stays with where it was spent. To
        // anyone else the refusal stands.
        if !moved_into_scope(db, registry, call, &stored_who).await {
            return Err(denied);
        }
    }
    if !stale(&row, today) {
        return Ok(Found::Stored(row));
    }
    // Stale (its year has ended since it was assessed): reassessed now, for
    // the place it is held for, as the close does. A year is moved to
    // another place only by `follow`, so a read before the close does not
    // take an ended year from the province it was spent in.
    let rules = rules.clone();
    let call = call.clone();
    let status = c
        .feed
        .write(db, move |conn, changes| {
            let id = std::slice::from_ref(&stored_who.engineer_id);
            store::lock_engineers(conn, id)?;
            // The follower may have moved it since it was read; the caller
            // must then cover where it went.
            let who = match store::status_heads_of(conn, id, year)?.pop() {
                Some(h) => Who::held(&h.engineer_id, &h.province, h.field, &h.employer_id),
                None => stored_who.clone(),
            };
            if !who.same_place(&stored_who) {
                check_read(&call, &who)?;
            }
            recompute_locked(conn, changes, &rules, &who, year, today)
        })
        .await?;
    Ok(Found::Assessed(status))
}

/// Whether the registry has the engineer elsewhere than `stored` (another
/// province, employer or field) where the caller covers them: an engineer
/// who moved keeps their hours (Art. 22), and the province or employer they
/// are with now reads their years and the records behind them. For reads
/// refused against what was stored. The registry's answer is settled
/// against the last move applied first: a place cached from before that
/// move is not where the engineer is now.
pub async fn moved_into_scope(
    db: &Db,
    registry: &crate::registry::Registry,
    call: &Call,
    stored: &Who,
) -> bool {
    let Ok(engineer) = registry
        .engineer(&names::engineer_name(&stored.engineer_id))
        .await
    else {
        return false;
    };
    let registry_has = Who::of(&engineer);
    let Ok(now) = db
        .read(move |conn| -> Result<Who, ApiError> {
            let mut now = registry_has.clone();
            settle(conn, [&mut now])?;
            Ok(now)
        })
        .await
    else {
        return false;
    };
    !now.same_place(stored) && check_read(call, &now).is_ok()
}

pub fn check_read(call: &Call, who: &Who) -> Result<(), ApiError> {
    let engineer = names::engineer_name(&who.engineer_id);
    let employer = who.employer_id.as_deref().map(names::employer_name);
    scope::read(
        &call.caller,
        &Subject {
            engineer: &engineer,
            province: &who.province,
            field: who.field,
            employer: employer.as_deref(),
            institution: None,
        },
        "reading this engineer's status",
    )
}

pub async fn list(
    db: &Db,
    call: &Call,
    req: ListAnnualStatusesRequest,
) -> Result<ListAnnualStatusesResponse, ApiError> {
    if !req.engineer.is_empty() && req.year == 0 {
        return history(db, call, &req.engineer).await;
    }
    let mut v = Violations::new();
    if req.year < ce_rules::ruleset::FIRST_YEAR {
        v.add(
            "year",
            format!("is required (unless engineer is given): 2026 or later ({ART_31})"),
        );
    }
    let engineer = if req.engineer.is_empty() {
        None
    } else {
        v.check(
            "engineer",
            names::engineer_id("engineer", &req.engineer)
                .map(str::to_owned)
                .map_err(|_| "must be `engineers/{id}`".to_owned()),
        )
    };
    if !req.province.is_empty() && ce_proto::reference::region(&req.province).is_none() {
        v.add(
            "province",
            format!("`{}` is not a province code", req.province),
        );
    }
    if req.state != 0 && AnnualState::try_from(req.state).is_err() {
        v.add("state", "is not an annual state");
    }
    v.finish()?;
    let page = Page::parse(
        req.page_size,
        &req.page_token,
        &format!(
            "{}|{}|{}|{}|{}|{}",
            req.year, req.province, req.field, req.employer, req.state, req.engineer
        ),
    )?;
    let n = scope::narrow_list(
        &call.caller,
        Narrowed {
            province: (!req.province.is_empty()).then(|| req.province.clone()),
            field: (req.field != 0).then_some(req.field),
            employer: (!req.employer.is_empty()).then(|| req.employer.clone()),
            engineer: engineer.as_deref().map(names::engineer_name),
            ..Default::default()
        },
        true,
    )?;
    let state = AnnualState::try_from(req.state)
        .ok()
        .filter(|s| *s != AnnualState::Unspecified);
    let filter = status_filter(req.year, state, n);
    let (annual_statuses, next_page_token) = page
        .load_within(
            db,
            move |conn, after, limit| Ok(store::list_statuses(conn, &filter, after, limit)?),
            |r| r.engineer_id.clone(),
            |r| convert::decode_status(&r),
            call.max_message_bytes,
        )
        .await?;
    // One engineer's year the caller may not read is refused as
    // `GetAnnualStatus` refuses it, not answered with an empty page
    // (docs/errors.md, "Out of scope").
    if annual_statuses.is_empty()
        && let Some(id) = engineer
    {
        let year = req.year;
        let heads = db
            .read(move |conn| {
                Ok::<_, ApiError>(store::status_heads_of(
                    conn,
                    std::slice::from_ref(&id),
                    year,
                )?)
            })
            .await?;
        if let Some(h) = heads.first() {
            check_read(
                call,
                &Who::held(&h.engineer_id, &h.province, h.field, &h.employer_id),
            )?;
        }
    }
    Ok(ListAnnualStatusesResponse {
        annual_statuses,
        next_page_token,
    })
}

/// Every year of one engineer's, oldest first: the years the caller may
/// read (a province sees the years the engineer spent in it, Art. 22).
async fn history(
    db: &Db,
    call: &Call,
    engineer: &str,
) -> Result<ListAnnualStatusesResponse, ApiError> {
    let id = names::engineer_id("engineer", engineer)
        .map_err(|_| ApiError::invalid("engineer", "must be `engineers/{id}`"))?
        .to_owned();
    let rows = db
        .read(move |conn| Ok::<_, ApiError>(store::engineer_statuses(conn, &id)?))
        .await?;
    let mut denied = None;
    let readable: Vec<&StatusRow> = rows
        .iter()
        .filter(|row| {
            let who = Who::held(&row.engineer_id, &row.province, row.field, &row.employer_id);
            check_read(call, &who).map_err(|e| denied = Some(e)).is_ok()
        })
        .collect();
    if readable.is_empty()
        && let Some(e) = denied
    {
        return Err(e);
    }
    if rows.is_empty() {
        // Nothing to show; still refuse callers who could never see it.
        scope::narrow_list(
            &call.caller,
            Narrowed {
                engineer: Some(engineer.to_owned()),
                ..Default::default()
            },
            true,
        )?;
    }
    Ok(ListAnnualStatusesResponse {
        annual_statuses: readable
            .into_iter()
            .map(convert::decode_status)
            .collect::<Result<_, _>>()?,
        next_page_token: String::new(),
    })
}

/// The statuses of `year` (in `state`, if given) a caller's narrowed scope
/// covers.
pub fn status_filter(year: i32, state: Option<AnnualState>, n: Narrowed) -> StatusFilter {
    let id = |name: Option<String>, collection: &str| {
        name.as_deref()
            .and_then(|e| e.strip_prefix(collection))
            .map(str::to_owned)
    };
    StatusFilter {
        year,
        state,
        employer_id: id(n.employer, "employers/"),
        engineer_id: id(n.engineer, "engineers/"),
        province: n.province,
        field: n.field,
    }
}
