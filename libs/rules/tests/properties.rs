#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of `assess` over random sets of valid records of 2026, under
//! the national rule set: order does not matter, duplicates count once,
//! adding a record never lowers what the year has earned, no credited
//! figure exceeds its cap, totals are the sum of their parts, deemed
//! events complete the year and revoked records earn nothing.
//!
//! Failures are not persisted (no `proptest-regressions` file): a failing
//! case is shrunk and printed. `PROPTEST_CASES` raises the case count.

use std::collections::{BTreeMap, BTreeSet};

use ce_rules::ruleset::Maxima;
use ce_rules::*;
use proptest::prelude::*;
use proptest::test_runner::Config;
use time::macros::date;
use time::{Date, Duration};

// ---------------------------------------------------------------------------
// Generators: valid records of 2026.
// ---------------------------------------------------------------------------

/// 2026 is not a leap year.
const DAYS_IN_2026: i64 = 365;

/// The year is over: the status is final.
const AS_OF: Date = date!(2027 - 03 - 01);

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Day `n` of 2026 (0 is 1 January).
fn day(n: i64) -> Date {
    date!(2026 - 01 - 01) + Duration::days(n)
}

/// Day 120 is 1 May.
const BUSY_FORTNIGHT: i64 = 120;

/// The first day of a span of `len` days inside 2026: anywhere in the
/// year, or often in one busy fortnight, so that courses share days,
/// records share dates (and ids break the tie) and duplicates come in
/// either order.
fn first_day(len: i64) -> impl Strategy<Value = i64> {
    let last = DAYS_IN_2026 - len;
    prop_oneof![0..=last, BUSY_FORTNIGHT..=(BUSY_FORTNIGHT + 14).min(last)]
}

fn any_date() -> impl Strategy<Value = Date> {
    first_day(1).prop_map(day)
}

/// A figure with two decimals, from 0 to `max_centi` hundredths.
fn two_decimals(max_centi: u32) -> impl Strategy<Value = f64> {
    (0..=max_centi).prop_map(|c| f64::from(c) / 100.0)
}

fn category() -> impl Strategy<Value = Category> {
    prop_oneof![Just(Category::Public), Just(Category::Professional)]
}

/// Identifiers from a small pool, so the same evidence is submitted twice;
/// `X-1` and `x1` are one identifier once normalised.
fn identifier() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["X-1", "x1", "X-2", "X-3", "X-4"]).prop_map(str::to_owned)
}

fn face_to_face() -> impl Strategy<Value = Activity> {
    (category(), 1u16..=5)
        .prop_flat_map(|(category, days)| {
            (
                Just(category),
                Just(days),
                first_day(i64::from(days)),
                two_decimals(2400),
                prop::option::of(prop::sample::select(vec![
                    "institutions/a",
                    "institutions/b",
                ])),
            )
        })
        .prop_map(
            |(category, days, start, hours_per_day, provider)| Activity::FaceToFace {
                category,
                start: day(start),
                days,
                hours_per_day,
                provider: provider.map(str::to_owned),
            },
        )
}

fn online() -> impl Strategy<Value = Activity> {
    (category(), first_day(1))
        .prop_flat_map(|(category, start)| {
            // A week or less, or up to the end of the year.
            let week = start..(start + 7).min(DAYS_IN_2026);
            (
                Just(category),
                Just(start),
                prop_oneof![week, start..DAYS_IN_2026],
            )
        })
        .prop_flat_map(|(category, start, end)| {
            let days = u32::try_from(end - start + 1).unwrap();
            // At most 24 hours a day; at most 60 so long spans do not
            // make every year compliant.
            let max = (2400 * days).min(6000);
            (Just(category), Just(start), Just(end), two_decimals(max))
        })
        .prop_map(|(category, start, end, hours)| Activity::Online {
            category,
            start: day(start),
            end: day(end),
            hours,
            sessions: vec![],
        })
}

fn aid_assignment() -> impl Strategy<Value = Activity> {
    (
        prop::sample::select(vec![
            AidKind::Tibet,
            AidKind::Xinjiang,
            AidKind::Qinghai,
            AidKind::Abroad,
            AidKind::DesignatedSupport,
        ]),
        first_day(1),
    )
        .prop_flat_map(|(kind, start)| (Just(kind), Just(start), start..DAYS_IN_2026))
        .prop_map(|(kind, start, end)| Activity::AidAssignment {
            kind,
            start: day(start),
            end: day(end),
        })
}

fn competition() -> impl Strategy<Value = Activity> {
    (
        prop::sample::select(vec![
            CompetitionLevel::BelowProvincial,
            CompetitionLevel::Provincial,
            CompetitionLevel::National,
        ]),
        prop::sample::select(vec![
            Prize::BelowThird,
            Prize::Third,
            Prize::Second,
            Prize::First,
        ]),
        identifier(),
        any_date(),
    )
        .prop_map(|(level, prize, id, date)| Activity::Competition {
            level,
            prize,
            id,
            date,
        })
}

