//! `make bench`: the suite measured side by side with what it is built on,
//! in one run on one machine, printed as ratios (absolute figures on a
//! shared machine are noise; ratios are the result). Where the bench takes
//! turns with a baseline, a ratio is the median of three rounds' ratios.
//!
//! | measure | against | goal |
//! |---|---|---|
//! | bulk upload through the RPC into PostgreSQL, rules applied | `COPY` of the same rows into the same table and indexes | ≥ 0.75 |
//! | `COPY` of those records | `COPY` (CSV) of every row the upload stored: records, statuses, change feed, audit log (what storing the rest costs; the upload writes with binary `COPY`, so it is not a strict ceiling) | reported |
//! | `GetAnnualStatus` under concurrent load, once the database has settled (`VACUUM`, `CHECKPOINT`) | a bare tonic server answering a fixed message of the same size, same client and concurrency, the two taking turns | ≥ 0.5 |
//! | p99 at half our peak rate, open loop | the bare server's p99 at that rate | ≤ 2.0 |
//! | closing a year (`sweep::close`: the open verdicts moved), once settled | a `GROUP BY` over the year's records | ≤ 1.0 (time) |
//! | closing it again (nothing to move) | the same `GROUP BY` | reported |
//! | reassessing every status of the year after a rule-set change (`sweep::reassess`) | the same `GROUP BY` | ≤ 3.0 (time) |
//! | a `SELECT` of the records' columns the rules read | the same `GROUP BY` (the least a reassessment from the records can take) | reported |
//! | upload and close of every record, in time | the same at a quarter of the records, in a fresh database | ≤ 4.4 (1.1 × linear) |
//! | bulk upload into SQLite | plain prepared inserts of the same rows in one transaction | ≥ 0.5 |
//! | those inserts of the records | the same inserts of every row the upload stored (what storing the rest costs) | reported |
//! | crediting's peak memory (`VmHWM`) taking the whole PostgreSQL bulk upload, as its own process | — | ≤ 256 MiB |
//! | bulk upload and reads, services as processes, OTLP tracing on | the same, tracing off | ≥ 0.95 |
//! | each service process's peak memory (`VmHWM`) under the bulk load | — | reported |
//!
//! Registry and crediting run in this process, on 127.0.0.1, against a
//! PostgreSQL database made for the run (`CE_TEST_POSTGRES_URL`, else a
//! throwaway cluster). Sizes come from the environment: `CE_BENCH_ENGINEERS`
//! (100000), `CE_BENCH_RECORDS_PER_ENGINEER` (10), `CE_BENCH_SQLITE_RECORDS`
//! (100000), `CE_BENCH_CONCURRENCY` (32), `CE_BENCH_SECONDS` (10);
//! `CE_BENCH_ONLY=copy,read,close,growth,sqlite,processes` picks parts (for
//! profiling; growth runs the close part too). The processes part runs the
//! release binaries beside this one. docs/performance.md has the details.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bare;
mod growth;
mod processes;

/// The allocator the services' binaries use.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ce_bench::close;
use ce_proto::common::{DeliveryMode, Role, SubjectCategory};
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::{
    BulkUploadHourRecordsRequest, FaceToFaceTraining, GetAnnualStatusRequest, HourRecord,
    OnlineTraining,
};
use ce_proto::google::r#type::Date;
use ce_proto::registry as reg;
use ce_tests::{Backend, Place, bearer, start_service, token, world};
use diesel::prelude::*;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The day the crediting under test believes it is: late in 2026, so the
/// 2026 records are current whenever the benchmark runs.
const TODAY: time::Date = time::macros::date!(2026 - 11 - 25);

/// The goals of issue 27 (docs/performance.md), each a bound on a ratio.
mod goal {
    /// Bulk upload into PostgreSQL / `COPY` of the records: at least.
    pub const UPLOAD_VS_COPY: f64 = 0.75;
    /// `GetAnnualStatus` / the bare tonic server: at least.
    pub const READS_VS_BARE: f64 = 0.5;
    /// p99 at half our peak rate / the bare server's at that rate: at most.
    pub const P99_VS_BARE: f64 = 2.0;
    /// Closing a year / the `GROUP BY`, in time: at most.
    pub const CLOSE_VS_GROUP_BY: f64 = 1.0;
    /// Reassessing a year after a rule-set change / the `GROUP BY`: at most.
    pub const RECOMPUTE_VS_GROUP_BY: f64 = 3.0;
    /// Upload and close of every record / of a quarter, in time: at most
    /// this times the ratio of the sizes (4.4 at 4×).
    pub const GROWTH_OVER_LINEAR: f64 = 1.1;
    /// Bulk upload into SQLite / prepared inserts: at least.
    pub const SQLITE_VS_INSERTS: f64 = 0.5;
    /// Tracing on / off, uploads and reads each: at least.
    pub const TRACING_ON_VS_OFF: f64 = 0.95;
    /// Crediting's peak memory taking the whole bulk upload, MiB: at most.
    pub const CREDITING_PEAK_MIB: f64 = 256.0;
}

struct Row {
    name: &'static str,
    ours: String,
    baseline: String,
    ratio: f64,
    /// Each round's ratio where the bench takes turns (`ratio` is their
    /// median); empty otherwise.
    rounds: Vec<f64>,
    goal: String,
    /// Whether the goal is met; none for a figure without a goal.
    met: Option<bool>,
}

impl Row {
    /// A figure printed beside the goals, with none of its own.
    fn reported(name: &'static str, ours: String, baseline: String, ratio: f64) -> Row {
        Row {
            name,
            ours,
            baseline,
            ratio,
            rounds: Vec::new(),
            goal: "reported".to_owned(),
            met: None,
        }
    }

    /// A ratio that must be at least `bound`.
    fn at_least(name: &'static str, ours: String, baseline: String, ratio: f64, bound: f64) -> Row {
        Row {
            goal: format!("≥ {bound}"),
            met: Some(ratio >= bound),
            ..Row::reported(name, ours, baseline, ratio)
        }
    }

    /// A ratio that must be at most `bound`.
    fn at_most(name: &'static str, ours: String, baseline: String, ratio: f64, bound: f64) -> Row {
        Row {
            goal: format!("≤ {bound:.1}"),
            met: Some(ratio <= bound),
            ..Row::reported(name, ours, baseline, ratio)
        }
    }

