//! Annual statuses: one stored assessment per engineer and year.

use ce_db::{DbConnection, DbError};
use ce_proto::crediting::AnnualState;
use diesel::prelude::*;

use crate::schema::annual_statuses;

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

/// A stored state as the wire names it (an unknown number reads as
/// unspecified).
fn annual_state(stored: i32) -> AnnualState {
    AnnualState::try_from(stored).unwrap_or(AnnualState::Unspecified)
}

impl StatusRow {
    /// The year's state.
    pub fn state(&self) -> AnnualState {
        annual_state(self.state)
    }
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
    /// The year's state.
    pub fn state(&self) -> AnnualState {
        annual_state(self.state)
    }

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
    pub state: Option<AnnualState>,
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
        .load(conn)?)
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