/// Every form of the national rule set (all but `Other`); the deemed
/// events (degree, qualification, aid) are rare, so most sets have none.
fn activity() -> impl Strategy<Value = Activity> {
    prop_oneof![
        8 => face_to_face(),
        8 => online(),
        1 => any_date().prop_map(|date| Activity::Degree { date }),
        1 => any_date().prop_map(|date| Activity::Qualification { date }),
        1 => aid_assignment(),
        2 => (
            prop::sample::select(vec![
                ResearchRole::Sole,
                ResearchRole::Principal,
                ResearchRole::Participant,
            ]),
            identifier(),
            any_date(),
        )
            .prop_map(|(role, project, date)| Activity::Research { role, project, date }),
        2 => (
            prop::sample::select(vec![
                PatentKind::Invention,
                PatentKind::UtilityModel,
                PatentKind::SoftwareCopyright,
            ]),
            identifier(),
            any_date(),
        )
            .prop_map(|(kind, number, date)| Activity::Patent { kind, number, date }),
        2 => (
            prop::sample::select(vec![PaperAuthorship::Sole, PaperAuthorship::CoAuthor]),
            identifier(),
            any_date(),
        )
            .prop_map(|(authorship, id, date)| Activity::Paper { authorship, id, date }),
        2 => (
            prop::sample::select(vec![
                BookAuthorship::Sole,
                BookAuthorship::FirstAuthor,
                BookAuthorship::OtherAuthor,
            ]),
            identifier(),
            any_date(),
        )
            .prop_map(|(authorship, isbn, date)| Activity::Book { authorship, isbn, date }),
        2 => (
            prop::sample::select(vec![DrafterRole::FirstDrafter, DrafterRole::OtherDrafter]),
            identifier(),
            any_date(),
        )
            .prop_map(|(role, number, date)| Activity::Standard { role, number, date }),
        3 => (two_decimals(2400), identifier(), any_date()).prop_map(|(hours, engagement, date)| {
            Activity::Lecture {
                hours,
                date,
                engagement,
            }
        }),
        2 => (identifier(), any_date())
            .prop_map(|(engagement, date)| Activity::ExamQuestions { engagement, date }),
        3 => competition(),
    ]
}

/// A record without its id: activity, claimed hours (often above the
/// maximum, sometimes below, sometimes a few hundredths) and revocation
/// (rare).
fn record_parts() -> impl Strategy<Value = (Activity, Option<f64>, bool)> {
    (
        activity(),
        prop::option::weighted(
            0.4,
            prop_oneof![two_decimals(4), two_decimals(1000), two_decimals(15000)],
        ),
        prop::bool::weighted(0.1),
    )
}

/// The same item as `a` with the engineer's part in it turned `pick`
/// steps along its choices (0: the same claim).
fn sibling(a: &Activity, pick: u8) -> Activity {
    let turn = |n: usize| usize::from(pick) % n;
    let mut b = a.clone();
    match &mut b {
        Activity::Research { role, .. } => {
            *role = [
                ResearchRole::Sole,
                ResearchRole::Principal,
                ResearchRole::Participant,
            ][(*role as usize + turn(3)) % 3];
        }
        Activity::Patent { kind, .. } => {
            *kind = [
                PatentKind::Invention,
                PatentKind::UtilityModel,
                PatentKind::SoftwareCopyright,
            ][(*kind as usize + turn(3)) % 3];
        }
        Activity::Paper { authorship, .. } => {
            *authorship = [PaperAuthorship::Sole, PaperAuthorship::CoAuthor]
                [(*authorship as usize + turn(2)) % 2];
        }
        Activity::Book { authorship, .. } => {
            *authorship = [
                BookAuthorship::Sole,
                BookAuthorship::FirstAuthor,
                BookAuthorship::OtherAuthor,
            ][(*authorship as usize + turn(3)) % 3];
        }
        Activity::Standard { role, .. } => {
            *role = [DrafterRole::FirstDrafter, DrafterRole::OtherDrafter]
                [(*role as usize + turn(2)) % 2];
        }
        Activity::Competition { prize, .. } => {
            *prize = [Prize::BelowThird, Prize::Third, Prize::Second, Prize::First]
                [(*prize as usize + turn(4)) % 4];
        }
        Activity::Lecture { hours, .. } if pick > 0 => {
            let d = f64::from(pick) / 4.0;
            *hours = if *hours + d <= 24.0 {
                *hours + d
            } else {
                *hours - d
            };
        }
        Activity::Other { quantity, .. } if pick > 0 => *quantity += f64::from(pick),
        _ => {}
    }
    b
}

