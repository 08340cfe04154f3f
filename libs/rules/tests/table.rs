//! Every item of Art. 18 (the national maxima, `rulesets/national.toml`),
//! each worked example of `docs/rules.md`, and each kind of impossible input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_rules::*;
use time::Date;
use time::macros::date;

fn national() -> RuleSet {
    RuleSet::national()
}

fn h(x: f64) -> Hours {
    Hours::from_f64(x).unwrap()
}

fn credited(activity: Activity) -> Credit {
    credit(&Record::new("r", activity), &national()).unwrap()
}

const D: Date = date!(2026 - 05 - 10);

fn year(records: &[Record]) -> Assessment {
    assess(
        &YearInput {
            year: 2026,
            records,
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2027 - 01 - 15),
        },
        &national(),
    )
    .unwrap()
}

fn online(id: &str, category: Category, hours: f64) -> Record {
    Record::new(
        id,
        Activity::Online {
            category,
            start: date!(2026 - 02 - 01),
            end: date!(2026 - 11 - 30),
            hours,
            sessions: vec![],
        },
    )
}

fn patent(id: &str, kind: PatentKind, number: &str) -> Record {
    Record::new(
        id,
        Activity::Patent {
            kind,
            number: number.into(),
            date: D,
        },
    )
}

// --- Art. 18 table, row by row -------------------------------------------

#[test]
fn item_1_face_to_face_is_real_hours_at_most_8_a_day() {
    let c = credited(Activity::FaceToFace {
        category: Category::Public,
        start: D,
        days: 2,
        hours_per_day: 6.5,
        provider: None,
    });
    assert_eq!(
        (c.hours, c.category, c.converted),
        (h(13.0), Category::Public, false)
    );
    assert_eq!(c.article, Article::item(18, 1));
    let long = credited(Activity::FaceToFace {
        category: Category::Professional,
        start: D,
        days: 1,
        hours_per_day: 11.0,
        provider: None,
    });
    assert_eq!(long.hours, h(8.0));
    assert!(matches!(long.cuts[..], [Cut::DailyCap { .. }]));
}

#[test]
fn item_1_two_courses_on_one_day_share_one_cap() {
    let a = Record::new(
        "a",
        Activity::FaceToFace {
            category: Category::Professional,
            start: D,
            days: 1,
            hours_per_day: 5.0,
            provider: None,
        },
    );
    let b = Record::new(
        "b",
        Activity::FaceToFace {
            category: Category::Professional,
            start: D,
            days: 2,
            hours_per_day: 6.0,
            provider: None,
        },
    );
    let y = year(&[b, a]);
    // Day 1: 5 + 6 = 11, capped at 8 (a keeps 5, b gets 3); day 2: b's 6.
    assert_eq!(y.totals.professional, h(14.0));
    assert_eq!(y.explanations[0].hours, h(5.0));
    assert_eq!(y.explanations[1].hours, h(9.0));
    assert!(
        y.explanations[1]
            .cuts
            .iter()
            .any(|c| matches!(c, Cut::DailyCap { date, .. } if *date == D))
    );
}

#[test]
fn item_2_online_is_its_verified_hours() {
    let c = credited(Activity::Online {
        category: Category::Professional,
        start: D,
        end: D,
        hours: 7.25,
        sessions: vec![],
    });
    assert_eq!((c.hours, c.article), (h(7.25), Article::item(18, 2)));
}

#[test]
fn item_3_research_projects_by_role() {
    let r = |role| {
        credited(Activity::Research {
            role,
            project: "P1".into(),
            date: D,
        })
    };
    assert_eq!(r(ResearchRole::Sole).hours, h(40.0));
    assert_eq!(r(ResearchRole::Principal).hours, h(30.0));
    assert_eq!(r(ResearchRole::Participant).hours, h(10.0));
    assert!(r(ResearchRole::Sole).converted);
    assert_eq!(r(ResearchRole::Sole).article, Article::item(18, 3));
}