    /// The goal as printed, where the bound alone does not say it.
    fn goal_reads(mut self, goal: String) -> Row {
        self.goal = goal;
        self
    }

    /// The rounds `ratio` is the median of.
    fn of_rounds(mut self, rounds: Vec<f64>) -> Row {
        self.rounds = rounds;
        self
    }
}

/// The median of `ratios` (an odd number of rounds) and its round's index.
fn median(ratios: &[f64]) -> (usize, f64) {
    let mut order: Vec<usize> = (0..ratios.len()).collect();
    order.sort_by(|&a, &b| ratios[a].total_cmp(&ratios[b]));
    let m = order[order.len() / 2];
    (m, ratios[m])
}

/// The same day a day later.
fn shifted(d: Option<Date>) -> Option<Date> {
    let d = d?;
    let day = time::Date::from_calendar_date(
        d.year,
        time::Month::try_from(d.month as u8).ok()?,
        d.day as u8,
    )
    .ok()?;
    date(day + time::Duration::days(1))
}

fn date(d: time::Date) -> Option<Date> {
    Some(Date {
        year: d.year(),
        month: i32::from(u8::from(d.month())),
        day: i32::from(d.day()),
    })
}

struct Seed {
    engineers: Vec<String>,
    seminar: String,
    online: String,
}

/// The `j`th record of engineer `e`: nine face-to-face days and one online
/// course. Two engineers in three study 9 hours a day (72 professional +
/// 20 public: compliant), the third 6 (54 + 20: short).
fn record(seed: &Seed, e: usize, j: usize, per_engineer: usize) -> HourRecord {
    let start = time::macros::date!(2026 - 01 - 05);
    let activity = if j + 1 == per_engineer {
        let from = start + time::Duration::days(200 + (e % 60) as i64);
        (
            seed.online.clone(),
            A::Online(OnlineTraining {
                subject_category: SubjectCategory::Public as i32,
                start_date: date(from),
                end_date: date(from + time::Duration::days(20)),
                hours: 20.0,
                ..Default::default()
            }),
        )
    } else {
        let day = start + time::Duration::days((j * 20 + e % 17) as i64);
        (
            seed.seminar.clone(),
            A::FaceToFace(FaceToFaceTraining {
                subject_category: SubjectCategory::Professional as i32,
                start_date: date(day),
                days: 1,
                hours_per_day: if e % 3 == 2 { 6.0 } else { 9.0 },
            }),
        )
    };
    HourRecord {
        engineer: seed.engineers[e].clone(),
        registry_activity: activity.0,
        activity: Some(activity.1),
        client_key: format!("bench-{e}-{j}"),
        ..Default::default()
    }
}

async fn seed_registry(place: &Place, registry: &ce_tests::Service, engineers: usize) -> Seed {
    // A day's token: seeding a large registry takes a while.
    let day_token = place.token(province_44());
    let mut clerk =
        ce_proto::registry::registry_service_client::RegistryServiceClient::with_interceptor(
            registry.channel().await,
            bearer(&day_token),
        );
    let employer = world::create_employer(&mut clerk, world::employer("44")).await;
    let activity = |title: &str, category: SubjectCategory, mode: DeliveryMode| reg::Activity {
        title: title.into(),
        subject_category: category as i32,
        delivery_mode: mode as i32,
        ..world::activity(
            "44",
            date(time::macros::date!(2026 - 01 - 05)),
            date(time::macros::date!(2026 - 10 - 30)),
            10.0,
        )
    };
    let seminar = activity(
        "Grid protection seminar series",
        SubjectCategory::Professional,
        DeliveryMode::FaceToFace,
    );
    let seminar = world::create_activity(&mut clerk, seminar).await;
    let mut online = activity(
        "Ethics and law for engineers",
        SubjectCategory::Public,
        DeliveryMode::Online,
    );
    online.field = 0;
    let online = world::create_activity(&mut clerk, online).await;
    let engineers = world::create_engineers_concurrently(
        &clerk,
        "44",
        &employer,
        engineers,
        16,
        unique_resident_id,
    )
    .await;
    Seed {
        engineers,
        seminar,
        online,
    }
}

/// A valid resident ID number unique to `i` (GB 11643): Guangdong, born on a
/// day picked from `i`, sequence from `i`.
fn unique_resident_id(i: usize) -> String {
    // 1000 sequence numbers a birthday, 28 * 12 * 40 birthdays.
    let seq = i % 1000;
    let day = 1 + (i / 1000) % 28;
    let month = 1 + (i / 28_000) % 12;
    let year = 1960 + (i / 336_000) % 40;
    let first17 = format!("440101{year:04}{month:02}{day:02}{seq:03}");
    registry::ids::resident_id_with_check(&first17).unwrap()
}

/// Uploads records `range` through one bulk stream, 1000 a message, and
/// returns (accepted, seconds).
async fn bulk(
    client: &mut ce_tests::Crediting,
    seed: &Arc<Seed>,
    per_engineer: usize,
    total: usize,
) -> (usize, f64) {
    let s = seed.clone();
    bulk_of(client, total, move |i| {
        record(&s, i / per_engineer, i % per_engineer, per_engineer)
    })
    .await
}

