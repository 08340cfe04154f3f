//! Annual statuses: one stored assessment per engineer and year.

use ce_db::{DbConnection, DbError};
use ce_proto::crediting::AnnualState;
use diesel::prelude::*;

use crate::schema::{annual_status_bodies, annual_statuses};

/// A stored status's verdict: the narrow row a year's close updates in
/// place (see docs/performance.md, "Statuses: a verdict and a body").
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
    /// [`status_digest`] of the body; None for a status stored before the
    /// body was kept apart (its body is then its whole old encoding).
    pub body_digest: Option<i64>,
    /// The rule set the year was assessed with (`RuleSet::fingerprint`);
    /// None for a status stored before it was recorded.
    pub rule_set: Option<String>,
}

/// A stored state as the wire names it (an unknown number reads as
/// unspecified).
fn annual_state(stored: i32) -> AnnualState {
    AnnualState::try_from(stored).unwrap_or(AnnualState::Unspecified)
}

impl StatusHead {
    /// The year's state.
    pub fn state(&self) -> AnnualState {
        annual_state(self.state)
    }
}

/// A stored status as read: its verdict, and its encoding (the body with
/// the verdict's fields appended, a whole `AnnualStatus`).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    pub head: StatusHead,
    pub status: Vec<u8>,
}

impl std::ops::Deref for StatusRow {
    type Target = StatusHead;
    fn deref(&self) -> &StatusHead {
        &self.head
    }
}