#[test]
fn item_4_patents_by_kind() {
    let p = |kind| credited(patent("r", kind, "ZL1").activity);
    assert_eq!(p(PatentKind::Invention).hours, h(10.0));
    assert_eq!(p(PatentKind::UtilityModel).hours, h(5.0));
    assert_eq!(p(PatentKind::SoftwareCopyright).hours, h(5.0));
}

#[test]
fn item_5_papers_by_authorship() {
    let p = |authorship| {
        credited(Activity::Paper {
            authorship,
            id: "10.1/x".into(),
            date: D,
        })
    };
    assert_eq!(p(PaperAuthorship::Sole).hours, h(10.0));
    assert_eq!(p(PaperAuthorship::CoAuthor).hours, h(5.0));
}

#[test]
fn item_6_books_by_authorship() {
    let b = |authorship| {
        credited(Activity::Book {
            authorship,
            isbn: "978-7".into(),
            date: D,
        })
    };
    assert_eq!(b(BookAuthorship::Sole).hours, h(30.0));
    assert_eq!(b(BookAuthorship::FirstAuthor).hours, h(20.0));
    assert_eq!(b(BookAuthorship::OtherAuthor).hours, h(10.0));
}

#[test]
fn item_7_standards_by_drafter_rank() {
    let s = |role| {
        credited(Activity::Standard {
            role,
            number: "GB 50010".into(),
            date: D,
        })
    };
    assert_eq!(s(DrafterRole::FirstDrafter).hours, h(20.0));
    assert_eq!(s(DrafterRole::OtherDrafter).hours, h(10.0));
}

#[test]
fn item_8_lecturing_is_six_times_real_time() {
    // docs/rules.md, worked example 5: a lecture of 2.5 hours earns 15.
    let c = credited(Activity::Lecture {
        hours: 2.5,
        date: D,
        engagement: "forum-2026".into(),
    });
    assert_eq!((c.hours, c.article), (h(15.0), Article::item(18, 8)));
}

#[test]
fn item_9_exam_questions_per_engagement() {
    let c = credited(Activity::ExamQuestions {
        engagement: "2026-registered-structural-engineer".into(),
        date: D,
    });
    assert_eq!(c.hours, h(40.0));
}

#[test]
fn item_10_competitions_by_level_and_prize() {
    let c = |level, prize| {
        credited(Activity::Competition {
            level,
            prize,
            id: "comp".into(),
            date: D,
        })
    };
    assert_eq!(c(CompetitionLevel::National, Prize::First).hours, h(30.0));
    assert_eq!(c(CompetitionLevel::Provincial, Prize::Third).hours, h(30.0));
    // docs/rules.md, worked example 6: municipal level earns 0, with the reason.
    let municipal = c(CompetitionLevel::BelowProvincial, Prize::First);
    assert_eq!(municipal.hours, Hours::ZERO);
    assert_eq!(municipal.cuts, vec![Cut::CompetitionBelowProvincial]);
    assert!(
        municipal.cuts[0]
            .to_string()
            .contains("provincial level or above")
    );
    let no_prize = c(CompetitionLevel::National, Prize::BelowThird);
    assert_eq!(
        (no_prize.hours, no_prize.cuts.clone()),
        (Hours::ZERO, vec![Cut::PrizeBelowThird])
    );
}

#[test]
fn item_10_the_same_competition_is_never_counted_twice() {
    let comp = |id: &str| {
        Record::new(
            id,
            Activity::Competition {
                level: CompetitionLevel::Provincial,
                prize: Prize::First,
                id: "GD-BIM-2026".into(),
                date: D,
            },
        )
    };
    let y = year(&[comp("a"), comp("b")]);
    assert_eq!(y.totals.converted, h(30.0));
    assert_eq!(
        y.explanations[1].cuts,
        vec![Cut::Duplicate {
            of: "a".into(),
            article: Article::item(18, 10)
        }]
    );
}

