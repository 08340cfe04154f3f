//! Quality monitoring's SQL. Functions take a connection so callers compose
//! them in one transaction.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{
    evaluations, grade_changes, indicators, institution_fields, period_closures, score_history,
    scores,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = evaluations, treat_none_as_default_value = false)]
pub struct EvaluationRow {
    pub id: String,
    pub institution_id: String,
    pub period: String,
    pub learner: Option<String>,
    pub activity: Option<String>,
    pub score: i32,
    pub submitted_by: String,
    pub create_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = indicators)]
pub struct IndicatorRow {
    pub institution_id: String,
    pub period: String,
    pub indicator: i32,
    pub value: f64,
    pub samples: i64,
    pub source: String,
    pub take_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scores)]
pub struct ScoreRow {
    pub institution_id: String,
    pub period: String,
    pub province: String,
    pub field: i32,
    pub state: i32,
    pub score: f64,
    pub grade: String,
    pub body: Vec<u8>,
    pub compute_micros: i64,
}

/// Stores evaluations, each replacing its learner's earlier one for the
/// same institution and period (Art. 25: one each).
pub fn put_evaluations(conn: &mut DbConnection, rows: &[EvaluationRow]) -> Result<(), DbError> {
    // SQLite binds at most 32766 parameters a statement: 8 a row.
    for chunk in rows.chunks(4000) {
        for ((institution, period), group) in chunk.iter().fold(
            std::collections::BTreeMap::<(&str, &str), Vec<&str>>::new(),
            |mut m, r| {
                if let Some(l) = &r.learner {
                    m.entry((&r.institution_id, &r.period)).or_default().push(l);
                }
                m
            },
        ) {
            diesel::delete(
                evaluations::table
                    .filter(evaluations::institution_id.eq(institution))
                    .filter(evaluations::period.eq(period))
                    .filter(evaluations::learner.eq_any(group)),
            )
            .execute(conn)?;
        }
        let insert = diesel::insert_into(evaluations::table).values(chunk);
        match conn {
            DbConnection::Pg(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// (how many, their sum) of a period's evaluations.
pub fn evaluation_totals(
    conn: &mut DbConnection,
    institution: &str,
    period: &str,
) -> Result<(i64, i64), DbError> {
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::BigInt;
    Ok(evaluations::table
        .filter(evaluations::institution_id.eq(institution))
        .filter(evaluations::period.eq(period))
        .select((
            count_star(),
            sql::<BigInt>("CAST(COALESCE(SUM(score), 0) AS BIGINT)"),
        ))
        .first(conn)?)
}

pub fn put_indicator(conn: &mut DbConnection, row: &IndicatorRow) -> Result<(), DbError> {
    let updated =
        diesel::update(indicators::table.find((&row.institution_id, &row.period, row.indicator)))
            .set(row)
            .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(indicators::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn indicators_of(
    conn: &mut DbConnection,
    institution: &str,
    period: &str,
) -> Result<Vec<IndicatorRow>, DbError> {
    Ok(indicators::table
        .filter(indicators::institution_id.eq(institution))
        .filter(indicators::period.eq(period))
        .select(IndicatorRow::as_select())
        .load(conn)?)
}

pub fn put_score(conn: &mut DbConnection, row: &ScoreRow, history_id: &str) -> Result<(), DbError> {
    let updated = diesel::update(scores::table.find((&row.institution_id, &row.period)))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(scores::table)
            .values(row)
            .execute(conn)?;
    }
    diesel::insert_into(score_history::table)
        .values((
            score_history::id.eq(history_id),
            score_history::institution_id.eq(&row.institution_id),
            score_history::period.eq(&row.period),
            score_history::body.eq(&row.body),
            score_history::compute_micros.eq(row.compute_micros),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get_score(
    conn: &mut DbConnection,
    institution: &str,
    period: &str,
) -> Result<Option<ScoreRow>, DbError> {
    Ok(scores::table
        .find((institution, period))
        .select(ScoreRow::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces the fields an institution serves with the registry's list.
pub fn put_fields(
    conn: &mut DbConnection,
    institution: &str,
    fields: &[i32],
) -> Result<(), DbError> {
    diesel::delete(
        institution_fields::table.filter(institution_fields::institution_id.eq(institution)),
    )
    .execute(conn)?;
    let mut fields = fields.to_vec();
    fields.sort_unstable();
    fields.dedup();
    let rows: Vec<_> = fields
        .iter()
        .map(|f| {
            (
                institution_fields::institution_id.eq(institution),
                institution_fields::field.eq(*f),
            )
        })
        .collect();
    let insert = diesel::insert_into(institution_fields::table).values(&rows);
    match conn {
        DbConnection::Pg(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(())
}

/// The institutions serving `field`, for filters.
macro_rules! serving {
    ($field:expr) => {
        institution_fields::table
            .filter(institution_fields::field.eq($field))
            .select(institution_fields::institution_id)
    };
}

/// The scored grades of `periods` (the ones right before a period, most
/// recent first), up to the first without one: a gap ends the run, so C,
/// none, C is not "C in consecutive periods".
pub fn grades_in_a_row(
    conn: &mut DbConnection,
    institution: &str,
    periods: &[String],
    scored: i32,
) -> Result<Vec<String>, DbError> {
    let mut grades = Vec::new();
    for period in periods {
        let grade: Option<String> = scores::table
            .find((institution, period))
            .filter(scores::state.eq(scored))
            .select(scores::grade)
            .first(conn)
            .optional()?;
        let Some(grade) = grade else { break };
        grades.push(grade);
    }
    Ok(grades)
}

/// Where a ranking page starts: after (state, score, institution).
pub type RankKey = (i32, f64, String);

/// A period's scores, scored first and best first, then by institution.
pub fn ranking(
    conn: &mut DbConnection,
    period: &str,
    province: Option<&str>,
    field: Option<i32>,
    after: Option<&RankKey>,
    limit: i64,
) -> Result<Vec<ScoreRow>, DbError> {
    let mut q = scores::table
        .filter(scores::period.eq(period.to_owned()))
        .select(ScoreRow::as_select())
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(scores::province.eq(p.to_owned()));
    }
    if let Some(f) = field {
        q = q.filter(scores::institution_id.eq_any(serving!(f)));
    }
    if let Some((state, score, id)) = after {
        q = q.filter(
            scores::state
                .gt(*state)
                .or(scores::state.eq(*state).and(scores::score.lt(*score)))
                .or(scores::state
                    .eq(*state)
                    .and(scores::score.eq(*score))
                    .and(scores::institution_id.gt(id.clone()))),
        );
    }
    Ok(q.order((
        scores::state.asc(),
        scores::score.desc(),
        scores::institution_id.asc(),
    ))
    .limit(limit)
    .load(conn)?)
}

pub fn history(conn: &mut DbConnection, institution: &str) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(score_history::table
        .filter(score_history::institution_id.eq(institution))
        .order(score_history::id.asc())
        .select(score_history::body)
        .load(conn)?)
}

/// (id, computation time) of the scores computed at or after `since`, by
/// time; only `period`'s, if given.
pub fn computed_since(
    conn: &mut DbConnection,
    since: i64,
    period: Option<&str>,
) -> Result<Vec<(String, i64)>, DbError> {
    let mut q = score_history::table
        .filter(score_history::compute_micros.ge(since))
        .select((score_history::id, score_history::compute_micros))
        .into_boxed();
    if let Some(p) = period {
        q = q.filter(score_history::period.eq(p.to_owned()));
    }
    Ok(q.order((score_history::compute_micros, score_history::id))
        .load(conn)?)
}

/// The bodies of the history rows `ids`, by computation time.
pub fn history_bodies(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<Vec<u8>>, DbError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            score_history::table
                .filter(score_history::id.eq_any(chunk))
                .order((score_history::compute_micros, score_history::id))
                .select(score_history::body)
                .load::<Vec<u8>>(conn)?,
        );
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = grade_changes, treat_none_as_default_value = false)]
pub struct GradeChangeRow {
    pub id: String,
    pub institution_id: String,
    pub period: String,
    pub province: String,
    pub from_grade: Option<String>,
    pub to_grade: String,
    pub change_micros: i64,
}

pub fn insert_grade_change(conn: &mut DbConnection, row: &GradeChangeRow) -> Result<(), DbError> {
    diesel::insert_into(grade_changes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn list_grade_changes(
    conn: &mut DbConnection,
    period: Option<&str>,
    province: Option<&str>,
    field: Option<i32>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<GradeChangeRow>, DbError> {
    let mut q = grade_changes::table
        .select(GradeChangeRow::as_select())
        .into_boxed();
    if let Some(p) = period {
        q = q.filter(grade_changes::period.eq(p.to_owned()));
    }
    if let Some(p) = province {
        q = q.filter(grade_changes::province.eq(p.to_owned()));
    }
    if let Some(f) = field {
        q = q.filter(grade_changes::institution_id.eq_any(serving!(f)));
    }
    if let Some(a) = after {
        q = q.filter(grade_changes::id.gt(a.to_owned()));
    }
    Ok(q.order(grade_changes::id.asc()).limit(limit).load(conn)?)
}

/// (province, field, state, grade, institutions, sum of scores) of a
/// period; an institution counts under each field it serves.
pub type GradeCountRow = (String, i32, i32, String, i64, Option<f64>);

pub fn distribution(
    conn: &mut DbConnection,
    period: &str,
    province: Option<&str>,
    field: Option<i32>,
) -> Result<Vec<GradeCountRow>, DbError> {
    use diesel::dsl::{count_star, sum};
    let mut q = scores::table
        .inner_join(
            institution_fields::table
                .on(institution_fields::institution_id.eq(scores::institution_id)),
        )
        .filter(scores::period.eq(period.to_owned()))
        .group_by((
            scores::province,
            institution_fields::field,
            scores::state,
            scores::grade,
        ))
        .select((
            scores::province,
            institution_fields::field,
            scores::state,
            scores::grade,
            count_star(),
            sum(scores::score),
        ))
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(scores::province.eq(p.to_owned()));
    }
    if let Some(f) = field {
        q = q.filter(institution_fields::field.eq(f));
    }
    Ok(
        q.order((scores::province, institution_fields::field, scores::grade))
            .load(conn)?,
    )
}

/// The periods `institution` has a score for, of years in `years`.
pub fn scored_periods(
    conn: &mut DbConnection,
    institution: &str,
    years: &[i32],
) -> Result<Vec<String>, DbError> {
    use crate::schema::scores::dsl as s;
    let periods: Vec<String> = s::scores
        .filter(s::institution_id.eq(institution))
        .select(s::period)
        .load(conn)?;
    Ok(periods
        .into_iter()
        .filter(|p| {
            p.get(..4)
                .and_then(|y| y.parse().ok())
                .is_some_and(|y: i32| years.contains(&y))
        })
        .collect())
}

/// Whether `period` is closed for `province` (Art. 25: its scores are final).
pub fn period_closed(
    conn: &mut DbConnection,
    province: &str,
    period: &str,
) -> Result<bool, DbError> {
    let closed: Option<i32> = period_closures::table
        .find((province, period))
        .select(period_closures::closed)
        .first(conn)
        .optional()?;
    Ok(closed == Some(1))
}

/// Marks `period` closed, or open again with `reason`, for `province`.
pub fn set_period_closed(
    conn: &mut DbConnection,
    province: &str,
    period: &str,
    reopened_because: Option<&str>,
    by: &str,
    at: i64,
) -> Result<(), DbError> {
    let values = (
        period_closures::closed.eq(i32::from(reopened_because.is_none())),
        period_closures::changed_by.eq(by),
        period_closures::change_micros.eq(at),
        period_closures::reason.eq(reopened_because),
    );
    let n = diesel::update(period_closures::table.find((province, period)))
        .set(values)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(period_closures::table)
            .values((
                period_closures::province.eq(province),
                period_closures::period.eq(period),
                values.0,
                values.1,
                values.2,
                values.3,
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A period's stored scores, of one province or all.
pub fn scores_of_period(
    conn: &mut DbConnection,
    period: &str,
    province: Option<&str>,
) -> Result<Vec<ScoreRow>, DbError> {
    let mut q = scores::table
        .filter(scores::period.eq(period))
        .select(ScoreRow::as_select())
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(scores::province.eq(p.to_owned()));
    }
    Ok(q.order(scores::institution_id.asc()).load(conn)?)
}

/// Replaces a stored score's body (its standing changed, nothing else).
pub fn set_score_body(
    conn: &mut DbConnection,
    institution: &str,
    period: &str,
    body: &[u8],
) -> Result<(), DbError> {
    diesel::update(scores::table.find((institution, period)))
        .set(scores::body.eq(body))
        .execute(conn)?;
    Ok(())
}
