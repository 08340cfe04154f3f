//! How fast the rules credit and assess: a realistic year (ten mixed
//! records) and a population of 100,000 engineers with one million records.
//! `cargo bench -p ce-rules`; Criterion prints records per second as
//! `thrpt`.

use std::hint::black_box;
use std::time::Instant;

use ce_rules::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::{Date, Duration, Month};

/// Ten records of the kinds a year usually holds, varied by `seed`.
fn year_of_records(seed: u32) -> Vec<Record> {
    let day = |n: u32| {
        Date::from_calendar_date(2026, Month::January, 1).unwrap_or(Date::MIN)
            + Duration::days(i64::from((seed * 7 + n * 31) % 360))
    };
    vec![
        Record::new(
            "f1",
            Activity::FaceToFace {
                category: Category::Professional,
                start: day(1),
                days: 3,
                hours_per_day: 8.0,
                provider: Some("institutions/a".into()),
            },
        ),
        Record::new(
            "f2",
            Activity::FaceToFace {
                category: Category::Public,
                start: day(2),
                days: 2,
                hours_per_day: 6.0,
                provider: Some("institutions/b".into()),
            },
        ),
        Record::new(
            "o1",
            Activity::Online {
                category: Category::Public,
                start: day(3),
                end: day(3),
                hours: 6.5,
                sessions: vec![],
            },
        ),
        Record::new(
            "o2",
            Activity::Online {
                category: Category::Professional,
                start: day(4),
                end: day(4),
                hours: 4.0,
                sessions: vec![],
            },
        ),
        Record::new(
            "o3",
            Activity::Online {
                category: Category::Public,
                start: day(5),
                end: day(5),
                hours: 3.0,
                sessions: vec![],
            },
        ),
        Record::new(
            "p1",
            Activity::Patent {
                kind: PatentKind::Invention,
                number: format!("ZL2026{seed:08}.1"),
                date: day(6),
            },
        ),
        Record::new(
            "p2",
            Activity::Paper {
                authorship: PaperAuthorship::CoAuthor,
                id: format!("10.1000/ce.{seed}"),
                date: day(7),
            },
        ),
        Record::new(
            "l1",
            Activity::Lecture {
                hours: 2.5,
                date: day(8),
                engagement: format!("talk-{seed}"),
            },
        ),
        Record::new(
            "r1",
            Activity::Research {
                role: ResearchRole::Participant,
                project: format!("P-{}", seed % 1000),
                date: day(9),
            },
        ),
        Record::new(
            "c1",
            Activity::Competition {
                level: CompetitionLevel::Provincial,
                prize: Prize::Second,
                id: format!("comp-{}", seed % 50),
                date: day(10),
            },
        ),
    ]
}

fn assess_year(records: &[Record], rules: &RuleSet) -> Assessment {
    let input = YearInput {
        year: 2026,
        records,
        make_up: &[],
        used_for_make_up: &[],
        deferral: None,
        as_of: Date::from_calendar_date(2027, Month::January, 10).unwrap_or(Date::MAX),
    };
    match assess(&input, rules) {
        Ok(a) => a,
        Err(e) => panic!("benchmark input is valid: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let rules = RuleSet::national();
    let one = year_of_records(1);
    let mut group = c.benchmark_group("assess");
    group.throughput(Throughput::Elements(one.len() as u64));
    group.bench_function("one year, 10 records", |b| {
        b.iter(|| assess_year(black_box(&one), &rules))
    });
    group.finish();

    const ENGINEERS: u32 = 100_000;
    let population: Vec<Vec<Record>> = (0..ENGINEERS).map(year_of_records).collect();
    let records: usize = population.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("population");
    group.sample_size(10);
    group.throughput(Throughput::Elements(records as u64));
    group.bench_function("100k engineers, 1M records", |b| {
        b.iter(|| {
            let mut compliant = 0usize;
            for year in &population {
                if assess_year(black_box(year), &rules).status == Status::Compliant {
                    compliant += 1;
                }
            }
            compliant
        })
    });
    group.finish();

    // One plain timed pass, printed in the unit the target is stated in.
    let started = Instant::now();
    let assessed = population
        .iter()
        .filter(|y| black_box(assess_year(y, &rules)).year == 2026)
        .count();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "population: {assessed} engineers, {records} records in {secs:.3} s = {:.0} records/s on one core",
        records as f64 / secs
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