#[test]
fn a_lecture_submitted_twice_counts_once() {
    // docs/rules.md, worked example 5, submitted twice: 15, not 30; the second is kept
    // and shown as a duplicate citing the lecture's item.
    let talk = |id: &str| {
        Record::new(
            id,
            Activity::Lecture {
                hours: 2.5,
                date: D,
                engagement: "GD-FORUM-2026-17".into(),
            },
        )
    };
    let y = year(&[talk("l1"), talk("l2")]);
    assert_eq!(y.totals.converted, h(15.0));
    let dup = y.explanations.iter().find(|e| e.record == "l2").unwrap();
    assert_eq!(
        (dup.hours, dup.cuts.clone()),
        (
            Hours::ZERO,
            vec![Cut::Duplicate {
                of: "l1".into(),
                article: Article::item(18, 8)
            }]
        )
    );
    assert!(
        dup.to_string().contains("it counts once (Art. 18(8))"),
        "{dup}"
    );
    // The same engagement on another day is another lecture.
    let mut other_day = talk("l3");
    if let Activity::Lecture { date, .. } = &mut other_day.activity {
        *date = D + time::Duration::days(1);
    }
    let y = year(&[talk("l1"), other_day]);
    assert_eq!(y.totals.converted, h(30.0));
}

#[test]
fn conflicting_claims_on_one_item_are_signalled_on_the_year() {
    // A project claimed as principal investigator and as sole researcher:
    // the sole claim (40) earns, the other is a duplicate, and the
    // contradiction is a signal naming both (Art. 27).
    let project = |id: &str, role| {
        Record::new(
            id,
            Activity::Research {
                role,
                project: "GDKJ-2026-001".into(),
                date: D,
            },
        )
    };
    let y = year(&[
        project("p1", ResearchRole::Principal),
        project("p2", ResearchRole::Sole),
    ]);
    assert_eq!(y.totals.converted, h(40.0));
    assert_eq!(
        y.signals,
        vec![Signal::ConflictingClaims {
            item: "project GDKJ2026001".into(),
            claims: vec![
                ("p1".into(), "principal investigator".into()),
                ("p2".into(), "sole researcher".into())
            ],
        }]
    );
    assert_eq!(
        y.signals[0].to_string(),
        "conflicting claims on one item (project GDKJ2026001): record p1 as principal investigator, \
         record p2 as sole researcher (Art. 27)"
    );
    // Another engineer's claim that this one excludes, as crediting finds it.
    let mut mine = project("p1", ResearchRole::Principal);
    mine.contested = vec!["principal investigator".into()];
    let y = year(&[mine]);
    assert_eq!(
        y.signals[0].to_string(),
        "conflicting claims on one item (project GDKJ2026001): record p1 as principal investigator, \
         and another engineer as principal investigator (Art. 27)"
    );
}

#[test]
fn item_11_other_forms_follow_the_province_and_are_unknown_nationally() {
    let other = Record::new(
        "o",
        Activity::Other {
            kind: "technical_volunteering".into(),
            quantity: 3.0,
            id: "vol-1".into(),
            date: D,
        },
    );
    let err = credit(&other, &national()).unwrap_err();
    assert_eq!(err.field, "kind");
    assert!(err.message.contains("unknown form"), "{err}");
    let mut book = RuleBook::national();
    book.add_overlay(
        include_str!("../rulesets/provinces/44-guangdong.toml"),
        "44",
    )
    .unwrap();
    let gd = book.for_year("44", 2026).unwrap();
    assert_eq!(credit(&other, gd).unwrap().hours, h(12.0));
    let lots = Record {
        activity: Activity::Other {
            kind: "technical_volunteering".into(),
            quantity: 30.0,
            id: "vol-2".into(),
            date: D,
        },
        ..other
    };
    let c = credit(&lots, gd).unwrap();
    assert_eq!(c.hours, h(20.0));
    assert_eq!(c.cuts, vec![Cut::ItemMaximum { max: h(20.0) }]);
}

