//! Closing 2026 against its baseline, and reassessing it after a rule-set
//! change: the bench's close part, and the `close_again` example's,
//! measured the same way.

use std::sync::Arc;
use std::time::Instant;

use ce_rules::RuleBook;
use crediting::sweep::{self, Swept};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

/// The day the year is closed on.
pub const NEW_YEAR: time::Date = time::macros::date!(2027 - 01 - 05);

/// The year closed.
const YEAR: i32 = 2026;

/// The bench's province: every engineer is registered in Guangdong.
pub const PROVINCE: &str = "44";

/// The goal's baseline: the counted records of 2026 aggregated by engineer.
pub const GROUP_BY: &str = "SELECT engineer_id, COUNT(*), SUM(LENGTH(activity)), \
     SUM(LENGTH(explanation)), MAX(update_micros) FROM hour_records \
     WHERE year = 2026 AND state IN (2, 4) GROUP BY engineer_id";

/// The floor: the same rows handed over, not aggregated, with the columns
/// the rules read (those of `store::records_for_rules_of`).
pub const RULES_COLUMNS: &str = "SELECT id, engineer_id, year, state, activity, \
     registry_activity, institution_id, claimed_centi, make_up_for, last_year \
     FROM hour_records WHERE year = 2026 AND state IN (2, 4)";

/// Two closes of 2026 in a row: the first moves every open year, the
/// second finds nothing to do.
pub struct Closed {
    pub first: Swept,
    pub close_secs: f64,
    pub again: Swept,
    pub again_secs: f64,
}

/// The crediting database at `url`, as the sweeps use it.
fn connect(url: &str) -> ce_db::Db {
    ce_db::Db::connect(url, 4, crediting::migrations()).unwrap()
}

/// Closes 2026 twice on the crediting database at `url`, as the service's
/// `SweepAnnualStatuses` does (`sweep::close`, as of [`NEW_YEAR`], every
/// province). `on_phase` hears "close", "again" and "done" as each phase
/// starts (or all end). The second close must find nothing to move.
pub async fn close_twice(url: &str, mut on_phase: impl FnMut(&str)) -> Closed {
    let db = connect(url);
    let rules = Arc::new(RuleBook::national());
    let feed = crediting::feed::Feed::default();
    on_phase("close");
    let t = Instant::now();
    let first = sweep::close(&db, &feed, &rules, NEW_YEAR, YEAR, None)
        .await
        .unwrap();
    let close_secs = t.elapsed().as_secs_f64();
    on_phase("again");
    let t = Instant::now();
    let again = sweep::close(&db, &feed, &rules, NEW_YEAR, YEAR, None)
        .await
        .unwrap();
    let again_secs = t.elapsed().as_secs_f64();
    on_phase("done");
    assert_eq!(
        again.reassessed, 0,
        "closing {YEAR} again moved {} years: the first close left some open",
        again.reassessed
    );
    Closed {
        first,
        close_secs,
        again,
        again_secs,
    }
}

/// The national rules with a change that gives every stored year of the
/// bench's province a new fingerprint and no other result: an overlay for
/// [`PROVINCE`] that lowers one fraud-signal threshold (training hours in a
/// day, 16 → 15; the bench's busiest day has 9) and keeps the national
/// set's id, so each status names the same rule set, as after a rules fix
/// released under a new `ce_rules::ruleset::REVISION`.
pub fn changed_rules() -> RuleBook {
    let national = ce_rules::RuleSet::national();
    let signals = &national.signals;
    let overlay = format!(
        "id = \"{}\"\nprovince = \"{PROVINCE}\"\neffective_from = \"{}\"\n\n\
         [signals]\nplausible_daily_hours = {}\nplausible_converted_items = {}\n",
        national.id,
        national.effective_from,
        signals.plausible_daily_hours - ce_rules::Hours::whole(1),
        signals.plausible_converted_items,
    );
    let mut book = RuleBook::national();
    book.add_overlay(&overlay, "the bench's changed rules")
        .unwrap();
    book
}

/// The fingerprint of the rules `book` assesses the bench's year with.
pub fn fingerprint(book: &RuleBook) -> String {
    book.for_year(PROVINCE, YEAR).unwrap().fingerprint()
}

/// A full reassessment of 2026 after a rule-set change, and what it wrote.
pub struct Recomputed {
    pub swept: Swept,
    pub secs: f64,
    /// The 2026 statuses stored.
    pub statuses: i64,
    /// Of those, written with a new update time (verdict in full).
    pub rewritten: i64,
    /// Written with the new rule set only, their update time kept.
    pub rule_set_only: i64,
    /// Still naming another rule set (none, or the check fails).
    pub unchanged: i64,
}

