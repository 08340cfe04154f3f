//! Claims on one item across engineers (Art. 18, 27). Within one engineer's
//! year the rules library compares records by their evidence key; here each
//! record that names an item is indexed by it (`claims`), so a claim that
//! leaves no room for another engineer's (two principal investigators of
//! one project, two sole authors of one paper) is found and signalled to
//! both engineers' reviewers, neither engineer seeing the other's record.

use std::collections::{BTreeSet, HashMap};

use ce_db::{DbConnection, DbError};
use ce_proto::crediting::{RecordState, Route};
use ce_rules::Activity;
use ce_server::ApiError;

use crate::convert;
use crate::status::Who;
use crate::store::{self, RecordRow};

/// Keys compared in one query.
const CHUNK: usize = 500;

/// The stored form of an item's evidence key.
pub fn key_of(activity: &Activity) -> Option<String> {
    activity
        .evidence_key()
        .map(|(kind, id)| format!("{kind}:{id}"))
}

/// Only an engineer's own submissions name items (forms 2-9, Art. 21).
fn may_name_an_item(row: &RecordRow) -> bool {
    row.route() == Route::SelfSubmission
}

/// Indexes the item a newly stored record names, if any.
pub fn note(conn: &mut DbConnection, row: &RecordRow) -> Result<(), ApiError> {
    if !may_name_an_item(row) {
        return Ok(());
    }
    // A submission that names no item is noted too (with no key), so the
    // start-up backfill passes over it.
    let key = key_of(&convert::rules_record(row)?.activity).unwrap_or_default();
    store::claims::insert_claim(conn, &row.id, &row.engineer_id, &key)?;
    Ok(())
}

/// Other engineers' live records (submitted or confirmed) of the items
/// `keys` name: (key, engineer, record).
fn others_of(
    conn: &mut DbConnection,
    keys: &[String],
) -> Result<Vec<(String, RecordRow)>, ApiError> {
    let live = [RecordState::Submitted, RecordState::Confirmed];
    let mut out = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        out.extend(store::claims::records_naming(conn, chunk, &live)?);
    }
    Ok(out)
}

/// The claims of other engineers on the item `activity` names that the
/// engineer's own claim excludes: for a record not stored yet.
pub fn against(
    conn: &mut DbConnection,
    engineer_id: &str,
    activity: &Activity,
) -> Result<Vec<String>, ApiError> {
    let Some(key) = key_of(activity) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (_, other) in others_of(conn, &[key])? {
        let theirs = convert::rules_record(&other)?.activity;
        if other.engineer_id != engineer_id
            && activity.excludes(&theirs)
            && let Some(claim) = theirs.claim()
            && !out.contains(&claim)
        {
            out.push(claim);
        }
    }
    out.sort();
    Ok(out)
}

/// The engineer's own live records of the item `activity` names that say
/// something else of their part in it: with the new record `id`, the
/// conflicting-claims signal its reviewer sees before confirming it (the
/// year shows it once both count).
pub fn own_conflict(
    conn: &mut DbConnection,
    engineer_id: &str,
    id: &str,
    activity: &Activity,
) -> Result<Option<ce_rules::Signal>, ApiError> {
    let (Some(key), Some(claim)) = (activity.evidence_key(), activity.claim()) else {
        return Ok(None);
    };
    let stored = format!("{}:{}", key.0, key.1);
    let mut claims = vec![(id.to_owned(), claim.clone())];
    for (_, mine) in others_of(conn, &[stored])? {
        if mine.engineer_id != engineer_id {
            continue;
        }
        if let Some(c) = convert::rules_record(&mine)?.activity.claim() {
            claims.push((mine.id.clone(), c));
        }
    }
    if claims.iter().all(|(_, c)| *c == claim) {
        return Ok(None);
    }
    claims.sort();
    Ok(Some(ce_rules::Signal::ConflictingClaims {
        item: format!("{} {}", key.0, key.1),
        claims,
    }))
}

/// For each of `rows` that names an item: the claims of other engineers on
/// it that its own claim excludes, by record id (see
/// [`ce_rules::Activity::excludes`]). One query for all of them; none when
/// no row names an item (training, the bulk of records).
pub fn contested(
    conn: &mut DbConnection,
    rows: &[&RecordRow],
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let mut mine: Vec<(&RecordRow, Activity, String)> = Vec::new();
    for row in rows.iter().filter(|r| may_name_an_item(r)) {
        let activity = convert::rules_record(row)?.activity;
        if let Some(key) = key_of(&activity) {
            mine.push((row, activity, key));
        }
    }
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if mine.is_empty() {
        return Ok(out);
    }
    let keys: Vec<String> = mine
        .iter()
        .map(|m| m.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (key, other) in others_of(conn, &keys)? {
        let theirs = convert::rules_record(&other)?.activity;
        for (row, activity, _) in mine
            .iter()
            .filter(|m| m.2 == key && m.0.engineer_id != other.engineer_id)
        {
            if activity.excludes(&theirs)
                && let Some(claim) = theirs.claim()
            {
                let list = out.entry(row.id.clone()).or_default();
                if !list.contains(&claim) {
                    list.push(claim);
                }
            }
        }
    }
    for list in out.values_mut() {
        list.sort();
    }
    Ok(out)
}

/// The years of other engineers whose confirmed claims on `row`'s item
/// conflict with it: to reassess when `row` is stored or changes state, so
/// the signal appears on their side too, or goes when `row` no longer
/// stands.
pub fn others_to_reassess(
    conn: &mut DbConnection,
    row: &RecordRow,
) -> Result<Vec<(Who, i32)>, ApiError> {
    if !may_name_an_item(row) {
        return Ok(Vec::new());
    }
    let activity = convert::rules_record(row)?.activity;
    let Some(key) = key_of(&activity) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(Who, i32)> = Vec::new();
    for (_, other) in others_of(conn, &[key])? {
        if other.engineer_id == row.engineer_id
            || !other.is(RecordState::Confirmed)
            || !activity.excludes(&convert::rules_record(&other)?.activity)
        {
            continue;
        }
        let who = Who::held(
            &other.engineer_id,
            &other.province,
            other.field,
            &other.employer_id,
        );
        if !out
            .iter()
            .any(|(w, y)| w.engineer_id == who.engineer_id && *y == other.year)
        {
            out.push((who, other.year));
        }
    }
    Ok(out)
}

/// Indexes the items of records stored before claims were kept: the
/// engineers' own submissions without a claims row. Run at start-up; a
/// no-op once done.
pub fn backfill(conn: &mut DbConnection) -> Result<usize, DbError> {
    let missing = store::claims::unindexed_submissions(conn)?;
    let mut n = 0;
    for row in &missing {
        // A stored record that no longer reads names no item we can index.
        let Ok(record) = convert::rules_record(row) else {
            continue;
        };
        let key = key_of(&record.activity).unwrap_or_default();
        store::claims::insert_claim(conn, &row.id, &row.engineer_id, &key)?;
        n += 1;
    }
    Ok(n)
}
