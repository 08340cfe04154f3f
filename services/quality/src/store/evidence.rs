//! Evidence: learners' evaluations and measured indicators.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use super::{EvaluationRow, IndicatorRow};
use crate::schema::{evaluations, indicators};

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