#[test]
fn a_record_may_claim_less_but_is_never_credited_more() {
    let less = credit(
        &patent("r", PatentKind::Invention, "ZL1").claiming(6.0),
        &national(),
    )
    .unwrap();
    assert_eq!(less.hours, h(6.0));
    assert_eq!(
        less.cuts,
        vec![Cut::ClaimedLess {
            claimed: h(6.0),
            max: h(10.0)
        }]
    );
    let more = credit(
        &patent("r", PatentKind::Invention, "ZL1").claiming(25.0),
        &national(),
    )
    .unwrap();
    assert_eq!(more.hours, h(10.0));
    assert_eq!(more.cuts, vec![Cut::ItemMaximum { max: h(10.0) }]);
}

// --- Art. 18: the year ------------------------------------------------------

#[test]
fn example_2_patent_paper_and_online_hours_fall_short() {
    let records = [
        Record::new(
            "paper",
            Activity::Paper {
                authorship: PaperAuthorship::CoAuthor,
                id: "10.1000/j.eng.2026.01".into(),
                date: D,
            },
        ),
        patent("patent", PatentKind::Invention, "ZL202610000001.X"),
        online("prof", Category::Professional, 40.0),
        online("pub", Category::Public, 30.0),
    ];
    let y = year(&records);
    assert_eq!(
        y.totals,
        Totals {
            total: h(85.0),
            public: h(30.0),
            professional: h(55.0),
            converted: h(15.0)
        }
    );
    assert_eq!(
        (y.shortfall.total, y.shortfall.professional),
        (h(5.0), h(5.0))
    );
    assert_eq!(y.status, Status::NonCompliant);
}

#[test]
fn example_3_conversions_are_capped_at_60_and_the_year_is_compliant() {
    let records = [
        Record::new(
            "project",
            Activity::Research {
                role: ResearchRole::Sole,
                project: "P".into(),
                date: date!(2026 - 03 - 01),
            },
        ),
        Record::new(
            "book",
            Activity::Book {
                authorship: BookAuthorship::Sole,
                isbn: "978-7-111".into(),
                date: date!(2026 - 04 - 01),
            },
        ),
        online("pub", Category::Public, 30.0),
    ];
    let y = year(&records);
    assert_eq!(
        (y.totals.professional, y.totals.public, y.totals.total),
        (h(60.0), h(30.0), h(90.0))
    );
    assert_eq!(y.totals.converted, h(60.0));
    assert_eq!(y.status, Status::Compliant);
    assert!(y.status.is_complete());
    assert!(!Status::Deferred.is_complete() && !Status::InProgress.is_complete());
    let book = y.explanations.iter().find(|e| e.record == "book").unwrap();
    assert_eq!(book.hours, h(20.0));
    assert_eq!(book.cuts, vec![Cut::ConversionCap { cap: h(60.0) }]);
}

#[test]
fn conversions_alone_never_make_the_year() {
    let records: Vec<Record> = (0..5)
        .map(|i| {
            Record::new(
                format!("p{i}"),
                Activity::Research {
                    role: ResearchRole::Sole,
                    project: format!("P{i}"),
                    date: D,
                },
            )
        })
        .collect();
    let y = year(&records);
    assert_eq!(y.totals.total, h(60.0));
    assert_eq!(y.shortfall.total, h(30.0));
    assert_eq!(y.status, Status::NonCompliant);
}

#[test]
fn example_4_the_same_patent_twice_is_credited_once_and_shown() {
    // Same date: the record first in id order (submission order, for ids
    // that grow with time) earns; the other is the duplicate.
    let y = year(&[
        patent("r2", PatentKind::Invention, "zl 202610000001.x"),
        patent("r1", PatentKind::Invention, "ZL202610000001.X"),
    ]);
    assert_eq!(y.totals.converted, h(10.0));
    assert_eq!(y.explanations.len(), 2, "the duplicate is kept and shown");
    let dup = y.explanations.iter().find(|e| e.record == "r2").unwrap();
    assert_eq!(
        (dup.hours, dup.cuts.clone()),
        (
            Hours::ZERO,
            vec![Cut::Duplicate {
                of: "r1".into(),
                article: Article::item(18, 4)
            }]
        )
    );
}

