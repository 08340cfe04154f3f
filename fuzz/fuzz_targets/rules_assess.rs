//! The rules library on arbitrary records: `assess` never panics, and when
//! it answers, the rules issue's properties hold: the order of records does
//! not matter, totals are the sum of their parts, converted hours stay
//! under their cap, every explanation cites an article and earns no
//! negative hours, and revoked records earn nothing.

#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use ce_rules::*;
use libfuzzer_sys::fuzz_target;
use time::{Date, Duration, macros::date};

/// A day from the end of 2025 to the start of 2027, so year boundaries are
/// crossed often.
fn day(u: &mut Unstructured) -> Result<Date> {
    Ok(date!(2025 - 12 - 01) + Duration::days(i64::from(u.int_in_range(0u16..=430)?)))
}

/// Any f64 at times (NaN, infinities, negatives), plausible ones mostly.
fn figure(u: &mut Unstructured) -> Result<f64> {
    Ok(if u.ratio(1, 8)? {
        f64::arbitrary(u)?
    } else {
        f64::from(u.int_in_range(0u32..=3000)?) / 100.0
    })
}

fn id(u: &mut Unstructured) -> Result<String> {
    Ok(u.choose(&["X-1", "x1", "X-2", "", "ISBN 978-7", "标准-1"])?
        .to_string())
}

fn activity(u: &mut Unstructured) -> Result<Activity> {
    let category = if bool::arbitrary(u)? {
        Category::Public
    } else {
        Category::Professional
    };
    Ok(match u.int_in_range(0u8..=13)? {
        0 => Activity::FaceToFace {
            category,
            start: day(u)?,
            days: u.int_in_range(0u16..=40)?,
            hours_per_day: figure(u)?,
            provider: if bool::arbitrary(u)? {
                Some("institutions/a".into())
            } else {
                None
            },
        },
        1 => {
            let start = day(u)?;
            Activity::Online {
                category,
                start,
                end: start + Duration::days(i64::from(u.int_in_range(0u16..=60)?))
                    - Duration::days(i64::from(u.int_in_range(0u8..=1)?)),
                hours: figure(u)?,
                sessions: vec![],
            }
        }
        2 => Activity::Degree { date: day(u)? },
        3 => Activity::Qualification { date: day(u)? },
        4 => {
            let start = day(u)?;
            Activity::AidAssignment {
                kind: *u.choose(&[AidKind::Tibet, AidKind::Xinjiang, AidKind::Abroad])?,
                start,
                end: start + Duration::days(i64::from(u.int_in_range(0u16..=500)?)),
            }
        }
        5 => Activity::Research {
            role: *u.choose(&[
                ResearchRole::Sole,
                ResearchRole::Principal,
                ResearchRole::Participant,
            ])?,
            project: id(u)?,
            date: day(u)?,
        },
        6 => Activity::Patent {
            kind: *u.choose(&[
                PatentKind::Invention,
                PatentKind::UtilityModel,
                PatentKind::SoftwareCopyright,
            ])?,
            number: id(u)?,
            date: day(u)?,
        },
        7 => Activity::Paper {
            authorship: *u.choose(&[PaperAuthorship::Sole, PaperAuthorship::CoAuthor])?,
            id: id(u)?,
            date: day(u)?,
        },
        8 => Activity::Book {
            authorship: *u.choose(&[
                BookAuthorship::Sole,
                BookAuthorship::FirstAuthor,
                BookAuthorship::OtherAuthor,
            ])?,
            isbn: id(u)?,
            date: day(u)?,
        },
        9 => Activity::Standard {
            role: *u.choose(&[DrafterRole::FirstDrafter, DrafterRole::OtherDrafter])?,
            number: id(u)?,
            date: day(u)?,
        },
        10 => Activity::Lecture {
            hours: figure(u)?,
            date: day(u)?,
            engagement: id(u)?,
        },
        11 => Activity::ExamQuestions {
            engagement: id(u)?,
            date: day(u)?,
        },
        12 => Activity::Competition {
            level: *u.choose(&[
                CompetitionLevel::BelowProvincial,
                CompetitionLevel::Provincial,
                CompetitionLevel::National,
            ])?,
            prize: *u.choose(&[Prize::BelowThird, Prize::Third, Prize::Second, Prize::First])?,
            id: id(u)?,
            date: day(u)?,
        },
        _ => Activity::Other {
            kind: id(u)?,
            quantity: figure(u)?,
            id: id(u)?,
            date: day(u)?,
        },
    })
}

fn record(u: &mut Unstructured, n: usize) -> Result<Record> {
    Ok(Record {
        id: format!("r{n}"),
        activity: activity(u)?,
        claimed: if u.ratio(1, 4)? {
            Some(figure(u)?)
        } else {
            None
        },
        revoked: u.ratio(1, 10)?,
        make_up_for: None,
        // Another engineer's claim, as crediting would find it.
        contested: if u.ratio(1, 10)? {
            vec!["principal investigator".into()]
        } else {
            Vec::new()
        },
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(n) = u.int_in_range(0usize..=24) else {
        return;
    };
    let mut records = Vec::new();
    for i in 0..n {
        match record(&mut u, i) {
            Ok(r) => records.push(r),
            Err(_) => break,
        }
    }
    let as_of = day(&mut u).unwrap_or(date!(2027 - 03 - 01));
    let rules = RuleSet::national();
    fn input(records: &[Record], as_of: Date) -> YearInput<'_> {
        YearInput {
            year: 2026,
            records,
            make_up: &[],
            deferral: None,
            used_for_make_up: &[],
            as_of,
        }
    }
    let forward = assess(&input(&records, as_of), &rules);
    let mut reversed = records.clone();
    reversed.reverse();
    let backward = assess(&input(&reversed, as_of), &rules);
    assert_eq!(
        forward.is_ok(),
        backward.is_ok(),
        "the order of records decided whether they were valid"
    );
    let (Ok(a), Ok(b)) = (forward, backward) else {
        return;
    };
    assert_eq!(
        a.totals, b.totals,
        "the order of records changed the totals"
    );
    assert_eq!(
        a.status, b.status,
        "the order of records changed the status"
    );
    assert_eq!(
        a.totals.total,
        a.totals.public + a.totals.professional,
        "total is public plus professional"
    );
    assert!(
        a.totals.converted <= Hours::whole(60),
        "converted hours over the Art. 18 cap: {:?}",
        a.totals
    );
    for e in &a.explanations {
        assert!(
            !e.article.to_string().is_empty(),
            "an explanation without an article"
        );
        let r = records
            .iter()
            .find(|r| r.id == e.record)
            .expect("an explanation of an unknown record");
        if r.revoked {
            assert_eq!(
                e.hours,
                Hours::ZERO,
                "a revoked record earned hours (Art. 27)"
            );
        }
    }
});