fn make_record(id: String, (activity, claimed, revoked): (Activity, Option<f64>, bool)) -> Record {
    Record {
        id,
        activity,
        claimed,
        revoked,
        make_up_for: None,
        contested: Vec::new(),
    }
}

/// A set of valid records with unique ids `r00`, `r01`, ... (zero-padded,
/// so ids sort in index order). Some records repeat an earlier record's
/// activity (same course, same evidence, same date) with their own claim
/// and revocation, as double submissions and crowded days do.
fn records() -> impl Strategy<Value = Vec<Record>> {
    let part = (
        record_parts(),
        prop::option::weighted(0.3, any::<prop::sample::Index>()),
    );
    prop::collection::vec(part, 0..10).prop_map(|parts| {
        let mut out: Vec<Record> = Vec::with_capacity(parts.len());
        for (i, ((activity, claimed, revoked), repeat)) in parts.into_iter().enumerate() {
            let activity = match repeat {
                Some(earlier) if i > 0 => out[earlier.index(i)].activity.clone(),
                _ => activity,
            };
            out.push(make_record(
                format!("r{i:02}"),
                (activity, claimed, revoked),
            ));
        }
        out
    })
}

fn assess_2026(records: &[Record]) -> Assessment {
    assess(
        &YearInput {
            year: 2026,
            records,
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: AS_OF,
        },
        &RuleSet::national(),
    )
    .expect("valid records of 2026 are always assessed")
}

// ---------------------------------------------------------------------------
// An independent statement of the caps, read from the rule set.
// ---------------------------------------------------------------------------

/// The most one record of `activity` can earn on its own (Art. 18), before
/// any claim, duplicate, daily or conversion cap across records.
fn item_maximum(activity: &Activity, m: &Maxima) -> Hours {
    let h = |x: f64| Hours::from_f64(x).unwrap();
    match activity {
        Activity::FaceToFace {
            days,
            hours_per_day,
            ..
        } => h(*hours_per_day)
            .min(m.face_to_face_per_day)
            .times(u32::from(*days)),
        Activity::Online { hours, .. } => h(*hours),
        Activity::Degree { .. }
        | Activity::Qualification { .. }
        | Activity::AidAssignment { .. } => Hours::ZERO,
        Activity::Research { role, .. } => match role {
            ResearchRole::Sole => m.research_sole,
            ResearchRole::Principal => m.research_principal,
            ResearchRole::Participant => m.research_participant,
        },
        Activity::Patent { kind, .. } => match kind {
            PatentKind::Invention => m.invention_patent,
            PatentKind::UtilityModel => m.utility_model_patent,
            PatentKind::SoftwareCopyright => m.software_copyright,
        },
        Activity::Paper { authorship, .. } => match authorship {
            PaperAuthorship::Sole => m.paper_sole,
            PaperAuthorship::CoAuthor => m.paper_coauthor,
        },
        Activity::Book { authorship, .. } => match authorship {
            BookAuthorship::Sole => m.book_sole,
            BookAuthorship::FirstAuthor => m.book_first_author,
            BookAuthorship::OtherAuthor => m.book_other_author,
        },
        Activity::Standard { role, .. } => match role {
            DrafterRole::FirstDrafter => m.standard_first_drafter,
            DrafterRole::OtherDrafter => m.standard_other_drafter,
        },
        // The multiplier is in hours: 6 means 6x.
        Activity::Lecture { hours, .. } => {
            Hours::from_centi(h(*hours).centi() * m.lecture_multiplier.centi() / 100)
        }
        Activity::ExamQuestions { .. } => m.exam_questions,
        Activity::Competition { level, prize, .. } => {
            if *level >= CompetitionLevel::Provincial && *prize >= Prize::Third {
                m.competition
            } else {
                Hours::ZERO
            }
        }
        Activity::Other { .. } => panic!("the national rule set defines no other forms"),
    }
}

fn by_id(records: &[Record]) -> BTreeMap<&str, &Record> {
    records.iter().map(|r| (r.id.as_str(), r)).collect()
}

fn is_deemed_event(a: &Activity) -> bool {
    matches!(
        a,
        Activity::Degree { .. } | Activity::Qualification { .. } | Activity::AidAssignment { .. }
    )
}

/// The same evidence dated `new`: a resubmission. Only activities with an
/// evidence key (all dated by a single day) are moved; others are kept.
fn redated(activity: &Activity, new: Date) -> Activity {
    let mut a = activity.clone();
    match &mut a {
        Activity::Research { date, .. }
        | Activity::Patent { date, .. }
        | Activity::Paper { date, .. }
        | Activity::Book { date, .. }
        | Activity::Standard { date, .. }
        | Activity::ExamQuestions { date, .. }
        | Activity::Competition { date, .. }
        | Activity::Other { date, .. } => *date = new,
        _ => {}
    }
    a
}