/// Reassesses every 2026 status on the crediting database at `url` with
/// `book` (`sweep::reassess`, as of [`NEW_YEAR`]), timed; then checks, in
/// SQL, that every 2026 verdict names `book`'s fingerprint and that no
/// state, total or body changed, and counts what was written. `on_phase`
/// hears "recompute" and "done" as the timed part starts and ends.
pub async fn reassess_with(
    url: &str,
    book: RuleBook,
    mut on_phase: impl FnMut(&str),
) -> Recomputed {
    let fingerprint = fingerprint(&book);
    let db = connect(url);
    let feed = crediting::feed::Feed::default();
    let before = blocking(url, results).await;
    let started = ce_server::call::now_micros();
    on_phase("recompute");
    let t = Instant::now();
    let swept = sweep::reassess(&db, &feed, &Arc::new(book), NEW_YEAR, YEAR, None)
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    on_phase("done");
    let after = blocking(url, results).await;
    assert_eq!(
        before, after,
        "reassessing {YEAR} under rules that differ only in a fingerprint changed a state, total or body"
    );
    let url = url.to_owned();
    let written = tokio::task::spawn_blocking(move || rule_sets(&url, &fingerprint, started))
        .await
        .unwrap();
    let unchanged = written.statuses - written.new_rules;
    assert_eq!(
        unchanged, 0,
        "{unchanged} of {} statuses of {YEAR} still name another rule set after reassessing",
        written.statuses
    );
    assert_eq!(swept.reassessed, written.statuses, "statuses reassessed");
    Recomputed {
        swept,
        secs,
        statuses: written.statuses,
        rewritten: written.rewritten,
        rule_set_only: written.new_rules - written.rewritten,
        unchanged,
    }
}

/// `query` on a connection of its own to `url`, off the async workers.
async fn blocking<T: Send + 'static>(url: &str, query: fn(&mut PgConnection) -> T) -> T {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        query(&mut PgConnection::establish(&ce_db::libpq_url(&url)).unwrap())
    })
    .await
    .unwrap()
}

/// What a 2026 status says, for every engineer: its state, totals and body
/// (by digest), hashed into one text (and how many statuses).
#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Results {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    statuses: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    digest: String,
}

fn results(conn: &mut PgConnection) -> Results {
    diesel::sql_query(
        "SELECT COUNT(*) AS statuses, COALESCE(md5(string_agg(\
           engineer_id || ' ' || state || ' ' || total_centi || ' ' || \
           professional_centi || ' ' || COALESCE(body_digest::text, '-'), \
           ',' ORDER BY engineer_id)), '') AS digest \
         FROM annual_statuses WHERE year = 2026",
    )
    .get_result(conn)
    .unwrap()
}

/// How many 2026 statuses there are, how many name `fingerprint`, and how
/// many of those were written at or after `since` (micros).
#[derive(QueryableByName)]
struct RuleSets {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    statuses: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    new_rules: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rewritten: i64,
}

fn rule_sets(url: &str, fingerprint: &str, since: i64) -> RuleSets {
    let mut conn = PgConnection::establish(&ce_db::libpq_url(url)).unwrap();
    diesel::sql_query(
        "SELECT COUNT(*) AS statuses, \
           COUNT(*) FILTER (WHERE rule_set = $1) AS new_rules, \
           COUNT(*) FILTER (WHERE rule_set = $1 AND update_micros >= $2) AS rewritten \
         FROM annual_statuses WHERE year = 2026",
    )
    .bind::<diesel::sql_types::Text, _>(fingerprint)
    .bind::<diesel::sql_types::BigInt, _>(since)
    .get_result(&mut conn)
    .unwrap()
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

/// The recompute's other floor: every 2026 year assessed with `book` and
/// compared with its stored verdict (`status::evaluate`, then
/// `status::compared`: the body encoded and hashed), in memory, on one
/// core, with the records and verdicts read beforehand (untimed). Returns
/// the seconds and how many years came out with figures other than
/// stored (none, under the bench's changed rules).
pub async fn assess_in_memory(url: &str, book: &RuleBook) -> (f64, usize) {
    use crediting::status::{self, Sameness, Who, YearRows};
    use crediting::store;
    let db = connect(url);
    let (heads, mut records) = db
        .read(|conn| {
            let ids = store::status_engineers(conn, YEAR, None)?;
            let heads = store::status_heads_of(conn, &ids, YEAR)?;
            let mut records = std::collections::HashMap::<String, Vec<_>>::new();
            for chunk in ids.chunks(10_000) {
                for r in store::records_for_rules_of(conn, chunk, YEAR, &status::COUNTED)? {
                    records.entry(r.engineer_id.clone()).or_default().push(r);
                }
            }
            Ok::<_, ce_server::ApiError>((heads, records))
        })
        .await
        .unwrap();
    for own in records.values_mut() {
        own.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    }
    let t = Instant::now();
    let mut differs = 0;
    for head in &heads {
        let who = Who::held(
            &head.engineer_id,
            &head.province,
            head.field,
            &head.employer_id,
        );
        let rows = YearRows {
            own: records.remove(&head.engineer_id).unwrap_or_default(),
            deferral: None,
            make_up: Vec::new(),
            contested: std::collections::HashMap::new(),
        };
        let ev = status::evaluate(book, &who, YEAR, NEW_YEAR, &rows, &[]).unwrap();
        if status::compared(head, &who, &ev) == Sameness::Differs {
            differs += 1;
        }
    }
    (t.elapsed().as_secs_f64(), differs)
}