/// Uploads `make(0..total)` in messages of 1000; returns how many were
/// accepted and the seconds it took.
async fn bulk_of(
    client: &mut ce_tests::Crediting,
    total: usize,
    make: impl Fn(usize) -> HourRecord + Send + 'static,
) -> (usize, f64) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let generator = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(1000);
        for i in 0..total {
            batch.push(make(i));
            if batch.len() == 1000 || i + 1 == total {
                let hour_records = std::mem::replace(&mut batch, Vec::with_capacity(1000));
                if tx
                    .send(BulkUploadHourRecordsRequest { hour_records })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    let started = Instant::now();
    let mut answers = client
        .bulk_upload_hour_records(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let mut accepted = 0;
    while let Some(m) = answers.message().await.unwrap() {
        for r in m.results {
            match r.refusal {
                None => accepted += 1,
                Some(refusal) => panic!("record {} refused: {refusal:?}", r.client_key),
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    generator.await.unwrap();
    (accepted, secs)
}

/// What one stretch of load measured: how long it ran, and the latency of
/// each call that completed.
struct Load {
    secs: f64,
    latencies: Vec<Duration>,
}

impl Load {
    /// Calls completed a second.
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.secs.max(1e-9)
    }

    fn p99(&mut self) -> Duration {
        self.latencies.sort_unstable();
        self.latencies
            .get(self.latencies.len() * 99 / 100)
            .copied()
            .unwrap_or_default()
    }
}

/// The bench's load generator is one caller standing for many: it gets the
/// service's whole concurrency, not one caller's share, so what is
/// measured is the service, not `server.max_concurrent_requests_per_caller`.
fn whole_capacity(mut config: ce_server::app::ServiceConfig) -> ce_server::app::ServiceConfig {
    config.server.max_concurrent_requests_per_caller = config.server.max_concurrent_requests;
    config
}

/// `seconds` of `concurrency` callers of `call`, each calling again as
/// soon as its last call returns.
async fn load<F, Fut>(concurrency: usize, seconds: u64, call: F) -> Load
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    // Warm up: connections, caches.
    for i in 0..concurrency {
        call(i).await;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let call = call.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = w;
            while Instant::now() < deadline {
                let t = Instant::now();
                call(i).await;
                latencies.push(t.elapsed());
                i += concurrency;
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(l) = tasks.join_next().await {
        latencies.extend(l.unwrap());
    }
    Load {
        secs: started.elapsed().as_secs_f64(),
        latencies,
    }
}

/// Calls at a fixed rate for `seconds`, open loop: calls start on
/// schedule whether or not earlier ones have finished, and latency counts
/// from the scheduled start, so a stall is not hidden by a waiting caller
/// (no coordinated omission).
async fn at_rate<F, Fut>(rate: f64, seconds: u64, call: F) -> Load
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let call = Arc::new(call);
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let total = (rate * seconds as f64) as usize;
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let scheduled = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled).await;
        let call = call.clone();
        tasks.spawn(async move {
            call(i).await;
            scheduled.elapsed()
        });
    }
    let mut latencies = Vec::with_capacity(total);
    while let Some(l) = tasks.join_next().await {
        latencies.push(l.unwrap());
    }
    Load {
        secs: start.elapsed().as_secs_f64(),
        latencies,
    }
}

/// Lets the database the reads go to settle after the loads before them,
/// as pgbench does before its runs: `VACUUM (ANALYZE)` does now what
/// autovacuum would otherwise start during a measure (a first pass over a
/// million new rows), and `CHECKPOINT` writes out what the loads left dirty.
/// Returns the seconds it took.
fn settle(url: &str) -> f64 {
    let started = Instant::now();
    let mut conn = pg(url);
    diesel::sql_query("VACUUM (ANALYZE)")
        .execute(&mut conn)
        .unwrap();
    // CHECKPOINT needs a superuser or pg_checkpoint; without, say so and go on.
    if let Err(e) = diesel::sql_query("CHECKPOINT").execute(&mut conn) {
        eprintln!("settle: CHECKPOINT refused ({e}); measuring without it");
    }
    started.elapsed().as_secs_f64()
}

fn pg(url: &str) -> PgConnection {
    PgConnection::establish(&ce_db::libpq_url(url)).unwrap()
}

/// `work` on `url`, off the async workers.
async fn blocking<T: Send + 'static>(url: &str, work: fn(&str) -> T) -> T {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || work(&url))
        .await
        .unwrap()
}

/// How many turns ours and the bare server each take at the reads (and
/// tracing on and off in the processes part): a ratio is the median of
/// the turns' ratios.
const TURNS: usize = 3;

/// `measure` of ours and of the bare server, TURNS times each, taking
/// turns, so what the machine does meanwhile falls on both: each turn's
/// (ours, bare).
async fn in_turns<Fut>(
    ours: &ce_tests::Crediting,
    bare: &ce_tests::Crediting,
    measure: impl Fn(ce_tests::Crediting) -> Fut,
) -> Vec<(Load, Load)>
where
    Fut: std::future::Future<Output = Load>,
{
    let mut turns = Vec::with_capacity(TURNS);
    for _ in 0..TURNS {
        let o = measure(ours.clone()).await;
        let b = measure(bare.clone()).await;
        turns.push((o, b));
    }
    turns
}

/// Each turn's `ratio` of (ours, bare), the median's index and value.
fn median_turn(
    turns: &mut [(Load, Load)],
    ratio: impl Fn(&mut Load, &mut Load) -> f64,
) -> (Vec<f64>, usize, f64) {
    let ratios: Vec<f64> = turns.iter_mut().map(|(o, b)| ratio(o, b)).collect();
    let (m, r) = median(&ratios);
    (ratios, m, r)
}

/// The tables a bulk upload writes its rows to: the records, the annual
/// statuses, the change feed and the audit log.
const STORED_TABLES: &[&str] = &["hour_records", "annual_statuses", "changes", "audit_log"];

/// Seconds to `COPY` the rows of each of [`STORED_TABLES`], in that order,
/// read from the database at `from`, into one fresh database with
/// crediting's own migrations (the same tables and indexes). The records
/// go first, into empty tables, as the records-only baseline needs;
/// `records` is how many there must be.
fn copy_tables(from: &str, records: usize) -> Vec<f64> {
    let data: Vec<(&str, Vec<u8>)> = STORED_TABLES
        .iter()
        .map(|t| {
            // A connection a table: diesel leaves a finished COPY TO's
            // result unread, and the connection refuses the next command.
            let mut out = Vec::new();
            copy_out(&mut pg(from), t, &mut out);
            (*t, out)
        })
        .collect();
    let copy_db = ce_tests::pg::fresh_database();
    drop(ce_db::Db::connect(copy_db.url(), 1, crediting::migrations()).unwrap());
    let mut conn = pg(copy_db.url());
    data.iter()
        .map(|(table, rows)| {
            let started = Instant::now();
            let n = copy_in(&mut conn, table, rows);
            if *table == "hour_records" {
                assert_eq!(n, records, "rows of {table}");
            }
            started.elapsed().as_secs_f64()
        })
        .collect()
}

/// A new SQLite file at `path` with crediting's migrations, opened with
/// every commit synced (`synchronous = FULL`), as the service runs it.
fn fresh_sqlite(path: &std::path::Path) -> SqliteConnection {
    let url = format!("sqlite://{}", path.display());
    drop(ce_db::Db::connect(&url, 1, crediting::migrations()).unwrap());
    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    diesel::sql_query("PRAGMA synchronous = FULL")
        .execute(&mut conn)
        .unwrap();
    conn
}

/// Seconds to insert the rows of each of [`STORED_TABLES`], in that order,
/// from the SQLite database `from` into a fresh one at `to` with
/// crediting's migrations: one transaction a table, one cached prepared
/// statement a row, as the plain-insert baseline does. Each statement
/// reads its row from `from` (attached) by rowid, so every table is
/// copied the same way without a Rust type per table.
fn sqlite_copy_tables(from: &std::path::Path, to: &std::path::Path, records: usize) -> Vec<f64> {
    #[derive(QueryableByName)]
    struct RowId {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        r: i64,
    }
    let mut conn = fresh_sqlite(to);
    diesel::sql_query("ATTACH DATABASE ? AS stored")
        .bind::<diesel::sql_types::Text, _>(from.display().to_string())
        .execute(&mut conn)
        .unwrap();
    STORED_TABLES
        .iter()
        .map(|table| {
            let ids: Vec<i64> = diesel::sql_query(format!(
                "SELECT rowid AS r FROM stored.{table} ORDER BY rowid"
            ))
            .load::<RowId>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.r)
            .collect();
            if *table == "hour_records" {
                assert_eq!(ids.len(), records, "rows of {table}");
            }
            let insert =
                format!("INSERT INTO main.{table} SELECT * FROM stored.{table} WHERE rowid = ?");
            let started = Instant::now();
            conn.immediate_transaction(|c| {
                for id in &ids {
                    diesel::sql_query(&insert)
                        .bind::<diesel::sql_types::BigInt, _>(id)
                        .execute(c)?;
                }
                diesel::QueryResult::Ok(())
            })
            .unwrap();
            started.elapsed().as_secs_f64()
        })
        .collect()
}