/// Hall's condition for the daily cap (Art. 18(1)): the credited hours
/// of face-to-face records fit into 8 hours a day iff every group of them
/// earned no more than 8 times the number of distinct days the group
/// covers (a course's hours may fall on any of its days). Checked for
/// every group; `None` if it holds, else the first group that breaks it:
/// its ids, hours and distinct days.
fn daily_cap_violation(
    records: &[Record],
    a: &Assessment,
    per_day: Hours,
) -> Option<(Vec<String>, Hours, u32)> {
    let records_by_id = by_id(records);
    let courses: Vec<(&str, Hours, BTreeSet<Date>)> = a
        .explanations
        .iter()
        .filter_map(|e| match &records_by_id[e.record.as_str()].activity {
            Activity::FaceToFace { start, days, .. } => Some((
                e.record.as_str(),
                e.hours,
                (0..*days)
                    .map(|d| *start + Duration::days(i64::from(d)))
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    assert!(courses.len() < 16, "too many courses to check every group");
    for mask in 1u32..(1 << courses.len()) {
        let group: Vec<_> = courses
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect();
        let hours: Hours = group.iter().map(|c| c.1).sum();
        let days: BTreeSet<Date> = group.iter().flat_map(|c| c.2.iter().copied()).collect();
        let days = u32::try_from(days.len()).unwrap();
        if hours > per_day.times(days) {
            let ids = group.iter().map(|c| c.0.to_owned()).collect();
            return Some((ids, hours, days));
        }
    }
    None
}

/// A set of records and one more valid record: a random one, or often a
/// resubmission of an existing record's evidence on another date with its
/// own claim. Its id sorts before or after every other, which decides its
/// place among records of the same date.
fn records_and_one_more() -> impl Strategy<Value = (Vec<Record>, Record)> {
    (
        records(),
        record_parts(),
        prop::option::weighted(0.4, any::<prop::sample::Index>()),
        any::<bool>(),
    )
        .prop_map(
            |(records, (activity, claimed, revoked), resubmit, sorts_first)| {
                let keyed: Vec<&Record> = records
                    .iter()
                    .filter(|r| r.activity.evidence_key().is_some())
                    .collect();
                let activity = match resubmit {
                    Some(pick) if !keyed.is_empty() => {
                        redated(&keyed[pick.index(keyed.len())].activity, activity.date())
                    }
                    _ => activity,
                };
                let id = if sorts_first { "a-extra" } else { "z-extra" };
                let extra = make_record(id.into(), (activity, claimed, revoked));
                (records, extra)
            },
        )
}

// ---------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// The canonical order (date, then id) makes the result independent of
    /// the order records are given in: status, totals, shortfall, signals
    /// and explanations (in canonical order) are identical.
    #[test]
    fn shuffling_the_records_never_changes_the_assessment(
        (records, shuffled) in records()
            .prop_flat_map(|rs| (Just(rs.clone()), Just(rs).prop_shuffle()))
    ) {
        let a = assess_2026(&records);
        let b = assess_2026(&shuffled);
        prop_assert_eq!(&a.status, &b.status);
        prop_assert_eq!(&a.totals, &b.totals);
        prop_assert_eq!(&a.shortfall, &b.shortfall);
        prop_assert_eq!(&a.signals, &b.signals);
        prop_assert_eq!(&a.explanations, &b.explanations);
        prop_assert_eq!(a, b);
    }

    /// Art. 18: every item a record names (a project, patent, paper, book,
    /// standard, lecture engagement, exam engagement, competition or
    /// other-form item) counts once. A second copy of a record with an
    /// evidence key, submitted later (same date, id sorting after every
    /// other), changes no figure and earns 0. (Face-to-face and online
    /// records name no item: two alike are two courses.)
    #[test]
    fn adding_a_duplicate_never_changes_it(
        records in records(),
        keyed in record_parts()
            .prop_filter("has an evidence key", |p| p.0.evidence_key().is_some()),
        pick in any::<prop::sample::Index>(),
    ) {
        // At least one record has an evidence key.
        let mut records = records;
        records.push(make_record(format!("r{:02}", records.len()), keyed));
        let keyed: Vec<&Record> = records
            .iter()
            .filter(|r| r.activity.evidence_key().is_some())
            .collect();
        let original = keyed[pick.index(keyed.len())];
        let copy = Record { id: "zz-copy".into(), ..original.clone() };
        let mut with_copy = records.clone();
        with_copy.push(copy);

        let before = assess_2026(&records);
        let after = assess_2026(&with_copy);
        prop_assert_eq!(before.totals, after.totals, "copy of {:?}", original);
        prop_assert_eq!(before.status, after.status, "copy of {:?}", original);
        prop_assert_eq!(before.shortfall, after.shortfall, "copy of {:?}", original);
        let e = after.explanations.iter().find(|e| e.record == "zz-copy").unwrap();
        prop_assert_eq!(e.hours, Hours::ZERO, "the copy earns nothing: {}", e);
        // The same claim twice is no contradiction.
        let conflicts = |a: &Assessment| a.signals.iter().filter(|s| s.is_conflicting_claim()).count();
        prop_assert_eq!(conflicts(&before), conflicts(&after), "copy of {:?}", original);
    }

    /// Art. 27: two records of one item that say different things of the
    /// engineer's part in it always raise the conflicting-claims signal,
    /// naming both; the figures follow the "worth most wins" rule as for
    /// any duplicate.
    #[test]
    fn two_claims_of_one_item_that_differ_are_signalled(
        a in record_parts().prop_filter("names an item", |p| p.0.evidence_key().is_some()),
        pick in 0u8..4,
    ) {
        let b = (sibling(&a.0, pick), None, false);
        let (a, b) = (make_record("a".into(), a), make_record("b".into(), b));
        prop_assume!(!a.revoked && !b.revoked);
        prop_assert_eq!(a.activity.evidence_key(), b.activity.evidence_key());
        let year = assess_2026(&[a.clone(), b.clone()]);
        let signalled = year.signals.iter().any(|s| {
            matches!(s, Signal::ConflictingClaims { claims, .. }
                if claims.iter().map(|c| c.0.as_str()).collect::<Vec<_>>() == ["a", "b"])
        });
        prop_assert_eq!(signalled, a.activity.claim() != b.activity.claim(), "{:?} / {:?}", a, b);
    }

    /// Adding a valid record never lowers the year's total, professional or
    /// converted hours: nothing earned is lost by doing more. (Public hours
    /// may fall by design, see the deterministic test below.)
    #[test]
    fn adding_a_valid_record_never_lowers_total_professional_or_converted(
        (records, extra) in records_and_one_more()
    ) {
        let mut more = records.clone();
        more.push(extra.clone());

        let before = assess_2026(&records).totals;
        let after = assess_2026(&more).totals;
        prop_assert!(
            after.total >= before.total,
            "total fell from {} to {} when {:?} was added",
            before.total, after.total, extra
        );
        prop_assert!(
            after.professional >= before.professional,
            "professional fell from {} to {} when {:?} was added",
            before.professional, after.professional, extra
        );
        prop_assert!(
            after.converted >= before.converted,
            "converted fell from {} to {} when {:?} was added",
            before.converted, after.converted, extra
        );
    }

    /// No record earns more than its item's maximum (Art. 18 items 1-10) or
    /// than it claims; converted hours stay within the year's cap; and the
    /// face-to-face hours fit into 8 a calendar day: every group of
    /// courses earns at most 8 times the distinct days it covers (the whole
    /// set of courses being one such group).
    #[test]
    fn no_credited_figure_exceeds_its_cap(records in records()) {
        let rules = RuleSet::national();
        let m = &rules.maxima;
        let a = assess_2026(&records);
        let records_by_id = by_id(&records);
        prop_assert_eq!(a.explanations.len(), records.len());

        for e in &a.explanations {
            let r = records_by_id[e.record.as_str()];
            let max = item_maximum(&r.activity, m);
            prop_assert!(e.hours <= max, "{} is above its maximum {} ({:?})", e, max, r);
            if let Some(c) = r.claimed {
                let claimed = Hours::from_f64(c).unwrap();
                prop_assert!(e.hours <= claimed, "{} is above its claim {} ({:?})", e, claimed, r);
            }
        }
        prop_assert!(
            a.totals.converted <= m.conversion_total,
            "converted {} is above the cap {}", a.totals.converted, m.conversion_total
        );
        if let Some((ids, hours, days)) = daily_cap_violation(&records, &a, m.face_to_face_per_day) {
            prop_assert!(
                false,
                "face-to-face records {:?} earned {} hours on {} distinct day(s), more than {} a day",
                ids, hours, days, m.face_to_face_per_day
            );
        }
    }

    /// The totals are exactly the sum of the explanations: total = public +
    /// professional, converted is part of professional, and no record earns
    /// more in the year than it would on its own.
    #[test]
    fn no_total_exceeds_the_sum_of_its_parts(records in records()) {
        let rules = RuleSet::national();
        let a = assess_2026(&records);
        let t = a.totals;
        prop_assert_eq!(t.total, t.public + t.professional);
        prop_assert!(t.converted <= t.professional, "{:?}", t);

        let sum = |f: &dyn Fn(&Explanation) -> bool| -> Hours {
            a.explanations.iter().filter(|e| f(e)).map(|e| e.hours).sum()
        };
        prop_assert_eq!(sum(&|_| true), t.total);
        prop_assert_eq!(sum(&|e| e.category == Category::Public), t.public);
        prop_assert_eq!(sum(&|e| e.category == Category::Professional), t.professional);
        prop_assert_eq!(sum(&|e| e.converted), t.converted);

        let records_by_id = by_id(&records);
        for e in &a.explanations {
            let r = records_by_id[e.record.as_str()];
            let alone = credit(r, &rules).unwrap();
            prop_assert!(
                e.hours <= alone.hours,
                "{} earns more than its standalone credit {}", e, alone.hours
            );
        }
    }

    /// Art. 18, 19: a degree, qualification or aid assignment (not revoked)
    /// completes the year. Art. 27: a revoked record earns 0 and says why.
    #[test]
    fn deemed_events_complete_the_year_and_revoked_records_earn_nothing(
        records in records()
    ) {
        let a = assess_2026(&records);
        if records.iter().any(|r| !r.revoked && is_deemed_event(&r.activity)) {
            prop_assert!(
                matches!(a.status, Status::DeemedComplete(_)),
                "status {:?}", a.status
            );
            prop_assert_eq!(a.shortfall, Shortfall::default());
        }
        let records_by_id = by_id(&records);
        for e in &a.explanations {
            if records_by_id[e.record.as_str()].revoked {
                prop_assert_eq!(e.hours, Hours::ZERO, "{}", e);
                prop_assert!(e.cuts.contains(&Cut::Revoked), "{}", e);
            }
        }
    }

    /// With nothing to share a cap with, a record earns in the year exactly
    /// its standalone credit (0 if revoked; converted hours within the
    /// year's cap), and its explanation says the same.
    #[test]
    fn a_lone_record_earns_its_standalone_credit(parts in record_parts()) {
        let rules = RuleSet::national();
        let r = make_record("r00".into(), parts);
        let alone = credit(&r, &rules).unwrap();
        let expected = if r.revoked {
            Hours::ZERO
        } else if alone.converted {
            alone.hours.min(rules.maxima.conversion_total)
        } else {
            alone.hours
        };
        let a = assess_2026(std::slice::from_ref(&r));
        prop_assert_eq!(a.explanations[0].hours, expected, "{} ({:?})", a.explanations[0], r);
    }
}

// ---------------------------------------------------------------------------
// The design choice the monotonicity property leaves out.
// ---------------------------------------------------------------------------

fn course(id: &str, category: Category, start: Date, days: u16, hours_per_day: f64) -> Record {
    Record::new(
        id,
        Activity::FaceToFace {
            category,
            start,
            days,
            hours_per_day,
            provider: None,
        },
    )
}

/// Art. 18(1) caps face-to-face hours at 8 a day across courses, and
/// professional courses take a capped day's hours first (the professional
/// minimum is the harder one). So adding a professional course on the day
/// of a public one moves the day's hours from public to professional: the
/// public total falls, the total does not.
#[test]
fn public_hours_can_fall_when_a_professional_course_takes_a_capped_day() {
    let day = date!(2026 - 05 - 12);
    let public = course("a-public", Category::Public, day, 1, 8.0);
    let professional = course("b-professional", Category::Professional, day, 1, 8.0);

    let before = assess_2026(std::slice::from_ref(&public)).totals;
    assert_eq!(
        (before.public, before.professional),
        (Hours::whole(8), Hours::ZERO)
    );

    let after = assess_2026(&[public, professional]);
    assert_eq!(
        (after.totals.public, after.totals.professional),
        (Hours::ZERO, Hours::whole(8))
    );
    assert_eq!(after.totals.total, before.total);
    let public_explanation = &after.explanations[0];
    assert_eq!(public_explanation.record, "a-public");
    assert!(
        public_explanation
            .cuts
            .iter()
            .any(|c| matches!(c, Cut::DailyCap { .. })),
        "{public_explanation}"
    );
}

// ---------------------------------------------------------------------------
// The minimal inputs of the properties that fail, as plain tests.
// ---------------------------------------------------------------------------

/// `adding_a_valid_record_never_lowers_total_professional_or_converted`:
/// an item credited in full is wiped out (or cut) by a resubmission of the
/// same evidence dated earlier that is worth less: claiming 0, entered at
/// a level below provincial, or as co-author of a paper written alone.
/// Duplicates are resolved by canonical order alone ("the first in
/// canonical order earns", `remove_duplicates`), so the earlier, worthless
/// copy takes the evidence and the credited record becomes its duplicate.
#[test]
fn an_earlier_worthless_resubmission_does_not_cancel_the_credited_item() {
    let (early, late) = (date!(2026 - 01 - 01), date!(2026 - 06 - 01));
    let cases = [
        (
            Record::new(
                "r00",
                Activity::Standard {
                    role: DrafterRole::FirstDrafter,
                    number: "GB 50010-2026".into(),
                    date: late,
                },
            ),
            Record::new(
                "r01",
                Activity::Standard {
                    role: DrafterRole::FirstDrafter,
                    number: "GB 50010-2026".into(),
                    date: early,
                },
            )
            .claiming(0.0),
        ),
        (
            Record::new(
                "r00",
                Activity::Competition {
                    level: CompetitionLevel::Provincial,
                    prize: Prize::First,
                    id: "GD-BIM-2026".into(),
                    date: late,
                },
            ),
            Record::new(
                "r01",
                Activity::Competition {
                    level: CompetitionLevel::BelowProvincial,
                    prize: Prize::First,
                    id: "GD-BIM-2026".into(),
                    date: early,
                },
            ),
        ),
        (
            Record::new(
                "r00",
                Activity::Paper {
                    authorship: PaperAuthorship::Sole,
                    id: "10.1000/ce.1".into(),
                    date: late,
                },
            ),
            Record::new(
                "r01",
                Activity::Paper {
                    authorship: PaperAuthorship::CoAuthor,
                    id: "10.1000/ce.1".into(),
                    date: early,
                },
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (credited, resubmitted) in cases {
        let before = assess_2026(std::slice::from_ref(&credited)).totals.total;
        let after = assess_2026(&[credited, resubmitted.clone()]);
        if after.totals.total < before {
            failures.push(format!(
                "total fell from {before} to {} when {resubmitted:?} was added: {}",
                after.totals.total,
                after
                    .explanations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `a_lone_record_earns_its_standalone_credit`: a 3-day course of 8 hours a
/// day claiming 10 is credited 9.99. The daily cap spreads a course's
/// credit over its days as `hours / days` truncated to hundredths
/// (`Entry::per_day`) and adds the days back up, losing the remainder; the
/// explanation still says "claims 10".
#[test]
fn a_face_to_face_claim_is_credited_in_full_whatever_the_number_of_days() {
    let r = course("r00", Category::Professional, date!(2026 - 03 - 02), 3, 8.0).claiming(10.0);
    let a = assess_2026(std::slice::from_ref(&r));
    assert_eq!(
        a.explanations[0].hours,
        Hours::whole(10),
        "{}",
        a.explanations[0]
    );
}

/// `no_credited_figure_exceeds_its_cap`: a course claiming fewer hundredths
/// than it has days (0.01 over 2 days) gets `per_day` 0, so the daily cap
/// skips it entirely and it keeps its 0.01 on days another course has
/// already filled to 8: 16.01 face-to-face hours on 2 days.
#[test]
fn a_tiny_claim_does_not_escape_the_daily_cap() {
    let start = date!(2026 - 03 - 02);
    let full = course("r00", Category::Professional, start, 2, 8.0);
    let tiny = course("r01", Category::Professional, start, 2, 8.0).claiming(0.01);
    let a = assess_2026(&[full, tiny]);
    assert!(
        a.totals.total <= Hours::whole(16),
        "{} face-to-face hours on 2 days: {}",
        a.totals.total,
        a.explanations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" | ")
    );
}

// ---------------------------------------------------------------------------
// xAPI sessions (Art. 13, 18(2)): the verified time of a set of sessions.
// ---------------------------------------------------------------------------

/// Sessions of up to 6 hours, to the millisecond, starting within three
/// days: often overlapping, nested or adjacent (whole minutes).
fn sessions() -> impl Strategy<Value = Vec<xapi::Session>> {
    let base = time::macros::datetime!(2026-03-01 00:00 +8);
    let session = (
        0i64..3 * 24 * 60,
        prop_oneof![
            (1i64..=6 * 60).prop_map(|m| m * 60_000),
            1i64..=6 * 3_600_000
        ],
        prop::bool::ANY,
    )
        .prop_map(move |(minute, millis, attended)| {
            let start = base + Duration::minutes(minute);
            xapi::Session {
                statement_id: String::new(),
                verb: if attended {
                    xapi::Verb::Attended
                } else {
                    xapi::Verb::Completed
                },
                start,
                end: start + Duration::milliseconds(millis),
            }
        });
    prop::collection::vec(session, 1..12)
}

/// Whole hundredths of an hour (36 s) in `nanos`.
fn centi_down(nanos: i128) -> Hours {
    Hours::from_centi(u32::try_from(nanos / 36_000_000_000).unwrap())
}

proptest! {
    #![proptest_config(config())]

    /// The union of the sessions does not depend on their order, is no
    /// more than their durations added up and no less than the longest.
    #[test]
    fn verified_hours_are_the_union_of_the_sessions(
        (sessions, shuffled) in sessions()
            .prop_flat_map(|s| (Just(s.clone()), Just(s).prop_shuffle()))
    ) {
        let verified = xapi::verified_hours(&sessions);
        prop_assert_eq!(verified, xapi::verified_hours(&shuffled));
        let sum: i128 = sessions.iter().map(|s| s.duration().whole_nanoseconds()).sum();
        prop_assert!(verified <= centi_down(sum), "{verified} > {}", centi_down(sum));
        let longest = sessions.iter().map(|s| s.duration().whole_nanoseconds()).max().unwrap();
        prop_assert!(verified >= centi_down(longest), "{verified} < {}", centi_down(longest));
        // Adding a copy of a session, or one inside another, changes nothing.
        let mut more = sessions.clone();
        let inner = xapi::Session {
            start: sessions[0].start + sessions[0].duration() / 3,
            end: sessions[0].end - sessions[0].duration() / 3,
            ..sessions[0].clone()
        };
        more.extend([sessions[0].clone(), inner]);
        prop_assert_eq!(xapi::verified_hours(&more), verified);
    }

    /// An online record with sessions is credited exactly their verified
    /// time, whatever it reports, and never more than 24 hours a day.
    #[test]
    fn an_online_record_with_sessions_earns_their_verified_time(
        sessions in sessions(),
        reported in two_decimals(10_000),
    ) {
        let r = Record::new("o", Activity::Online {
            category: Category::Professional,
            start: date!(2026 - 03 - 01),
            end: date!(2026 - 03 - 04),
            hours: reported,
            sessions: sessions.clone(),
        });
        let c = credit(&r, &RuleSet::national()).unwrap();
        prop_assert_eq!(c.hours, xapi::verified_hours(&sessions));
        prop_assert!(c.hours <= Hours::whole(4 * 24));
        let cut = Hours::from_f64(reported).unwrap() > c.hours;
        prop_assert_eq!(cut, matches!(c.cuts[..], [Cut::Unverified { .. }]));
    }
}

// ---------------------------------------------------------------------------
// Closing a year is a state transition (`ce_rules::close`).
// ---------------------------------------------------------------------------

/// 2026's assessment on `as_of`, with `make_up` (designated from 2027) and
/// the deferral if there is one.
fn assess_2026_on(
    records: &[Record],
    make_up: &[Record],
    deferral: Option<&Deferral>,
    as_of: Date,
) -> Assessment {
    assess(
        &YearInput {
            year: 2026,
            records,
            make_up,
            used_for_make_up: &[],
            deferral,
            as_of,
        },
        &RuleSet::national(),
    )
    .expect("valid records of 2026, and make-up of 2027 with a deferral, are always assessed")
}

/// Records of forms dated by one day, moved into 2027 and designated as
/// make-up for 2026 (Art. 20).
fn make_up_of(records: &[Record]) -> Vec<Record> {
    records
        .iter()
        .filter_map(|r| {
            let moved = redated(&r.activity, date!(2027 - 02 - 01));
            (moved != r.activity).then(|| Record {
                id: format!("m{}", r.id),
                activity: moved,
                make_up_for: Some(2026),
                ..r.clone()
            })
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// The state a close gives a year from its stored verdict is the state
    /// reassessing it from its records gives: when 2026 ends (stored on
    /// 31 December, read on 15 January) and when 2027, its make-up year,
    /// ends (stored on 31 December 2027, read on 15 January 2028).
    #[test]
    fn closing_a_year_from_its_verdict_equals_reassessing_it(
        records in records(),
        extra in records(),
        deferred in any::<bool>(),
    ) {
        let deferral = Deferral { reason: "illness".into(), certified_by: "employers/e".into() };
        let deferral = deferred.then_some(&deferral);
        let make_up = if deferred { make_up_of(&extra) } else { Vec::new() };
        for (stored_on, read_on, ended) in [
            (date!(2026 - 12 - 31), date!(2027 - 01 - 15), 2026),
            (date!(2027 - 12 - 31), date!(2028 - 01 - 15), 2027),
        ] {
            let stored = assess_2026_on(&records, &make_up, deferral, stored_on);
            let reassessed = assess_2026_on(&records, &make_up, deferral, read_on);
            prop_assert_eq!(
                close::after_year_end(stored.status, 2026, ended, deferred, &stored.shortfall),
                reassessed.status,
                "2026 stored on {} as {:?}, {} ended", stored_on, stored.status, ended
            );
        }
    }
}
