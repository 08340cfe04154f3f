//! Closing 2026 against its baseline: the bench's close part, and the
//! `close_again` example's, measured the same way.

use std::sync::Arc;
use std::time::Instant;

use diesel::{Connection, PgConnection, RunQueryDsl};

/// The day the year is closed on.
pub const NEW_YEAR: time::Date = time::macros::date!(2027 - 01 - 05);

/// The goal's baseline: the counted records of 2026 aggregated by engineer.
pub const GROUP_BY: &str = "SELECT engineer_id, COUNT(*), SUM(LENGTH(activity)), \
     SUM(LENGTH(explanation)), MAX(update_micros) FROM hour_records \
     WHERE year = 2026 AND state IN (2, 4) GROUP BY engineer_id";

/// The floor: the same rows handed over, not aggregated, with the columns
/// the rules read (those of `store::records_for_rules_of`).
pub const RULES_COLUMNS: &str = "SELECT id, engineer_id, year, state, activity, \
     registry_activity, institution_id, claimed_centi, make_up_for, last_year \
     FROM hour_records WHERE year = 2026 AND state IN (2, 4)";

/// Two closes of 2026 in a row: the first finds every year to close, the
/// second nothing changed.
pub struct Closed {
    pub first: crediting::sweep::Swept,
    pub close_secs: f64,
    pub again_secs: f64,
}

/// Closes 2026 twice on the crediting database at `url`, as the service's
/// sweep does (`sweep::reassess`, as of [`NEW_YEAR`]). `on_phase` hears
/// "close", "again" and "done" as each phase starts (or all end).
pub async fn close_twice(url: &str, mut on_phase: impl FnMut(&str)) -> Closed {
    let db = ce_db::Db::connect(url, 4, crediting::migrations()).unwrap();
    let rules = Arc::new(ce_rules::RuleBook::national());
    let feed = crediting::feed::Feed::default();
    on_phase("close");
    let t = Instant::now();
    let first = crediting::sweep::reassess(&db, &feed, &rules, NEW_YEAR, 2026, None)
        .await
        .unwrap();
    let close_secs = t.elapsed().as_secs_f64();
    on_phase("again");
    let t = Instant::now();
    crediting::sweep::reassess(&db, &feed, &rules, NEW_YEAR, 2026, None)
        .await
        .unwrap();
    let again_secs = t.elapsed().as_secs_f64();
    on_phase("done");
    Closed {
        first,
        close_secs,
        again_secs,
    }
}

/// Each query's best time of three on one connection to `url` (blocking).
pub fn best_of_three<const N: usize>(url: &str, queries: [&str; N]) -> [f64; N] {
    let mut conn = PgConnection::establish(&ce_db::libpq_url(url)).unwrap();
    queries.map(|sql| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                diesel::sql_query(sql).execute(&mut conn).unwrap();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    })
}