/// A status to write: its verdict, the verdict's fields encoded, and its
/// body when that changed (always for a year's first status).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusWrite {
    pub head: StatusHead,
    pub verdict: Vec<u8>,
    pub body: Option<Vec<u8>>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(
    table_name = annual_statuses,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
struct VerdictRow {
    engineer_id: String,
    year: i32,
    province: String,
    field: i32,
    employer_id: Option<String>,
    state: i32,
    total_centi: i64,
    professional_centi: i64,
    computed_on: String,
    update_micros: i64,
    body_digest: Option<i64>,
    rule_set: Option<String>,
    verdict: Vec<u8>,
}

#[derive(Insertable)]
#[diesel(table_name = annual_status_bodies, treat_none_as_default_value = false)]
struct BodyRow {
    engineer_id: String,
    year: i32,
    body: Vec<u8>,
}

/// The first eight bytes of the SHA-256 of a stored body: what a year's
/// reassessment compares instead of the body itself.
pub fn status_digest(status: &[u8]) -> i64 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(status);
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Verdicts joined to their bodies, as [`StatusRow`]s are read.
macro_rules! joined {
    () => {
        annual_statuses::table.inner_join(
            annual_status_bodies::table.on(annual_status_bodies::engineer_id
                .eq(annual_statuses::engineer_id)
                .and(annual_status_bodies::year.eq(annual_statuses::year))),
        )
    };
}

/// What [`joined!`] selects, and the row it makes.
type Joined = (StatusHead, Vec<u8>, Vec<u8>);
/// The columns of a [`Joined`].
macro_rules! selected {
    () => {
        (
            StatusHead::as_select(),
            annual_statuses::verdict,
            annual_status_bodies::body,
        )
    };
}

fn row((head, verdict, mut body): Joined) -> StatusRow {
    body.extend_from_slice(&verdict);
    StatusRow { head, status: body }
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
    Ok(joined!()
        .filter(annual_statuses::engineer_id.eq(engineer))
        .order(annual_statuses::year.asc())
        .select(selected!())
        .load::<Joined>(conn)?
        .into_iter()
        .map(row)
        .collect())
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
    Ok(joined!()
        .filter(annual_statuses::engineer_id.eq_any(engineers))
        .filter(annual_statuses::year.eq(year))
        .select(selected!())
        .load::<Joined>(conn)?
        .into_iter()
        .map(row)
        .collect())
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

impl StatusWrite {
    fn verdict_row(&self) -> VerdictRow {
        let h = &self.head;
        VerdictRow {
            engineer_id: h.engineer_id.clone(),
            year: h.year,
            province: h.province.clone(),
            field: h.field,
            employer_id: h.employer_id.clone(),
            state: h.state,
            total_centi: h.total_centi,
            professional_centi: h.professional_centi,
            computed_on: h.computed_on.clone(),
            update_micros: h.update_micros,
            body_digest: h.body_digest,
            rule_set: h.rule_set.clone(),
            verdict: self.verdict.clone(),
        }
    }

    fn body_row(&self) -> Option<BodyRow> {
        self.body.as_ref().map(|body| BodyRow {
            engineer_id: self.head.engineer_id.clone(),
            year: self.head.year,
            body: body.clone(),
        })
    }
}

/// Writes a year's status, replacing the one before: its verdict, and its
/// body when that changed.
pub fn put_status(conn: &mut DbConnection, write: &StatusWrite) -> Result<(), DbError> {
    let h = &write.head;
    let verdict = write.verdict_row();
    let updated = diesel::update(annual_statuses::table.find((&h.engineer_id, h.year)))
        .set(&verdict)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(annual_statuses::table)
            .values(&verdict)
            .execute(conn)?;
    }
    if let Some(body) = write.body_row() {
        let updated = diesel::update(annual_status_bodies::table.find((&h.engineer_id, h.year)))
            .set(annual_status_bodies::body.eq(&body.body))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(annual_status_bodies::table)
                .values(&body)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Status writes a batch makes together.
#[derive(Debug, Default)]
pub struct StatusWrites {
    pub inserts: Vec<StatusWrite>,
    pub updates: Vec<StatusWrite>,
    /// Verdicts whose year is the same under the rules they name now.
    pub rule_sets: Vec<RuleSetOf>,
}

impl StatusWrites {
    pub fn flush(self, conn: &mut DbConnection) -> Result<(), DbError> {
        insert_statuses(conn, &self.inserts)?;
        update_statuses(conn, &self.updates)?;
        set_rule_sets(conn, &self.rule_sets)
    }
}

/// A stored year and the fingerprint of the rules it is assessed under.
pub type RuleSetOf = (String, i32, String);

/// Names the rules each of these years is assessed under now, touching
/// nothing else of them: PostgreSQL, one `UPDATE … FROM unnest`.
pub fn set_rule_sets(conn: &mut DbConnection, rows: &[RuleSetOf]) -> Result<(), DbError> {
    use diesel::sql_types::{Array, Integer, Text};
    match conn {
        _ if rows.is_empty() => {}
        DbConnection::Pg(c) => {
            diesel::sql_query(
                "UPDATE annual_statuses AS a SET rule_set = v.rule_set \
                 FROM unnest($1::text[], $2::int[], $3::text[]) AS v(engineer_id, year, rule_set) \
                 WHERE a.engineer_id = v.engineer_id AND a.year = v.year",
            )
            .bind::<Array<Text>, _>(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>())
            .bind::<Array<Integer>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
            .execute(c)?;
        }
        conn => {
            for (engineer, year, rule_set) in rows {
                diesel::update(annual_statuses::table.find((engineer, *year)))
                    .set(annual_statuses::rule_set.eq(rule_set))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// A province, a year, a rule set, and how many stored years of that
/// province and year were assessed under it.
pub type RuleSetUse = (String, i32, Option<String>, i64);

/// How many stored years of each province and year were assessed under
/// each rule set (of one province, or all; of one year, or all).
pub fn rule_sets_in_use(
    conn: &mut DbConnection,
    province: Option<&str>,
    year: Option<i32>,
) -> Result<Vec<RuleSetUse>, DbError> {
    use diesel::dsl::count_star;
    let mut q = annual_statuses::table
        .group_by((
            annual_statuses::province,
            annual_statuses::year,
            annual_statuses::rule_set,
        ))
        .select((
            annual_statuses::province,
            annual_statuses::year,
            annual_statuses::rule_set,
            count_star(),
        ))
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(annual_statuses::province.eq(p.to_owned()));
    }
    if let Some(y) = year {
        q = q.filter(annual_statuses::year.eq(y));
    }
    Ok(q.order((annual_statuses::province, annual_statuses::year))
        .load(conn)?)
}

/// The engineers whose stored year of `province` and `year` was assessed
/// under rules other than `rule_set` (every one if None), in order.
pub fn assessed_under_other_rules(
    conn: &mut DbConnection,
    province: &str,
    year: i32,
    rule_set: Option<&str>,
) -> Result<Vec<String>, DbError> {
    let mut q = annual_statuses::table
        .filter(annual_statuses::province.eq(province.to_owned()))
        .filter(annual_statuses::year.eq(year))
        .select(annual_statuses::engineer_id)
        .into_boxed();
    if let Some(r) = rule_set {
        q = q.filter(
            annual_statuses::rule_set
                .is_null()
                .or(annual_statuses::rule_set.ne(r.to_owned())),
        );
    }
    Ok(q.order(annual_statuses::engineer_id.asc()).load(conn)?)
}

/// Replaces existing statuses: on PostgreSQL one `UPDATE … FROM unnest`
/// for the verdicts and one for the bodies that changed.
pub fn update_statuses(conn: &mut DbConnection, writes: &[StatusWrite]) -> Result<(), DbError> {
    match conn {
        DbConnection::Pg(c) if writes.len() > 1 => {
            update_verdicts_pg(c, writes)?;
            let bodies: Vec<BodyRow> = writes.iter().filter_map(StatusWrite::body_row).collect();
            update_bodies_pg(c, &bodies)?;
        }
        conn => {
            for write in writes {
                put_status(conn, write)?;
            }
        }
    }
    Ok(())
}

fn update_verdicts_pg(c: &mut diesel::PgConnection, writes: &[StatusWrite]) -> Result<(), DbError> {
    use diesel::sql_types::{Array, BigInt, Binary, Integer, Nullable, Text};
    let rows: Vec<VerdictRow> = writes.iter().map(StatusWrite::verdict_row).collect();
    let col = |f: fn(&VerdictRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let opt = |f: fn(&VerdictRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let int = |f: fn(&VerdictRow) -> i32| rows.iter().map(f).collect::<Vec<_>>();
    let big = |f: fn(&VerdictRow) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    diesel::sql_query(
        "UPDATE annual_statuses AS a SET province = v.province, field = v.field, \
         employer_id = v.employer_id, state = v.state, total_centi = v.total_centi, \
         professional_centi = v.professional_centi, computed_on = v.computed_on, \
         update_micros = v.update_micros, body_digest = v.body_digest, \
         rule_set = v.rule_set, verdict = v.verdict \
         FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::int[], \
         $7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], \
         $13::bytea[]) \
         AS v(engineer_id, year, province, field, employer_id, state, total_centi, \
         professional_centi, computed_on, update_micros, body_digest, rule_set, verdict) \
         WHERE a.engineer_id = v.engineer_id AND a.year = v.year",
    )
    .bind::<Array<Text>, _>(col(|r| r.engineer_id.clone()))
    .bind::<Array<Integer>, _>(int(|r| r.year))
    .bind::<Array<Text>, _>(col(|r| r.province.clone()))
    .bind::<Array<Integer>, _>(int(|r| r.field))
    .bind::<Array<Nullable<Text>>, _>(opt(|r| r.employer_id.clone()))
    .bind::<Array<Integer>, _>(int(|r| r.state))
    .bind::<Array<BigInt>, _>(big(|r| r.total_centi))
    .bind::<Array<BigInt>, _>(big(|r| r.professional_centi))
    .bind::<Array<Text>, _>(col(|r| r.computed_on.clone()))
    .bind::<Array<BigInt>, _>(big(|r| r.update_micros))
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.body_digest).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(opt(|r| r.rule_set.clone()))
    .bind::<Array<Binary>, _>(rows.iter().map(|r| r.verdict.clone()).collect::<Vec<_>>())
    .execute(c)?;
    Ok(())
}

fn update_bodies_pg(c: &mut diesel::PgConnection, bodies: &[BodyRow]) -> Result<(), DbError> {
    use diesel::sql_types::{Array, Binary, Integer, Text};
    if bodies.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE annual_status_bodies AS b SET body = v.body \
         FROM unnest($1::text[], $2::int[], $3::bytea[]) AS v(engineer_id, year, body) \
         WHERE b.engineer_id = v.engineer_id AND b.year = v.year",
    )
    .bind::<Array<Text>, _>(
        bodies
            .iter()
            .map(|b| b.engineer_id.clone())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Integer>, _>(bodies.iter().map(|b| b.year).collect::<Vec<_>>())
    .bind::<Array<Binary>, _>(bodies.iter().map(|b| b.body.clone()).collect::<Vec<_>>())
    .execute(c)?;
    Ok(())
}

/// Writes years' first statuses, verdicts and bodies: on PostgreSQL one
/// binary `COPY` each.
pub fn insert_statuses(conn: &mut DbConnection, writes: &[StatusWrite]) -> Result<(), DbError> {
    if writes.is_empty() {
        return Ok(());
    }
    let verdicts: Vec<VerdictRow> = writes.iter().map(StatusWrite::verdict_row).collect();
    let bodies: Vec<BodyRow> = writes.iter().filter_map(StatusWrite::body_row).collect();
    match conn {
        DbConnection::Pg(c) if writes.len() > 1 => {
            diesel::copy_from(annual_statuses::table)
                .from_insertable(&verdicts)
                .execute(c)?;
            diesel::copy_from(annual_status_bodies::table)
                .from_insertable(&bodies)
                .execute(c)?;
        }
        conn => {
            for row in &verdicts {
                diesel::insert_into(annual_statuses::table)
                    .values(row)
                    .execute(conn)?;
            }
            for row in &bodies {
                diesel::insert_into(annual_status_bodies::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// The provinces with verdicts of `year` in `state` (one province, or
/// all), in order.
pub fn provinces_in_state(
    conn: &mut DbConnection,
    year: i32,
    province: Option<&str>,
    state: AnnualState,
) -> Result<Vec<String>, DbError> {
    let mut q = annual_statuses::table
        .filter(annual_statuses::year.eq(year))
        .filter(annual_statuses::state.eq(state as i32))
        .select(annual_statuses::province)
        .distinct()
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(annual_statuses::province.eq(p.to_owned()));
    }
    Ok(q.order(annual_statuses::province.asc()).load(conn)?)
}

/// A close's move of a province's verdicts of a year: from one state to
/// another, with the verdict's fields encoded, on a day at a time.
#[derive(Debug, Clone)]
pub struct Close<'a> {
    pub year: i32,
    pub province: &'a str,
    pub from: AnnualState,
    pub to: AnnualState,
    pub verdict: &'a [u8],
    pub on: &'a str,
    pub at_micros: i64,
}

/// Moves every verdict of the close's year and province that is in its
/// `from` state, and that no Art. 20 deferral of the year or the one
/// before links to a neighbour, to its `to` state; returns the engineers
/// moved. One `UPDATE`: each row is checked again under its lock, so a
/// verdict a concurrent write moved first stays as that write made it.
pub fn close_verdicts(conn: &mut DbConnection, c: &Close) -> Result<Vec<String>, DbError> {
    let deferred = crate::schema::deferrals::table
        .filter(crate::schema::deferrals::year.eq_any([c.year - 1, c.year]))
        .select(crate::schema::deferrals::engineer_id);
    let target = annual_statuses::table
        .filter(annual_statuses::year.eq(c.year))
        .filter(annual_statuses::province.eq(c.province))
        .filter(annual_statuses::state.eq(c.from as i32))
        .filter(diesel::dsl::not(
            annual_statuses::engineer_id.eq_any(deferred),
        ));
    let set = (
        annual_statuses::state.eq(c.to as i32),
        annual_statuses::verdict.eq(c.verdict),
        annual_statuses::computed_on.eq(c.on),
        annual_statuses::update_micros.eq(c.at_micros),
    );
    Ok(match conn {
        DbConnection::Pg(pg) => diesel::update(target)
            .set(set)
            .returning(annual_statuses::engineer_id)
            .get_results(pg)?,
        DbConnection::Sqlite(lite) => diesel::update(target)
            .set(set)
            .returning(annual_statuses::engineer_id)
            .get_results(lite)?,
    })
}

pub fn get_status(
    conn: &mut DbConnection,
    engineer: &str,
    year: i32,
) -> Result<Option<StatusRow>, DbError> {
    Ok(joined!()
        .filter(annual_statuses::engineer_id.eq(engineer))
        .filter(annual_statuses::year.eq(year))
        .select(selected!())
        .first::<Joined>(conn)
        .optional()?
        .map(row))
}

/// Filters for a list of statuses of one year.
#[derive(Debug, Default, Clone)]
pub struct StatusFilter {
    pub year: i32,
    pub province: Option<String>,
    pub field: Option<i32>,
    pub employer_id: Option<String>,
    pub state: Option<AnnualState>,
    pub engineer_id: Option<String>,
}

pub fn list_statuses(
    conn: &mut DbConnection,
    f: &StatusFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<StatusRow>, DbError> {
    let mut q = joined!()
        .filter(annual_statuses::year.eq(f.year))
        .select(selected!())
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
        q = q.filter(annual_statuses::state.eq(v as i32));
    }
    if let Some(v) = &f.engineer_id {
        q = q.filter(annual_statuses::engineer_id.eq(v.clone()));
    }
    if let Some(a) = after {
        q = q.filter(annual_statuses::engineer_id.gt(a.to_owned()));
    }
    Ok(q.order(annual_statuses::engineer_id.asc())
        .limit(limit)
        .load::<Joined>(conn)?
        .into_iter()
        .map(row)
        .collect())
}

/// Province, field, state, how many statuses, and their centi-hours.
pub type StatusCount = (String, i32, AnnualState, i64, i64);

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
        .load::<(String, i32, i32, i64, i64)>(conn)?
        .into_iter()
        .map(|(province, field, state, n, centi)| (province, field, annual_state(state), n, centi))
        .collect())
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