#[test]
fn example_7_a_qualification_certificate_makes_the_year_complete() {
    let y = year(&[
        Record::new("cert", Activity::Qualification { date: D }),
        online("o", Category::Professional, 12.0),
    ]);
    assert_eq!(
        y.status,
        Status::DeemedComplete(DeemedReason::Qualification)
    );
    assert_eq!(y.shortfall, Shortfall::default());
    assert_eq!(y.totals.total, h(12.0));
}

#[test]
fn a_degree_makes_the_year_complete() {
    let y = year(&[Record::new("degree", Activity::Degree { date: D })]);
    assert_eq!(y.status, Status::DeemedComplete(DeemedReason::Degree));
}

#[test]
fn an_aid_assignment_completes_every_year_it_overlaps() {
    let aid = Record::new(
        "tibet",
        Activity::AidAssignment {
            kind: AidKind::Tibet,
            start: date!(2026 - 07 - 01),
            end: date!(2028 - 06 - 30),
        },
    );
    for y in [2026, 2027, 2028] {
        let a = assess(
            &YearInput {
                year: y,
                records: std::slice::from_ref(&aid),
                make_up: &[],
                used_for_make_up: &[],
                deferral: None,
                as_of: date!(2030 - 01 - 01),
            },
            &national(),
        )
        .unwrap();
        assert_eq!(
            a.status,
            Status::DeemedComplete(DeemedReason::AidAssignment(AidKind::Tibet)),
            "{y}"
        );
        assert_eq!(
            DeemedReason::AidAssignment(AidKind::Tibet).article(),
            Article::new(19)
        );
    }
    let after = assess(
        &YearInput {
            year: 2029,
            records: std::slice::from_ref(&aid),
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2030 - 01 - 01),
        },
        &national(),
    )
    .unwrap_err();
    assert_eq!(after.field, "date");
}

#[test]
fn revoked_records_are_shown_and_earn_nothing() {
    let y = year(&[online("o", Category::Professional, 90.0).revoked()]);
    assert_eq!(y.totals.total, Hours::ZERO);
    assert_eq!(y.explanations[0].cuts, vec![Cut::Revoked]);
    assert!(y.explanations[0].to_string().contains("Art. 27"));
}

#[test]
fn a_year_not_over_is_in_progress_until_it_is_met() {
    let short = [online("o", Category::Professional, 60.0)];
    let mid = |records: &[Record]| {
        assess(
            &YearInput {
                year: 2026,
                records,
                make_up: &[],
                used_for_make_up: &[],
                deferral: None,
                as_of: date!(2026 - 06 - 30),
            },
            &national(),
        )
        .unwrap()
        .status
    };
    assert_eq!(mid(&short), Status::InProgress);
    let done = [
        online("o", Category::Professional, 60.0),
        online("p", Category::Public, 30.0),
    ];
    assert_eq!(mid(&done), Status::Compliant);
}

// --- Art. 20: no carry-over, make-up -----------------------------------------

#[test]
fn hours_of_another_year_are_refused_not_carried_over() {
    let err = assess(
        &YearInput {
            year: 2027,
            records: &[online("o", Category::Professional, 10.0)],
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2028 - 01 - 01),
        },
        &national(),
    )
    .unwrap_err();
    assert_eq!((err.field, err.article), ("date", Article::new(20)));
    assert!(err.message.contains("never carried over"), "{err}");
}

#[test]
fn training_that_runs_past_the_end_of_its_year_is_refused_on_its_end() {
    let course = Record::new(
        "late",
        Activity::FaceToFace {
            category: Category::Professional,
            start: date!(2026 - 12 - 30),
            days: 4,
            hours_per_day: 8.0,
            provider: None,
        },
    );
    let err = assess(
        &YearInput {
            year: 2026,
            records: &[course],
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2027 - 01 - 05),
        },
        &national(),
    )
    .unwrap_err();
    assert_eq!((err.field, err.article), ("end", Article::new(20)));
    assert!(
        err.message
            .contains("2026-12-30 to 2027-01-02, past the end of 2026"),
        "{err}"
    );
}

