//! Hour records: stored, decided, corrected, designated as make-up, and
//! read by engineer and year.

use ce_db::{DbConnection, DbError};
use ce_proto::crediting::{RecordState, Route};
use diesel::prelude::*;

use crate::schema::hour_records;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = hour_records, treat_none_as_default_value = false)]
pub struct RecordRow {
    pub id: String,
    pub engineer_id: String,
    pub year: i32,
    pub province: String,
    pub field: i32,
    pub employer_id: Option<String>,
    pub route: i32,
    pub state: i32,
    pub activity: Vec<u8>,
    pub registry_activity: String,
    pub institution_id: Option<String>,
    pub claimed_centi: Option<i64>,
    pub submitted_by: String,
    pub submitted_role: String,
    pub submitter: String,
    pub client_key: Option<String>,
    pub content_digest: String,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub explanation: Option<Vec<u8>>,
    pub create_micros: i64,
    pub update_micros: i64,
    /// Art. 20: the earlier year this record makes up.
    pub make_up_for: Option<i32>,
    /// The record this one corrects.
    pub supersedes: Option<String>,
    /// The last year it counts in: `year` but for an aid assignment, which
    /// counts in every year its period overlaps (Art. 19).
    pub last_year: i32,
    /// The request that created it, as its audit row names it
    /// (`docs/audit.md`, "Who created a record"); None for a record stored
    /// before requests were kept.
    pub request_id: Option<String>,
    /// Its position in the change feed (`docs/architecture.md`, "The
    /// change feed"); None until the transaction that stores it numbers it.
    pub feed_seq: Option<i64>,
}

impl RecordRow {
    /// The record's state, as stored (an unknown number reads as
    /// unspecified).
    pub fn state(&self) -> RecordState {
        RecordState::try_from(self.state).unwrap_or(RecordState::Unspecified)
    }

    /// The route it was registered on (Art. 21).
    pub fn route(&self) -> Route {
        Route::try_from(self.route).unwrap_or(Route::Unspecified)
    }

    /// Whether it is in `state`.
    pub fn is(&self, state: RecordState) -> bool {
        self.state() == state
    }
}

/// States as the `state` column stores them.
fn codes(states: &[RecordState]) -> Vec<i32> {
    states.iter().map(|s| *s as i32).collect()
}