/// Runs `$body` with `$t` naming the diesel table of one of
/// [`STORED_TABLES`].
macro_rules! with_table {
    ($name:expr, $t:ident => $body:expr) => {
        match $name {
            "hour_records" => {
                use crediting::schema::hour_records as $t;
                $body
            }
            "annual_statuses" => {
                use crediting::schema::annual_statuses as $t;
                $body
            }
            "changes" => {
                use crediting::schema::changes as $t;
                $body
            }
            "audit_log" => {
                use ce_db::audit::audit_log as $t;
                $body
            }
            other => panic!("no COPY for table {other}"),
        }
    };
}

/// `COPY table TO` into `out`, as CSV.
fn copy_out(conn: &mut PgConnection, table: &str, out: &mut Vec<u8>) {
    use diesel::pg::CopyFormat;
    with_table!(table, t => diesel::copy_to(t::table)
        .with_format(CopyFormat::Csv)
        .load_raw(conn)
        .unwrap()
        .read_to_end(out)
        .unwrap());
}

/// `COPY table FROM` the CSV `rows`; the number of rows copied.
fn copy_in(conn: &mut PgConnection, table: &str, rows: &[u8]) -> usize {
    use diesel::pg::CopyFormat;
    let data = |w: &mut dyn Write| {
        w.write_all(rows)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
    };
    with_table!(table, t => diesel::copy_from(t::table)
        .from_raw_data(t::table, data)
        .with_format(CopyFormat::Csv)
        .execute(conn)
        .unwrap())
}

fn main() {
    ce_db::init_libpq();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

/// The run's sizes and parts, from the environment.
struct Sizes {
    engineers: usize,
    per_engineer: usize,
    sqlite_records: usize,
    concurrency: usize,
    seconds: u64,
    /// Every record: `engineers` × `per_engineer`.
    total: usize,
    /// `CE_BENCH_ONLY`, the parts to run; none runs them all.
    only: Option<String>,
}

impl Sizes {
    fn from_env() -> Sizes {
        let engineers = env("CE_BENCH_ENGINEERS", 100_000);
        let per_engineer = env("CE_BENCH_RECORDS_PER_ENGINEER", 10).max(2);
        Sizes {
            engineers,
            per_engineer,
            sqlite_records: env("CE_BENCH_SQLITE_RECORDS", 100_000).min(engineers * per_engineer),
            concurrency: env("CE_BENCH_CONCURRENCY", 32),
            seconds: env("CE_BENCH_SECONDS", 10) as u64,
            total: engineers * per_engineer,
            only: std::env::var("CE_BENCH_ONLY").ok(),
        }
    }

    /// Whether `part` runs: CE_BENCH_ONLY=copy,read,close,growth,sqlite,processes
    /// runs those parts (the bulk upload into PostgreSQL always runs: the
    /// others read what it stored).
    fn want(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.split(',').any(|p| p.trim() == part))
    }
}

/// What every part works on: the registry and crediting running in this
/// process on a PostgreSQL database made for the run, the seeded registry,
/// and the provincial department that uploads the records.
struct Bench {
    sizes: Sizes,
    place: Place,
    registry: ce_tests::Service,
    crediting: ce_tests::Service,
    crediting_url: String,
    /// The in-process crediting's channel.
    channel: tonic::transport::Channel,
    seed: Arc<Seed>,
    province: ce_server::auth::TokenRequest,
}

/// A token of a day's life for `role`, named `subject`.
fn day_token(role: Role, subject: &str) -> ce_server::auth::TokenRequest {
    ce_server::auth::TokenRequest {
        ttl_secs: 24 * 3600,
        ..token(role, subject)
    }
}

/// Guangdong's provincial department, which seeds the registry and
/// uploads the records.
fn province_44() -> ce_server::auth::TokenRequest {
    ce_server::auth::TokenRequest {
        province: Some("44".into()),
        ..day_token(Role::ProvincialHrss, "hrss-44-bench")
    }
}

/// The ministry, reading statuses.
fn ministry() -> ce_server::auth::TokenRequest {
    day_token(Role::Ministry, "ministry-bench")
}

impl Bench {
    /// Starts the registry and crediting, and seeds the registry.
    async fn start(sizes: Sizes) -> Bench {
        let place = Place::new(Backend::Postgres);
        let registry =
            start_service(whole_capacity(place.config("registry")), registry::start).await;
        let mut config = whole_capacity(place.config("crediting"));
        config.peers.insert("registry".into(), registry.url());
        config.database.max_connections = 8;
        let crediting = start_service(config, |c, s| {
            crediting::start_with_clock(c, s, Arc::new(|| TODAY))
        })
        .await;
        let crediting_url = place.pg_url("crediting");

        let t = Instant::now();
        let seed = Arc::new(seed_registry(&place, &registry, sizes.engineers).await);
        eprintln!(
            "seeded {} engineers in {:.1} s",
            sizes.engineers,
            t.elapsed().as_secs_f64()
        );
        let channel = crediting.channel().await;
        Bench {
            sizes,
            place,
            registry,
            crediting,
            crediting_url,
            channel,
            seed,
            province: province_44(),
        }
    }