#[test]
fn with_a_deferral_the_next_years_make_up_counts_for_the_earlier_year_only() {
    let deferral = Deferral {
        reason: "illness".into(),
        certified_by: "employers/1".into(),
    };
    let own = [online("own", Category::Professional, 50.0)];
    let make_up = [Record::new(
        "mu",
        Activity::Online {
            category: Category::Public,
            start: date!(2027 - 03 - 01),
            end: date!(2027 - 03 - 31),
            hours: 40.0,
            sessions: vec![],
        },
    )
    .make_up_for(2026)];
    let y2026 = |as_of, make_up: &[Record]| {
        assess(
            &YearInput {
                year: 2026,
                records: &own,
                make_up,
                used_for_make_up: &[],
                deferral: Some(&deferral),
                as_of,
            },
            &national(),
        )
        .unwrap()
    };
    // After 2026, before any make-up: deferred, with the shortfall to make up.
    let deferred = y2026(date!(2027 - 02 - 01), &[]);
    assert_eq!(deferred.status, Status::Deferred);
    assert_eq!(deferred.shortfall.total, h(40.0));
    assert_eq!(deferred.shortfall.professional, h(10.0));
    // Make-up of 40 public hours: total met but professional still short 10.
    assert_eq!(
        y2026(date!(2027 - 04 - 01), &make_up).status,
        Status::Deferred
    );
    // 2027 over and still short: non-compliant.
    assert_eq!(
        y2026(date!(2028 - 01 - 02), &make_up).status,
        Status::NonCompliant
    );
    // With professional make-up too, the year is made up.
    let enough = [
        make_up[0].clone(),
        Record::new(
            "mu2",
            Activity::Online {
                category: Category::Professional,
                start: date!(2027 - 04 - 01),
                end: date!(2027 - 04 - 30),
                hours: 10.0,
                sessions: vec![],
            },
        )
        .make_up_for(2026),
    ];
    let made_up = y2026(date!(2027 - 05 - 01), &enough);
    assert_eq!(made_up.status, Status::MadeUp);
    assert_eq!(made_up.totals.total, h(100.0));

    // In 2027 the hours 2026 used are taken out; the records are shown.
    let used: Vec<(String, Hours)> = made_up
        .explanations
        .iter()
        .map(|e| (e.record.clone(), e.hours))
        .collect();
    let y2027 = assess(
        &YearInput {
            year: 2027,
            records: &enough,
            make_up: &[],
            used_for_make_up: &used,
            deferral: None,
            as_of: date!(2027 - 06 - 01),
        },
        &national(),
    )
    .unwrap();
    assert_eq!(y2027.totals.total, Hours::ZERO);
    assert!(
        y2027
            .explanations
            .iter()
            .all(|e| e.cuts == vec![Cut::MadeUpFor { year: 2026 }])
    );
}

#[test]
fn make_up_hours_the_earlier_year_cannot_use_still_count_in_their_own_year() {
    // 2026 used its whole conversion cap; a 2027 project designated as
    // make-up earns nothing there, so 2027 keeps all of it.
    let deferral = Deferral {
        reason: "injury".into(),
        certified_by: "employers/1".into(),
    };
    let conversions: Vec<Record> = (0..2)
        .map(|i| {
            Record::new(
                format!("p{i}"),
                Activity::Research {
                    role: ResearchRole::Sole,
                    project: format!("P{i}"),
                    date: D,
                },
            )
        })
        .collect();
    let project = Record::new(
        "late",
        Activity::Research {
            role: ResearchRole::Sole,
            project: "P-2027".into(),
            date: date!(2027 - 04 - 01),
        },
    )
    .make_up_for(2026);
    let y2026 = assess(
        &YearInput {
            year: 2026,
            records: &conversions,
            make_up: std::slice::from_ref(&project),
            used_for_make_up: &[],
            deferral: Some(&deferral),
            as_of: date!(2027 - 06 - 01),
        },
        &national(),
    )
    .unwrap();
    let used: Vec<(String, Hours)> = y2026
        .explanations
        .iter()
        .filter(|e| e.record == "late")
        .map(|e| (e.record.clone(), e.hours))
        .collect();
    assert_eq!(used, vec![("late".to_owned(), Hours::ZERO)]);
    let y2027 = assess(
        &YearInput {
            year: 2027,
            records: std::slice::from_ref(&project),
            make_up: &[],
            used_for_make_up: &used,
            deferral: None,
            as_of: date!(2027 - 06 - 01),
        },
        &national(),
    )
    .unwrap();
    assert_eq!(
        y2027.totals.converted,
        h(40.0),
        "nothing is lost between the two years"
    );
}

