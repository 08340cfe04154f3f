//! Crediting's SQL. Functions take a connection so callers compose them in
//! one transaction.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{annual_statuses, deferrals, hour_records};

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
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = deferrals)]
pub struct DeferralRow {
    pub engineer_id: String,
    pub year: i32,
    pub reason: i32,
    pub explanation: String,
    pub certified_by: String,
    pub create_micros: i64,
}

pub fn insert_deferral(conn: &mut DbConnection, row: &DeferralRow) -> Result<(), DbError> {
    diesel::insert_into(deferrals::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn get_deferral(
    conn: &mut DbConnection,
    engineer: &str,
    year: i32,
) -> Result<Option<DeferralRow>, DbError> {
    Ok(deferrals::table
        .find((engineer, year))
        .select(DeferralRow::as_select())
        .first(conn)
        .optional()?)
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
    states: &[i32],
) -> Result<Vec<RecordRow>, DbError> {
    Ok(hour_records::table
        .filter(hour_records::engineer_id.eq(engineer))
        .filter(hour_records::year.eq(year + 1))
        .filter(hour_records::make_up_for.eq(Some(year)))
        // By engineer on SQLite too (see `counted_in`).
        .filter((hour_records::state + 0).eq_any(states))
        .order(hour_records::id.asc())
        .select(RecordRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(
    table_name = annual_statuses,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
pub struct StatusRow {
    pub engineer_id: String,
    pub year: i32,
    pub province: String,
    pub field: i32,
    pub employer_id: Option<String>,
    pub state: i32,
    pub total_centi: i64,
    pub professional_centi: i64,
    pub status: Vec<u8>,
    pub computed_on: String,
    pub update_micros: i64,
    /// [`status_digest`] of `status`; None for statuses stored before the
    /// column existed.
    pub status_digest: Option<i64>,
}

/// The first eight bytes of the SHA-256 of a stored status: what closing a
/// year compares instead of the status itself.
pub fn status_digest(status: &[u8]) -> i64 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(status);
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// A stored status without the status itself: what closing a year reads.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = annual_statuses)]
pub struct StatusHead {
    pub engineer_id: String,
    pub year: i32,
    pub province: String,
    pub field: i32,
    pub employer_id: Option<String>,
    pub state: i32,
    pub total_centi: i64,
    pub professional_centi: i64,
    pub computed_on: String,
    pub update_micros: i64,
    pub status_digest: Option<i64>,
}

impl StatusHead {
    /// As a row whose status is not known here (empty): it compares unequal
    /// to any computed status.
    pub fn without_status(&self) -> StatusRow {
        StatusRow {
            engineer_id: self.engineer_id.clone(),
            year: self.year,
            province: self.province.clone(),
            field: self.field,
            employer_id: self.employer_id.clone(),
            state: self.state,
            total_centi: self.total_centi,
            professional_centi: self.professional_centi,
            status: Vec::new(),
            computed_on: self.computed_on.clone(),
            update_micros: self.update_micros,
            status_digest: self.status_digest,
        }
    }
}

pub fn insert_record(conn: &mut DbConnection, row: &RecordRow) -> Result<(), DbError> {
    diesel::insert_into(hour_records::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Serialises, until commit, every transaction that reassesses these
/// engineers (PostgreSQL advisory locks; SQLite writes are serial
/// already), so two concurrent changes to one engineer's year cannot each
/// store a status that misses the other's record. Take all the engineers
/// a transaction will reassess in one call: the keys are locked in one
/// order, so two transactions cannot deadlock.
pub fn lock_engineers(conn: &mut DbConnection, ids: &[String]) -> Result<(), DbError> {
    use diesel::sql_types::{Array, BigInt};
    if let DbConnection::Pg(c) = conn {
        let mut keys: Vec<i64> = ids
            .iter()
            .map(|id| {
                let mut h = ce_server::hash::Fnv64::default();
                h.write(b"crediting/engineers/").write(id.as_bytes());
                h.finish() as i64
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest($1::bigint[]) AS k) AS keys",
        )
        .bind::<Array<BigInt>, _>(keys)
        .execute(c)?;
    }
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

/// The engineers with a status for `year` (of one province, or all), in
/// order.
pub fn status_engineers(
    conn: &mut DbConnection,
    year: i32,
    province: Option<&str>,
) -> Result<Vec<String>, DbError> {
    let mut q = annual_statuses::table
        .filter(annual_statuses::year.eq(year))
        .select(annual_statuses::engineer_id)
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(annual_statuses::province.eq(p.to_owned()));
    }
    Ok(q.order(annual_statuses::engineer_id.asc()).load(conn)?)
}

/// Every status of one engineer, oldest year first.
pub fn engineer_statuses(
    conn: &mut DbConnection,
    engineer: &str,
) -> Result<Vec<StatusRow>, DbError> {
    Ok(annual_statuses::table
        .filter(annual_statuses::engineer_id.eq(engineer))
        .order(annual_statuses::year.asc())
        .select(StatusRow::as_select())
        .load(conn)?)
}

/// The last registry engineer change applied to `engineer` (0: none).
pub fn followed_sequence(conn: &mut DbConnection, engineer: &str) -> Result<i64, DbError> {
    use crate::schema::followed_engineers as f;
    Ok(f::table
        .find(engineer)
        .select(f::sequence)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// An engineer's place as of the last registry change applied to them.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct FollowedRow {
    pub engineer_id: String,
    pub sequence: i64,
    /// `None` for a row written before places were kept.
    pub province: Option<String>,
    pub field: Option<i32>,
    pub employer_id: Option<String>,
}

/// The places applied to these engineers, for those that have one.
pub fn followed(
    conn: &mut DbConnection,
    engineers: &[String],
) -> Result<Vec<FollowedRow>, DbError> {
    use crate::schema::followed_engineers as f;
    Ok(f::table
        .filter(f::engineer_id.eq_any(engineers))
        .select((
            f::engineer_id,
            f::sequence,
            f::province,
            f::field,
            f::employer_id,
        ))
        .load(conn)?)
}

/// Records that registry change `sequence` put `engineer` in `province`,
/// `field`, with `employer_id`, unless a later change was recorded already.
pub fn follow(
    conn: &mut DbConnection,
    engineer: &str,
    sequence: i64,
    province: &str,
    field: i32,
    employer_id: Option<&str>,
) -> Result<(), DbError> {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text};
    let query = diesel::sql_query(
        "INSERT INTO followed_engineers (engineer_id, sequence, province, field, employer_id) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (engineer_id) DO UPDATE SET sequence = excluded.sequence, \
         province = excluded.province, field = excluded.field, employer_id = excluded.employer_id \
         WHERE followed_engineers.sequence <= excluded.sequence",
    )
    .bind::<Text, _>(engineer)
    .bind::<BigInt, _>(sequence)
    .bind::<Text, _>(province)
    .bind::<Integer, _>(field)
    .bind::<Nullable<Text>, _>(employer_id);
    match conn {
        DbConnection::Pg(c) => query.execute(c)?,
        DbConnection::Sqlite(c) => query.execute(c)?,
    };
    Ok(())
}

/// These engineers' statuses of `year`, without the statuses themselves.
pub fn status_heads_of(
    conn: &mut DbConnection,
    engineers: &[String],
    year: i32,
) -> Result<Vec<StatusHead>, DbError> {
    Ok(annual_statuses::table
        .filter(annual_statuses::engineer_id.eq_any(engineers))
        .filter(annual_statuses::year.eq(year))
        .select(StatusHead::as_select())
        .load(conn)?)
}

pub fn statuses_of(
    conn: &mut DbConnection,
    engineers: &[String],
    year: i32,
) -> Result<Vec<StatusRow>, DbError> {
    Ok(annual_statuses::table
        .filter(annual_statuses::engineer_id.eq_any(engineers))
        .filter(annual_statuses::year.eq(year))
        .select(StatusRow::as_select())
        .load(conn)?)
}

/// An annual status's key: engineer id and year.
pub type StatusKey = (String, i32);

/// The stored statuses of `keys`, for the batched point reads of
/// `GetAnnualStatus`: one query per year among the keys.
pub fn statuses_by_key(
    conn: &mut DbConnection,
    keys: &[StatusKey],
) -> Result<Vec<(StatusKey, StatusRow)>, DbError> {
    let mut years: Vec<i32> = keys.iter().map(|(_, y)| *y).collect();
    years.sort_unstable();
    years.dedup();
    let mut found = Vec::with_capacity(keys.len());
    for year in years {
        let engineers: Vec<String> = keys
            .iter()
            .filter(|(_, y)| *y == year)
            .map(|(e, _)| e.clone())
            .collect();
        found.extend(
            statuses_of(conn, &engineers, year)?
                .into_iter()
                .map(|r| ((r.engineer_id.clone(), r.year), r)),
        );
    }
    Ok(found)
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
    state: i32,
    by: &str,
    reason: Option<&str>,
    at: i64,
) -> Result<(), DbError> {
    diesel::update(hour_records::table.find(id))
        .set((
            hour_records::state.eq(state),
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
    states: &[i32],
) -> Result<Vec<RecordRow>, DbError> {
    Ok(hour_records::table
        .filter(hour_records::engineer_id.eq(engineer))
        .filter(hour_records::year.le(year))
        .filter(hour_records::last_year.ge(year))
        .filter(hour_records::state.eq_any(states))
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

/// Writes a year's status, replacing the one before.
pub fn put_status(conn: &mut DbConnection, row: &StatusRow) -> Result<(), DbError> {
    let updated = diesel::update(annual_statuses::table.find((&row.engineer_id, row.year)))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(annual_statuses::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Status writes a batch makes together.
#[derive(Debug, Default)]
pub struct StatusWrites {
    pub inserts: Vec<StatusRow>,
    pub updates: Vec<StatusRow>,
}

impl StatusWrites {
    pub fn flush(self, conn: &mut DbConnection) -> Result<(), DbError> {
        insert_statuses(conn, &self.inserts)?;
        update_statuses(conn, &self.updates)
    }
}

/// Replaces existing statuses: on PostgreSQL one `UPDATE … FROM unnest`.
pub fn update_statuses(conn: &mut DbConnection, rows: &[StatusRow]) -> Result<(), DbError> {
    use diesel::sql_types::{Array, BigInt, Binary, Integer, Nullable, Text};
    match conn {
        DbConnection::Pg(c) if rows.len() > 1 => {
            let col = |f: fn(&StatusRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
            let int = |f: fn(&StatusRow) -> i32| rows.iter().map(f).collect::<Vec<_>>();
            let big = |f: fn(&StatusRow) -> i64| rows.iter().map(f).collect::<Vec<_>>();
            diesel::sql_query(
                "UPDATE annual_statuses AS a SET province = v.province, field = v.field, \
                 employer_id = v.employer_id, state = v.state, total_centi = v.total_centi, \
                 professional_centi = v.professional_centi, status = v.status, \
                 computed_on = v.computed_on, update_micros = v.update_micros, \
                 status_digest = v.status_digest \
                 FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::int[], \
                 $7::bigint[], $8::bigint[], $9::bytea[], $10::text[], $11::bigint[], $12::bigint[]) \
                 AS v(engineer_id, year, province, field, employer_id, state, total_centi, \
                 professional_centi, status, computed_on, update_micros, status_digest) \
                 WHERE a.engineer_id = v.engineer_id AND a.year = v.year",
            )
            .bind::<Array<Text>, _>(col(|r| r.engineer_id.clone()))
            .bind::<Array<Integer>, _>(int(|r| r.year))
            .bind::<Array<Text>, _>(col(|r| r.province.clone()))
            .bind::<Array<Integer>, _>(int(|r| r.field))
            .bind::<Array<Nullable<Text>>, _>(
                rows.iter()
                    .map(|r| r.employer_id.clone())
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Integer>, _>(int(|r| r.state))
            .bind::<Array<BigInt>, _>(big(|r| r.total_centi))
            .bind::<Array<BigInt>, _>(big(|r| r.professional_centi))
            .bind::<Array<Binary>, _>(rows.iter().map(|r| r.status.clone()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(col(|r| r.computed_on.clone()))
            .bind::<Array<BigInt>, _>(big(|r| r.update_micros))
            .bind::<Array<Nullable<BigInt>>, _>(
                rows.iter().map(|r| r.status_digest).collect::<Vec<_>>(),
            )
            .execute(c)?;
        }
        conn => {
            for row in rows {
                put_status(conn, row)?;
            }
        }
    }
    Ok(())
}

/// Writes years' first statuses: on PostgreSQL one binary `COPY`.
pub fn insert_statuses(conn: &mut DbConnection, rows: &[StatusRow]) -> Result<(), DbError> {
    match (conn, rows.len()) {
        (_, 0) => {}
        (DbConnection::Pg(c), n) if n > 1 => {
            diesel::copy_from(annual_statuses::table)
                .from_insertable(rows)
                .execute(c)?;
        }
        (conn, _) => {
            for row in rows {
                diesel::insert_into(annual_statuses::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

pub fn get_status(
    conn: &mut DbConnection,
    engineer: &str,
    year: i32,
) -> Result<Option<StatusRow>, DbError> {
    Ok(annual_statuses::table
        .find((engineer, year))
        .select(StatusRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for a list of statuses of one year.
#[derive(Debug, Default, Clone)]
pub struct StatusFilter {
    pub year: i32,
    pub province: Option<String>,
    pub field: Option<i32>,
    pub employer_id: Option<String>,
    pub state: Option<i32>,
    pub engineer_id: Option<String>,
}

pub fn list_statuses(
    conn: &mut DbConnection,
    f: &StatusFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<StatusRow>, DbError> {
    let mut q = annual_statuses::table
        .filter(annual_statuses::year.eq(f.year))
        .select(StatusRow::as_select())
        .into_boxed();
    if let Some(v) = &f.province {
        q = q.filter(annual_statuses::province.eq(v.clone()));
    }
    if let Some(v) = f.field {
        q = q.filter(annual_statuses::field.eq(v));
    }
    if let Some(v) = &f.employer_id {
        q = q.filter(annual_statuses::employer_id.eq(v.clone()));
    }
    if let Some(v) = f.state {
        q = q.filter(annual_statuses::state.eq(v));
    }
    if let Some(v) = &f.engineer_id {
        q = q.filter(annual_statuses::engineer_id.eq(v.clone()));
    }
    if let Some(a) = after {
        q = q.filter(annual_statuses::engineer_id.gt(a.to_owned()));
    }
    Ok(q.order(annual_statuses::engineer_id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Province, field, state, how many statuses, and their centi-hours.
pub type StatusCount = (String, i32, i32, i64, i64);

/// Counts and hours of a year's statuses by province, field and state.
pub fn status_counts(
    conn: &mut DbConnection,
    f: &StatusFilter,
) -> Result<Vec<StatusCount>, DbError> {
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::BigInt;
    let mut q = annual_statuses::table
        .filter(annual_statuses::year.eq(f.year))
        .group_by((
            annual_statuses::province,
            annual_statuses::field,
            annual_statuses::state,
        ))
        .select((
            annual_statuses::province,
            annual_statuses::field,
            annual_statuses::state,
            count_star(),
            // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back for both backends.
            sql::<BigInt>("CAST(COALESCE(SUM(total_centi), 0) AS BIGINT)"),
        ))
        .into_boxed();
    if let Some(v) = &f.province {
        q = q.filter(annual_statuses::province.eq(v.clone()));
    }
    if let Some(v) = f.field {
        q = q.filter(annual_statuses::field.eq(v));
    }
    if let Some(v) = &f.employer_id {
        q = q.filter(annual_statuses::employer_id.eq(v.clone()));
    }
    if let Some(v) = &f.engineer_id {
        q = q.filter(annual_statuses::engineer_id.eq(v.clone()));
    }
    Ok(q.order((annual_statuses::province, annual_statuses::field))
        .load(conn)?)
}

/// The counted records of these engineers' `year`, by engineer then id.
pub fn records_of(
    conn: &mut DbConnection,
    engineers: &[String],
    year: i32,
    states: &[i32],
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
    states: &'a [i32],
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
        .filter((hour_records::state + 0).eq_any(states))
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
    states: &[i32],
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
    states: &[i32],
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

/// Which of these engineers have a deferral for one of `years`.
pub fn deferred_among(
    conn: &mut DbConnection,
    engineers: &[String],
    years: &[i32],
) -> Result<Vec<String>, DbError> {
    Ok(deferrals::table
        .filter(deferrals::engineer_id.eq_any(engineers))
        .filter(deferrals::year.eq_any(years))
        .select(deferrals::engineer_id)
        .distinct()
        .load(conn)?)
}

/// Which of these engineers have a status for `year`.
pub fn with_status(
    conn: &mut DbConnection,
    engineers: &[String],
    year: i32,
) -> Result<Vec<String>, DbError> {
    Ok(annual_statuses::table
        .filter(annual_statuses::engineer_id.eq_any(engineers))
        .filter(annual_statuses::year.eq(year))
        .select(annual_statuses::engineer_id)
        .load(conn)?)
}