    /// A client of the in-process crediting as `req`.
    fn client(&self, req: ce_server::auth::TokenRequest) -> ce_tests::Crediting {
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            self.channel.clone(),
            bearer(&self.place.token(req)),
        )
        .max_decoding_message_size(64 << 20)
    }

    /// The names of the seeded engineers' 2026 statuses.
    fn status_names(&self) -> Arc<Vec<String>> {
        Arc::new(
            self.seed
                .engineers
                .iter()
                .map(|e| format!("{e}/annualStatuses/2026"))
                .collect(),
        )
    }

    async fn stop(self) {
        self.crediting.stop().await;
        self.registry.stop().await;
    }
}

async fn run() {
    let sizes = Sizes::from_env();
    let Sizes {
        engineers,
        per_engineer,
        sqlite_records,
        concurrency,
        seconds,
        total,
        ..
    } = sizes;
    eprintln!(
        "ce-bench: {engineers} engineers × {per_engineer} records = {total} records; \
         {concurrency} callers for {seconds} s; SQLite {sqlite_records} records"
    );
    let bench = Bench::start(sizes).await;
    let upload_secs = bulk_into_postgres(&bench).await;
    let mut rows: Vec<Row> = Vec::new();
    if bench.sizes.want("copy") {
        rows.extend(against_copy(&bench, total as f64 / upload_secs).await);
    }
    if bench.sizes.want("read") {
        rows.extend(against_bare_tonic(&bench).await);
    }
    // The growth part compares the close of every record with a quarter's.
    if bench.sizes.want("close") || bench.sizes.want("growth") {
        let (close_rows, close_secs) = against_group_by(&bench).await;
        rows.extend(close_rows);
        if bench.sizes.want("growth") {
            rows.push(growth::against_a_quarter(&bench, upload_secs, close_secs).await);
        }
    }
    if bench.sizes.want("sqlite") {
        rows.extend(against_sqlite_inserts(&bench).await);
    }
    if bench.sizes.want("processes") {
        rows.push(crediting_peak_memory(&bench).await);
        rows.extend(tracing_on_and_off(&bench).await);
    }
    print_table(&rows);
    bench.stop().await;
}

/// Part 1: bulk upload into PostgreSQL (measured against COPY by the copy
/// part): every record; the seconds it took.
async fn bulk_into_postgres(bench: &Bench) -> f64 {
    let Sizes {
        per_engineer,
        total,
        ..
    } = bench.sizes;
    let (accepted, rpc_secs) = bulk(
        &mut bench.client(bench.province.clone()),
        &bench.seed,
        per_engineer,
        total,
    )
    .await;
    assert_eq!(accepted, total);
    eprintln!("bulk RPC (PostgreSQL): {total} records in {rpc_secs:.1} s");
    rpc_secs
}

/// COPY of the records alone (the goal's baseline), and of every row the
/// upload stored, in each of its tables: what storing the rest costs. Not
/// a strict ceiling: this COPY parses CSV, the upload writes with binary
/// COPY.
async fn against_copy(bench: &Bench, rpc_rate: f64) -> Vec<Row> {
    let total = bench.sizes.total;
    let url = bench.crediting_url.clone();
    let secs = tokio::task::spawn_blocking(move || copy_tables(&url, total))
        .await
        .unwrap();
    let (records_secs, stored_secs) = (secs[0], secs.iter().sum::<f64>());
    let tables = STORED_TABLES.join(", ");
    let each: Vec<String> = STORED_TABLES
        .iter()
        .zip(&secs)
        .map(|(t, s)| format!("{t} {s:.1} s"))
        .collect();
    eprintln!(
        "COPY: {total} records in {records_secs:.1} s; everything the upload stored in {stored_secs:.1} s ({})",
        each.join(", ")
    );
    let copy_rate = total as f64 / records_secs;
    vec![
        Row::at_least(
            "bulk upload → PostgreSQL / COPY",
            format!("{rpc_rate:.0} rec/s"),
            format!("{copy_rate:.0} rec/s"),
            rpc_rate / copy_rate,
            goal::UPLOAD_VS_COPY,
        ),
        Row::reported(
            "COPY of the records / COPY of all the upload stores (what storing the rest costs)",
            format!("{records_secs:.1} s"),
            format!("{stored_secs:.1} s ({tables})"),
            records_secs / stored_secs,
        ),
    ]
}

/// Reads the annual status `name` as `c`.
async fn read_status(mut c: ce_tests::Crediting, name: String) {
    c.get_annual_status(GetAnnualStatusRequest { name })
        .await
        .unwrap();
}