#[test]
fn make_up_needs_a_deferral_and_the_following_year() {
    let mu = Record::new(
        "mu",
        Activity::Online {
            category: Category::Public,
            start: date!(2027 - 03 - 01),
            end: date!(2027 - 03 - 02),
            hours: 4.0,
            sessions: vec![],
        },
    )
    .make_up_for(2026);
    let err = assess(
        &YearInput {
            year: 2026,
            records: &[],
            make_up: std::slice::from_ref(&mu),
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2027 - 06 - 01),
        },
        &national(),
    )
    .unwrap_err();
    assert!(
        err.message.contains("no employer-certified deferral"),
        "{err}"
    );
    let wrong_year = assess(
        &YearInput {
            year: 2027,
            records: &[Record {
                make_up_for: Some(2025),
                ..mu
            }],
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2027 - 06 - 01),
        },
        &national(),
    )
    .unwrap_err();
    assert_eq!(wrong_year.field, "make_up_for");
}

// --- Impossible input ------------------------------------------------------

#[test]
fn impossible_input_is_refused_with_the_field_and_the_rule() {
    let cases: Vec<(Activity, Option<f64>, &str, &str)> = vec![
        (
            Activity::FaceToFace {
                category: Category::Public,
                start: D,
                days: 1,
                hours_per_day: 25.0,
                provider: None,
            },
            None,
            "hours_per_day",
            "cannot be longer than a day",
        ),
        (
            Activity::FaceToFace {
                category: Category::Public,
                start: D,
                days: 0,
                hours_per_day: 5.0,
                provider: None,
            },
            None,
            "days",
            "at least 1",
        ),
        (
            Activity::Lecture {
                hours: 26.0,
                date: D,
                engagement: "forum-2026".into(),
            },
            None,
            "hours",
            "a lecture cannot be longer than a day",
        ),
        (
            Activity::Online {
                category: Category::Public,
                start: D,
                end: D,
                hours: 30.0,
                sessions: vec![],
            },
            None,
            "hours",
            "more than 24 hours a day",
        ),
        (
            Activity::Online {
                category: Category::Public,
                start: D,
                end: D,
                hours: f64::NAN,
                sessions: vec![],
            },
            None,
            "hours",
            "finite",
        ),
        (
            Activity::Lecture {
                hours: -1.0,
                date: D,
                engagement: "forum-2026".into(),
            },
            None,
            "hours",
            "not negative",
        ),
        (
            patent("x", PatentKind::Invention, "ZL1").activity,
            Some(-3.0),
            "claimed",
            "not negative",
        ),
        (
            patent("x", PatentKind::Invention, " ").activity,
            None,
            "number",
            "is required",
        ),
    ];
    for (activity, claimed, field, words) in cases {
        let record = Record {
            claimed,
            ..Record::new("bad", activity)
        };
        let err = credit(&record, &national()).unwrap_err();
        assert_eq!((err.record.as_str(), err.field), ("bad", field), "{err}");
        assert!(err.message.contains(words), "{err}");
        assert!(
            err.to_string().contains("Art. 18("),
            "names the article: {err}"
        );
    }
}

