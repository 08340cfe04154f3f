//! Scores: the current one of each institution and period, their history,
//! the fields institutions serve, rankings and distributions.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use super::{Graded, ScoreRow};
use crate::schema::{institution_fields, score_history, scores};

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

/// The scored grades of `periods` (the ones right before a period, most
/// recent first), up to the first without one: a gap ends the run, so C,
/// none, C is not "C in consecutive periods".
pub fn grades_in_a_row(
    conn: &mut DbConnection,
    institution: &str,
    periods: &[String],
) -> Result<Vec<String>, DbError> {
    let mut grades = Vec::new();
    for period in periods {
        let grade: Option<String> = scores::table
            .find((institution, period))
            .filter(scores::state.eq(Graded::Scored))
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

/// (province, field, state, grade, institutions, sum of scores) of a
/// period; an institution counts under each field it serves.
pub type GradeCountRow = (String, i32, Graded, String, i64, Option<f64>);

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