/// Part 2: reading an annual status vs a bare tonic server answering a fixed
/// status of the same size, once the database has settled: the rate at
/// full concurrency, then p99 at half our peak rate.
async fn against_bare_tonic(bench: &Bench) -> Vec<Row> {
    let Sizes {
        concurrency,
        seconds,
        ..
    } = bench.sizes;
    let names = bench.status_names();
    let fixed = bench
        .client(ministry())
        .get_annual_status(GetAnnualStatusRequest {
            name: names[0].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let size = prost::Message::encoded_len(&fixed);
    let settled = {
        let url = bench.crediting_url.clone();
        tokio::task::spawn_blocking(move || settle(&url))
            .await
            .unwrap()
    };
    eprintln!("reads: the database settled (VACUUM, CHECKPOINT) in {settled:.1} s");
    let bare = bare::start(fixed).await;
    let bare_channel = tonic::transport::Channel::from_shared(format!("http://{bare}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bare_client =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            bare_channel,
            bearer(&bench.place.token(ministry())),
        );
    let reader = bench.client(ministry());
    let read = |c: ce_tests::Crediting| {
        let n = names.clone();
        move |i: usize| read_status(c.clone(), n[i % n.len()].clone())
    };
    let turn_secs = (seconds / TURNS as u64).max(1);
    let mut turns = in_turns(&reader, &bare_client, |c| {
        load(concurrency, turn_secs, read(c))
    })
    .await;
    let (rounds, m, ratio) = median_turn(&mut turns, |o, b| o.rate() / b.rate());
    let (ours, base) = &mut turns[m];
    let throughput = Row::at_least(
        "GetAnnualStatus / bare tonic, same size",
        format!(
            "{:.0} req/s, p99 {:.1} ms",
            ours.rate(),
            ours.p99().as_secs_f64() * 1e3
        ),
        format!(
            "{:.0} req/s, p99 {:.1} ms ({size} B)",
            base.rate(),
            base.p99().as_secs_f64() * 1e3
        ),
        ratio,
        goal::READS_VS_BARE,
    )
    .of_rounds(rounds);
    // p99 at half our peak rate (the median turn's), ours and the bare
    // server's at that rate, taking turns the same way.
    let rate = ours.rate() / 2.0;
    let mut turns = in_turns(&reader, &bare_client, |c| at_rate(rate, turn_secs, read(c))).await;
    let (rounds, m, ratio) = median_turn(&mut turns, |o, b| {
        o.p99().as_secs_f64() / b.p99().as_secs_f64().max(1e-9)
    });
    let (ours, base) = &mut turns[m];
    vec![
        throughput,
        Row::at_most(
            "p99 at half our peak rate / bare tonic p99 at that rate",
            format!(
                "{:.2} ms at {rate:.0} req/s",
                ours.p99().as_secs_f64() * 1e3
            ),
            format!("{:.2} ms", base.p99().as_secs_f64() * 1e3),
            ratio,
            goal::P99_VS_BARE,
        )
        .of_rounds(rounds),
    ]
}

/// Part 3: closing the year (`sweep::close`, the open verdicts moved) and
/// closing it again, then reassessing every status of it after a rule-set
/// change (`sweep::reassess`), each against the GROUP BY, on the database
/// settled first as the reads find it. Returns the rows and the first
/// close's seconds (for the growth part).
async fn against_group_by(bench: &Bench) -> (Vec<Row>, f64) {
    let url = bench.crediting_url.clone();
    let settled = blocking(&url, settle).await;
    eprintln!("close: the database settled (VACUUM, CHECKPOINT) in {settled:.1} s");
    let closed = close::close_twice(&url, |_| ()).await;
    // The baseline, and the floor, each the best of three the same way.
    let [group_secs, read_secs] = blocking(&url, |url| {
        close::best_of_three(url, [close::GROUP_BY, close::RULES_COLUMNS])
    })
    .await;
    eprintln!(
        "year close: {} open years moved in {:.2} s, again {} in {:.2} s; GROUP BY {group_secs:.2} s; reading the rows {read_secs:.2} s",
        closed.first.reassessed, closed.close_secs, closed.again.reassessed, closed.again_secs
    );
    let changed = close::changed_rules();
    let fingerprint = close::fingerprint(&changed);
    let recomputed = close::reassess_with(&url, changed, |_| ()).await;
    eprintln!(
        "recompute under {fingerprint}: {} statuses in {:.2} s ({} rewritten, {} rule set only, {} unchanged)",
        recomputed.statuses,
        recomputed.secs,
        recomputed.rewritten,
        recomputed.rule_set_only,
        recomputed.unchanged
    );
    // Back under the rules the service runs with, so that a crediting
    // started on this database later (the processes part) finds no status
    // assessed under other rules to reassess.
    let back = close::reassess_with(&url, ce_rules::RuleBook::national(), |_| ()).await;
    eprintln!(
        "back under the national rules in {:.2} s ({} rewritten, {} rule set only)",
        back.secs, back.rewritten, back.rule_set_only
    );
    let (assess_secs, differs) = close::assess_in_memory(&url, &close::changed_rules()).await;
    assert_eq!(
        differs, 0,
        "years assessed in memory under the changed rules differ"
    );
    eprintln!("assessing every year in memory, one core: {assess_secs:.2} s");
    let rows = close_rows(&closed, &recomputed, group_secs, [read_secs, assess_secs]);
    (rows, closed.close_secs)
}

/// The close part's rows.
fn close_rows(
    closed: &close::Closed,
    recomputed: &close::Recomputed,
    group_secs: f64,
    [read_secs, assess_secs]: [f64; 2],
) -> Vec<Row> {
    let group = format!("{group_secs:.2} s");
    let close_secs = closed.close_secs;
    vec![
        Row::at_most(
            "close a year (sweep::close) / GROUP BY",
            format!(
                "{close_secs:.2} s ({} open years moved)",
                closed.first.reassessed
            ),
            group.clone(),
            close_secs / group_secs,
            goal::CLOSE_VS_GROUP_BY,
        )
        .goal_reads(format!("≤ {:.1} (time)", goal::CLOSE_VS_GROUP_BY)),
        Row::reported(
            "  again, nothing to move / GROUP BY",
            format!("{:.2} s", closed.again_secs),
            group.clone(),
            closed.again_secs / group_secs,
        ),
        Row::at_most(
            "full recompute after a rule-set change (sweep::reassess) / GROUP BY",
            format!(
                "{:.2} s ({} statuses: {} rewritten, {} rule set only, {} unchanged)",
                recomputed.secs,
                recomputed.statuses,
                recomputed.rewritten,
                recomputed.rule_set_only,
                recomputed.unchanged
            ),
            group.clone(),
            recomputed.secs / group_secs,
            goal::RECOMPUTE_VS_GROUP_BY,
        )
        .goal_reads(format!("≤ {:.1} (time)", goal::RECOMPUTE_VS_GROUP_BY)),
        Row::reported(
            "  reading the rules' columns of every record / GROUP BY (the recompute's floor)",
            format!("{read_secs:.2} s"),
            group.clone(),
            read_secs / group_secs,
        ),
        Row::reported(
            "  assessing and comparing every year in memory, one core / GROUP BY (its CPU floor)",
            format!("{assess_secs:.2} s"),
            group,
            assess_secs / group_secs,
        ),
    ]
}

/// Part 4: bulk upload into SQLite vs prepared inserts in one transaction, and
/// inserting the records vs inserting everything the upload stored.
async fn against_sqlite_inserts(bench: &Bench) -> Vec<Row> {
    let sqlite_records = bench.sizes.sqlite_records;
    let sqlite_file = bench.place.data_dir().join("bench-crediting.db");
    let (lite, accepted, lite_secs) = bulk_into_sqlite(bench, &sqlite_file).await;
    assert_eq!(accepted, sqlite_records);
    eprintln!("bulk RPC (SQLite): {sqlite_records} records in {lite_secs:.1} s");
    let lite_rate = sqlite_records as f64 / lite_secs;
    let plain_file = bench.place.data_dir().join("bench-plain.db");
    let plain_secs = tokio::task::spawn_blocking(move || insert_records(&sqlite_file, &plain_file))
        .await
        .unwrap();
    lite.stop().await;
    let ceiling_file = bench.place.data_dir().join("bench-ceiling.db");
    let stored_file = bench.place.data_dir().join("bench-crediting.db");
    let ceiling = tokio::task::spawn_blocking(move || {
        sqlite_copy_tables(&stored_file, &ceiling_file, sqlite_records)
    })
    .await
    .unwrap();
    let plain_rate = sqlite_records as f64 / plain_secs;
    let all: f64 = ceiling.iter().sum();
    vec![
        Row::at_least(
            "bulk upload → SQLite / prepared inserts",
            format!("{lite_rate:.0} rec/s"),
            format!("{plain_rate:.0} rec/s"),
            lite_rate / plain_rate,
            goal::SQLITE_VS_INSERTS,
        ),
        Row::reported(
            "inserting the records / inserting all the upload stores, SQLite (what storing the rest costs)",
            format!("{:.1} s", ceiling[0]),
            format!("{all:.1} s"),
            ceiling[0] / all,
        ),
    ]
}

/// The SQLite records uploaded through the bulk RPC of a crediting on
/// `file`: that crediting, still running, and (accepted, seconds).
async fn bulk_into_sqlite(
    bench: &Bench,
    file: &std::path::Path,
) -> (ce_tests::Service, usize, f64) {
    let mut config = whole_capacity(bench.place.config("crediting"));
    config.peers.insert("registry".into(), bench.registry.url());
    config.database.url = format!("sqlite://{}", file.display());
    let lite = start_service(config, |c, s| {
        crediting::start_with_clock(c, s, Arc::new(|| TODAY))
    })
    .await;
    let lite_channel = lite.channel().await;
    let mut lite_client =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            lite_channel,
            bearer(&bench.place.token(bench.province.clone())),
        );
    let (accepted, secs) = bulk(
        &mut lite_client,
        &bench.seed,
        bench.sizes.per_engineer,
        bench.sizes.sqlite_records,
    )
    .await;
    (lite, accepted, secs)
}

/// Seconds to insert the records stored in the SQLite database `from`
/// into a fresh one at `to`, one prepared insert a row in one
/// transaction: the plain-insert baseline.
fn insert_records(from: &std::path::Path, to: &std::path::Path) -> f64 {
    use crediting::schema::hour_records;
    use crediting::store::RecordRow;
    let mut from = SqliteConnection::establish(&from.display().to_string()).unwrap();
    let stored: Vec<RecordRow> = hour_records::table
        .select(RecordRow::as_select())
        .load(&mut from)
        .unwrap();
    let mut to = fresh_sqlite(to);
    let started = Instant::now();
    to.immediate_transaction(|c| {
        for row in &stored {
            diesel::insert_into(hour_records::table)
                .values(row)
                .execute(c)?;
        }
        diesel::QueryResult::Ok(())
    })
    .unwrap();
    started.elapsed().as_secs_f64()
}

/// Part 5, first: crediting's peak memory taking the whole PostgreSQL bulk
/// upload, measured where it is alone in its process: a crediting process
/// (the release binary, configured through the environment, tracing off)
/// on a fresh database, sent every record as part 1 sends them. Part 1's
/// crediting runs in this process, whose peak would also hold the
/// registry, the seeding and the client generating the records.
async fn crediting_peak_memory(bench: &Bench) -> Row {
    let Sizes {
        per_engineer,
        total,
        ..
    } = bench.sizes;
    let database = ce_tests::pg::fresh_database();
    let alone = processes::Alone::start(&bench.place, database.url(), &TODAY.to_string()).await;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let started = mib(alone.crediting.memory("VmRSS"));
    let channel = tonic::transport::Endpoint::from_shared(alone.crediting.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            channel,
            bearer(&bench.place.token(bench.province.clone())),
        );
    let (accepted, secs) = bulk(&mut client, &bench.seed, per_engineer, total).await;
    assert_eq!(accepted, total);
    let peak = mib(alone.crediting.memory("VmHWM"));
    alone.stop();
    eprintln!(
        "crediting alone: {total} records in {secs:.1} s, peak memory {peak:.0} MiB ({started:.0} MiB once started)"
    );
    Row::at_most(
        "crediting's peak memory taking the bulk upload into PostgreSQL (its own process)",
        format!(
            "{peak:.0} MiB ({total} records at {:.0} rec/s; {started:.0} MiB once started)",
            total as f64 / secs
        ),
        format!("{:.0} MiB", goal::CREDITING_PEAK_MIB),
        peak / goal::CREDITING_PEAK_MIB,
        1.0,
    )
    .goal_reads(format!("≤ {:.0} MiB", goal::CREDITING_PEAK_MIB))
}

/// Part 5: the services as processes, as production runs them: the same bulk
/// upload and reads with the OTLP batch exporter on (to a receiver here)
/// and off, alternating off, on TURNS times so drift falls on both; and
/// each service's peak memory.
async fn tracing_on_and_off(bench: &Bench) -> Vec<Row> {
    let receiver = processes::Receiver::default();
    let otlp = processes::receiver(receiver.clone()).await;
    let names = bench.status_names();
    // [off, on]: upload rates, read rates, and the largest peak per service.
    let mut uploads = [Vec::new(), Vec::new()];
    let mut reads = [Vec::new(), Vec::new()];
    let mut memory: [Vec<(&'static str, u64)>; 2] = [Vec::new(), Vec::new()];
    let turns = (0..TURNS).flat_map(|_| [false, true]);
    for (n, on) in turns.enumerate() {
        let round = round_of_processes(bench, &receiver, &otlp, &names, n, on).await;
        uploads[usize::from(on)].push(round.upload_rate);
        reads[usize::from(on)].push(round.read_rate);
        let kept = &mut memory[usize::from(on)];
        if kept.is_empty() {
            *kept = round.peaks;
        } else {
            for (k, p) in kept.iter_mut().zip(round.peaks) {
                k.1 = k.1.max(p.1);
            }
        }
    }
    tracing_rows(&uploads, &reads, &memory)
}

/// What one round of the processes measured: records uploaded a second,
/// statuses read a second, and each service's peak memory.
struct Round {
    upload_rate: f64,
    read_rate: f64,
    peaks: Vec<(&'static str, u64)>,
}

/// Round `n` of the processes, tracing `on` or off: its own engineers'
/// records uploaded, then statuses read; the spans the receiver got must
/// be some exactly when tracing was on.
async fn round_of_processes(
    bench: &Bench,
    receiver: &processes::Receiver,
    otlp: &str,
    names: &Arc<Vec<String>>,
    n: usize,
    on: bool,
) -> Round {
    let Sizes {
        engineers,
        per_engineer,
        concurrency,
        seconds,
        ..
    } = bench.sizes;
    let place = &bench.place;
    // Each round its own engineers, none twice.
    let round = (engineers / (2 * TURNS)).clamp(1, 20_000);
    let before = receiver.spans.load(Ordering::Relaxed);
    let suite = processes::Suite::start(place, on.then_some(otlp), "2026-11-25").await;
    // Each round starts from the same state: the quality service has
    // followed the feed (the first round, the in-process upload's).
    let (behind, follow_secs) = suite.caught_up(place).await;
    eprintln!("processes: quality followed {behind} changes in {follow_secs:.1} s");
    let channel = tonic::transport::Endpoint::from_shared(suite.url("crediting").to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let as_who = |req: ce_server::auth::TokenRequest| {
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            channel.clone(),
            bearer(&place.token(req)),
        )
    };
    // Each round its own engineers, with records like the first
    // upload's a day later: the same work every round.
    let s = bench.seed.clone();
    let first = n * round;
    let count = round * per_engineer;
    let (accepted, secs) = bulk_of(&mut as_who(bench.province.clone()), count, move |i| {
        a_day_later(
            &s,
            (first + i / per_engineer) % s.engineers.len(),
            i % per_engineer,
            per_engineer,
            n,
        )
    })
    .await;
    assert_eq!(accepted, count);
    // The reads are measured alone, not beside quality following
    // the upload's changes (the same work in every round, but not
    // always the same share of the reads' time).
    let (behind, follow_secs) = suite.caught_up(place).await;
    eprintln!("processes: quality followed {behind} changes in {follow_secs:.1} s");
    let reader = as_who(ministry());
    let names = names.clone();
    let rps = load(concurrency, seconds, move |i| {
        read_status(reader.clone(), names[i % names.len()].clone())
    })
    .await
    .rate();
    let peaks = suite.peak_memory();
    // SIGTERM flushes the exporter: every span is in by now.
    suite.stop();
    let spans = receiver.spans.load(Ordering::Relaxed) - before;
    eprintln!(
        "processes, tracing {}: {count} records at {:.0} rec/s, reads {rps:.0} req/s, {spans} spans exported",
        if on { "on" } else { "off" },
        count as f64 / secs
    );
    if on {
        assert!(
            spans > 0,
            "tracing was on, yet no span reached the receiver"
        );
    } else {
        assert_eq!(spans, 0, "tracing was off, yet spans were exported");
    }
    Round {
        upload_rate: count as f64 / secs,
        read_rate: rps,
        peaks,
    }
}

/// The `j`th record of engineer `e` a day later, keyed for round `n`.
fn a_day_later(seed: &Seed, e: usize, j: usize, per_engineer: usize, n: usize) -> HourRecord {
    let mut r = record(seed, e, j, per_engineer);
    r.client_key = format!("bench-round{n}-{e}-{j}");
    match &mut r.activity {
        Some(A::FaceToFace(f)) => f.start_date = shifted(f.start_date),
        Some(A::Online(o)) => {
            o.start_date = shifted(o.start_date);
            o.end_date = shifted(o.end_date);
        }
        _ => {}
    }
    r
}

/// The processes' rows: upload and read rates, tracing on against off
/// (the median of the turns' ratios, with that turn's rates), and each
/// service's peak memory.
fn tracing_rows(
    uploads: &[Vec<f64>; 2],
    reads: &[Vec<f64>; 2],
    memory: &[Vec<(&'static str, u64)>; 2],
) -> Vec<Row> {
    let on_off = |name: &'static str, rates: &[Vec<f64>; 2], unit: &str| {
        let ratios: Vec<f64> = rates[1]
            .iter()
            .zip(&rates[0])
            .map(|(on, off)| on / off)
            .collect();
        let (m, ratio) = median(&ratios);
        Row::at_least(
            name,
            format!("{:.0} {unit}", rates[1][m]),
            format!("{:.0} {unit}", rates[0][m]),
            ratio,
            goal::TRACING_ON_VS_OFF,
        )
        .of_rounds(ratios)
    };
    let mut rows = vec![
        on_off(
            "bulk upload, tracing on / off (processes)",
            uploads,
            "rec/s",
        ),
        on_off(
            "GetAnnualStatus, tracing on / off (processes)",
            reads,
            "req/s",
        ),
    ];
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    for ((service, on), (_, off)) in memory[1].iter().zip(&memory[0]) {
        let name = match *service {
            "registry" => "peak memory: registry, tracing on / off",
            "crediting" => "peak memory: crediting, tracing on / off",
            "supervision" => "peak memory: supervision (idle), on / off",
            _ => "peak memory: quality (idle), on / off",
        };
        rows.push(Row::reported(
            name,
            format!("{:.0} MiB", mib(*on)),
            format!("{:.0} MiB", mib(*off)),
            *on as f64 / (*off).max(1) as f64,
        ));
    }
    rows
}

fn print_table(rows: &[Row]) {
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!("ce-bench — {cores} cores, {machine}");
    println!();
    println!("| measure | ours | baseline | ratio | goal | |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let rounds: Vec<String> = r.rounds.iter().map(|x| format!("{x:.2}")).collect();
        let ratio = if rounds.len() > 1 {
            format!("{:.2} (median of {})", r.ratio, rounds.join(", "))
        } else {
            format!("{:.2}", r.ratio)
        };
        println!(
            "| {} | {} | {} | {ratio} | {} | {} |",
            r.name,
            r.ours,
            r.baseline,
            r.goal,
            match r.met {
                Some(true) => "met",
                Some(false) => "NOT met",
                None => "",
            }
        );
    }
    let mut stdout = std::io::stdout();
    stdout.flush().ok();
}