#[test]
fn years_before_the_regulation_are_out_of_scope() {
    let err = RuleBook::national().for_year("44", 2025).unwrap_err();
    assert_eq!((err.field, err.article), ("year", Article::new(31)));
    let err = assess(
        &YearInput {
            year: 2025,
            records: &[],
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2026 - 01 - 01),
        },
        &national(),
    )
    .unwrap_err();
    assert!(err.message.contains("out of scope"), "{err}");
}

#[test]
fn form_numbers_follow_article_11() {
    assert_eq!(Activity::Degree { date: D }.form(), 2);
    assert_eq!(Activity::Qualification { date: D }.form(), 3);
    assert_eq!(
        Activity::Lecture {
            hours: 1.0,
            date: D,
            engagement: String::new(),
        }
        .form(),
        6
    );
    assert_eq!(
        Activity::ExamQuestions {
            engagement: "e".into(),
            date: D
        }
        .form(),
        7
    );
}

// --- Fraud signals ---------------------------------------------------------

#[test]
fn signals_flag_two_places_an_overfull_day_and_too_many_conversions() {
    let f2f = |id: &str, provider: &str| {
        Record::new(
            id,
            Activity::FaceToFace {
                category: Category::Professional,
                start: D,
                days: 1,
                hours_per_day: 8.0,
                provider: Some(provider.into()),
            },
        )
    };
    let mut records = vec![
        f2f("a", "institutions/guangzhou"),
        f2f("b", "institutions/shenzhen"),
        Record::new(
            "c",
            Activity::Online {
                category: Category::Public,
                start: D,
                end: D,
                hours: 4.0,
                sessions: vec![],
            },
        ),
    ];
    for i in 0..13 {
        records.push(patent(
            &format!("p{i}"),
            PatentKind::UtilityModel,
            &format!("ZL{i}"),
        ));
    }
    let y = year(&records);
    assert!(
        y.signals
            .iter()
            .any(|s| matches!(s, Signal::TwoPlacesOneDay { date, .. } if *date == D))
    );
    assert!(
        y.signals
            .iter()
            .any(|s| matches!(s, Signal::OverfullDay { hours, .. } if *hours == h(20.0)))
    );
    assert!(y.signals.iter().any(|s| matches!(
        s,
        Signal::ManyConversions {
            count: 13,
            threshold: 12
        }
    )));
    assert!(y.signals.iter().all(|s| s.to_string().contains("Art. ")));
    // Warnings, not errors: the year is still assessed.
    assert_eq!(y.totals.professional, h(8.0) + h(60.0));
}

#[test]
fn claims_that_admit_one_holder_exclude_another_engineers() {
    let project = |role| Activity::Research {
        role,
        project: "GDKJ-2026-001".into(),
        date: D,
    };
    let paper = |authorship| Activity::Paper {
        authorship,
        id: "10.1000/ce.7".into(),
        date: D,
    };
    let book = |authorship| Activity::Book {
        authorship,
        isbn: "978-7-111-00000-1".into(),
        date: D,
    };
    use ResearchRole::*;
    for (a, b, excluded) in [
        (project(Principal), project(Principal), true),
        (project(Principal), project(Participant), false),
        (project(Participant), project(Sole), true),
        (project(Participant), project(Participant), false),
        (
            paper(PaperAuthorship::Sole),
            paper(PaperAuthorship::Sole),
            true,
        ),
        (
            paper(PaperAuthorship::CoAuthor),
            paper(PaperAuthorship::CoAuthor),
            false,
        ),
        (
            book(BookAuthorship::FirstAuthor),
            book(BookAuthorship::FirstAuthor),
            true,
        ),
        (
            book(BookAuthorship::FirstAuthor),
            book(BookAuthorship::OtherAuthor),
            false,
        ),
    ] {
        assert_eq!(a.excludes(&b), excluded, "{a:?} / {b:?}");
        assert_eq!(b.excludes(&a), excluded, "symmetric: {b:?} / {a:?}");
    }
    // Another item is no conflict.
    let other = Activity::Research {
        role: Principal,
        project: "GDKJ-2026-002".into(),
        date: D,
    };
    assert!(!project(Principal).excludes(&other));
}