pub fn set_make_up(conn: &mut DbConnection, id: &str, year: i32, at: i64) -> Result<(), DbError> {
    diesel::update(hour_records::table.find(id))
        .set((
            hour_records::make_up_for.eq(Some(year)),
            hour_records::update_micros.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records of the year after `year`, in the given states, designated as
/// make-up for `year`.
pub fn make_up_records(
    conn: &mut DbConnection,
    engineer: &str,
    year: i32,
    states: &[RecordState],
) -> Result<Vec<RecordRow>, DbError> {
    Ok(hour_records::table
        .filter(hour_records::engineer_id.eq(engineer))
        .filter(hour_records::year.eq(year + 1))
        .filter(hour_records::make_up_for.eq(Some(year)))
        // By engineer on SQLite too (see `counted_in`).
        .filter((hour_records::state + 0).eq_any(codes(states)))
        .order(hour_records::id.asc())
        .select(RecordRow::as_select())
        .load(conn)?)
}

pub fn insert_record(conn: &mut DbConnection, row: &RecordRow) -> Result<(), DbError> {
    diesel::insert_into(hour_records::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Inserts many records: on PostgreSQL one binary `COPY` inside the
/// caller's transaction, on SQLite one cached prepared statement a row.
pub fn insert_records(conn: &mut DbConnection, rows: &[RecordRow]) -> Result<(), DbError> {
    match conn {
        DbConnection::Pg(c) => {
            if !rows.is_empty() {
                diesel::copy_from(hour_records::table)
                    .from_insertable(rows)
                    .execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            // One cached prepared statement, run for each row, as the bench's
            // baseline does: SQLite has no COPY, and a many-row INSERT (26
            // binds a row) is built and parsed afresh for every size.
            for row in rows {
                diesel::insert_into(hour_records::table)
                    .values(row)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The records a submitter stored under any of these client keys.
pub fn records_by_keys(
    conn: &mut DbConnection,
    submitter: &str,
    keys: &[String],
) -> Result<Vec<RecordRow>, DbError> {
    let mut out = Vec::new();
    for chunk in keys.chunks(1000) {
        out.extend(
            hour_records::table
                .filter(hour_records::submitter.eq(submitter))
                .filter(hour_records::client_key.eq_any(chunk))
                .select(RecordRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// These records, in no particular order.
pub fn records_by_ids(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<RecordRow>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        out.extend(
            hour_records::table
                .filter(hour_records::id.eq_any(chunk))
                .select(RecordRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

pub fn get_record(conn: &mut DbConnection, id: &str) -> Result<Option<RecordRow>, DbError> {
    Ok(hour_records::table
        .find(id)
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn record_by_key(
    conn: &mut DbConnection,
    submitter: &str,
    key: &str,
) -> Result<Option<RecordRow>, DbError> {
    Ok(hour_records::table
        .filter(hour_records::submitter.eq(submitter))
        .filter(hour_records::client_key.eq(key))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?)
}

/// Moves a record to `state`, recording who decided and why.
pub fn decide(
    conn: &mut DbConnection,
    id: &str,
    state: RecordState,
    by: &str,
    reason: Option<&str>,
    at: i64,
) -> Result<(), DbError> {
    diesel::update(hour_records::table.find(id))
        .set((
            hour_records::state.eq(state as i32),
            hour_records::decided_by.eq(Some(by)),
            hour_records::decision_reason.eq(reason),
            hour_records::update_micros.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The records of one engineer's year in the given states.
pub fn year_records(
    conn: &mut DbConnection,
    engineer: &str,
    year: i32,
    states: &[RecordState],
) -> Result<Vec<RecordRow>, DbError> {
    Ok(hour_records::table
        .filter(hour_records::engineer_id.eq(engineer))
        .filter(hour_records::year.le(year))
        .filter(hour_records::last_year.ge(year))
        .filter(hour_records::state.eq_any(codes(states)))
        .order(hour_records::id.asc())
        .select(RecordRow::as_select())
        .load(conn)?)
}

pub fn set_explanation(
    conn: &mut DbConnection,
    id: &str,
    explanation: Option<Vec<u8>>,
) -> Result<(), DbError> {
    diesel::update(hour_records::table.find(id))
        .set(hour_records::explanation.eq(explanation))
        .execute(conn)?;
    Ok(())
}

/// Filters for a list of records; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct RecordFilter {
    pub engineer_id: Option<String>,
    pub year: Option<i32>,
    pub state: Option<i32>,
    pub province: Option<String>,
    pub field: Option<i32>,
    pub employer_id: Option<String>,
    pub institution_id: Option<String>,
}

pub fn list_records(
    conn: &mut DbConnection,
    f: &RecordFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RecordRow>, DbError> {
    let mut q = hour_records::table
        .select(RecordRow::as_select())
        .into_boxed();
    if let Some(v) = &f.engineer_id {
        q = q.filter(hour_records::engineer_id.eq(v.clone()));
    }
    if let Some(v) = f.year {
        // The records that count in the year, an aid assignment in each it overlaps.
        q = q
            .filter(hour_records::year.le(v))
            .filter(hour_records::last_year.ge(v));
    }
    if let Some(v) = f.state {
        // One engineer's records are found by engineer, not among every
        // record in the state (SQLite would take the `(state, id)` index,
        // as it gives the order; see `counted_in`).
        q = if f.engineer_id.is_some() {
            q.filter((hour_records::state + 0).eq(v))
        } else {
            q.filter(hour_records::state.eq(v))
        };
    }
    if let Some(v) = &f.province {
        q = q.filter(hour_records::province.eq(v.clone()));
    }
    if let Some(v) = f.field {
        q = q.filter(hour_records::field.eq(v));
    }
    if let Some(v) = &f.employer_id {
        q = q.filter(hour_records::employer_id.eq(v.clone()));
    }
    if let Some(v) = &f.institution_id {
        q = q.filter(hour_records::institution_id.eq(v.clone()));
    }
    if let Some(a) = after {
        q = q.filter(hour_records::id.gt(a.to_owned()));
    }
    Ok(q.order(hour_records::id.asc()).limit(limit).load(conn)?)
}

/// The counted records of these engineers' `year`, by engineer then id.
pub fn records_of(
    conn: &mut DbConnection,
    engineers: &[String],
    year: i32,
    states: &[RecordState],
) -> Result<Vec<RecordRow>, DbError> {
    Ok(counted_in(engineers, year, states)
        .order((hour_records::engineer_id.asc(), hour_records::id.asc()))
        .select(RecordRow::as_select())
        .load(conn)?)
}

/// These engineers' records in `states` that count in `year`, in no
/// particular order: what [`records_of`] (which orders them),
/// [`records_for_rules_of`] and [`explanations_of`] select from.
fn counted_in<'a>(
    engineers: &'a [String],
    year: i32,
    states: &[RecordState],
) -> hour_records::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend> {
    hour_records::table
        .filter(hour_records::engineer_id.eq_any(engineers))
        .filter(hour_records::year.le(year))
        .filter(hour_records::last_year.ge(year))
        // `state + 0`, not `state`: SQLite without statistics prefers the
        // one-column equality on `state` (the `(state, id)` index) to a list
        // of engineers, and then reads every record in that state for each
        // message of a bulk upload. An expression cannot use that index (the
        // SQLite manual's "disqualifying WHERE clause terms"); PostgreSQL
        // plans by the engineers either way.
        .filter((hour_records::state + 0).eq_any(codes(states)))
        .into_boxed()
}

/// Like [`records_of`], with only the columns the rules read
/// (`status::rules_record`): id, engineer, state, activity, registry
/// activity, institution, claimed quantity and make-up year. Every other
/// field is empty, the explanation None. Closing a year reads a million
/// records; turning each column of each into a `String` was a third of its
/// time. The stored explanations of the years that changed are read with
/// [`explanations_of`]. In no particular order: sorting ten thousand ids
/// under the database's collation was half of PostgreSQL's time for the
/// query, so the caller puts each engineer's records in id order itself.
pub fn records_for_rules_of(
    conn: &mut DbConnection,
    engineers: &[String],
    year: i32,
    states: &[RecordState],
) -> Result<Vec<RecordRow>, DbError> {
    use hour_records as h;
    Ok(counted_in(engineers, year, states)
        .select((
            h::id,
            h::engineer_id,
            h::year,
            h::state,
            h::activity,
            h::registry_activity,
            h::institution_id,
            h::claimed_centi,
            h::make_up_for,
            h::last_year,
            h::route,
        ))
        .load::<RulesColumns>(conn)?
        .into_iter()
        .map(|c| RecordRow {
            id: c.0,
            engineer_id: c.1,
            year: c.2,
            state: c.3,
            activity: c.4,
            registry_activity: c.5,
            institution_id: c.6,
            claimed_centi: c.7,
            make_up_for: c.8,
            last_year: c.9,
            route: c.10,
            province: String::new(),
            field: 0,
            employer_id: None,
            submitted_by: String::new(),
            submitted_role: String::new(),
            submitter: String::new(),
            client_key: None,
            content_digest: String::new(),
            decided_by: None,
            decision_reason: None,
            explanation: None,
            create_micros: 0,
            update_micros: 0,
            supersedes: None,
            request_id: None,
            feed_seq: None,
        })
        .collect())
}

type RulesColumns = (
    String,
    String,
    i32,
    i32,
    Vec<u8>,
    String,
    Option<String>,
    Option<i64>,
    Option<i32>,
    i32,
    i32,
);

/// A record's id and its stored explanation.
pub type StoredExplanation = (String, Option<Vec<u8>>);

/// The stored explanations of the records [`records_for_rules_of`] reads
/// for these engineers: found through the engineers, as those were. A
/// close that changes every year reads a million of them; looked up by
/// record id, a thousand ids a query, that was four times the work in
/// PostgreSQL (a probe of the primary key for each record, against one of
/// `(engineer_id, year)` for each engineer).
pub fn explanations_of(
    conn: &mut DbConnection,
    engineers: &[String],
    year: i32,
    states: &[RecordState],
) -> Result<Vec<StoredExplanation>, DbError> {
    use hour_records as h;
    let mut out = Vec::new();
    for chunk in engineers.chunks(1000) {
        out.extend(
            counted_in(chunk, year, states)
                .select((h::id, h::explanation))
                .load::<StoredExplanation>(conn)?,
        );
    }
    Ok(out)
}
