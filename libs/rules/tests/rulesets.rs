//! Rule sets: the built-in national baseline, provincial overlays that may
//! lower but never raise a maximum, and the rule set in force for a year.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_rules::ruleset::NATIONAL_TOML;
use ce_rules::*;
use time::macros::date;

const GUANGDONG: &str = include_str!("../rulesets/provinces/44-guangdong.toml");

fn h(x: u32) -> Hours {
    Hours::whole(x)
}

#[test]
fn the_national_baseline_is_the_table_of_article_18() {
    let n = RuleSet::national();
    assert_eq!((n.annual_hours, n.professional_hours), (h(90), h(60)));
    let m = &n.maxima;
    let table = [
        (m.conversion_total, 60),
        (m.face_to_face_per_day, 8),
        (m.research_sole, 40),
        (m.research_principal, 30),
        (m.research_participant, 10),
        (m.invention_patent, 10),
        (m.utility_model_patent, 5),
        (m.software_copyright, 5),
        (m.paper_sole, 10),
        (m.paper_coauthor, 5),
        (m.book_sole, 30),
        (m.book_first_author, 20),
        (m.book_other_author, 10),
        (m.standard_first_drafter, 20),
        (m.standard_other_drafter, 10),
        (m.lecture_multiplier, 6),
        (m.exam_questions, 40),
        (m.competition, 30),
    ];
    for (got, want) in table {
        assert_eq!(got, h(want));
    }
    assert_eq!(n.effective_from, date!(2026 - 01 - 01));
    assert!(NATIONAL_TOML.contains("Art. 18"));
    assert_eq!(n.late_submission_days, 0);
    assert_eq!(n.registration_window_days, 90);
}

#[test]
fn the_example_overlay_lowers_maxima_and_adds_its_own_rules() {
    let mut book = RuleBook::national();
    book.add_overlay(GUANGDONG, "44-guangdong.toml").unwrap();
    let gd = book.for_year("44", 2026).unwrap();
    assert_eq!(gd.province.as_deref(), Some("44"));
    assert_eq!(gd.maxima.face_to_face_per_day, h(7));
    assert_eq!(gd.maxima.lecture_multiplier, h(4));
    assert_eq!(
        gd.maxima.paper_sole,
        h(10),
        "untouched maxima stay national"
    );
    assert_eq!(gd.public_minimum, Some(h(24)));
    assert_eq!(gd.late_submission_days, 31);
    // Art. 21 by channel: the engineer's own materials within the year
    // (here with the province's 31 days' grace); departments and
    // institutions within the national 90-day window.
    assert_eq!(
        gd.registration_deadline(2026, Channel::EngineerSubmission),
        date!(2027 - 01 - 31)
    );
    for channel in [Channel::DepartmentGrant, Channel::InstitutionUpload] {
        assert_eq!(
            gd.registration_deadline(2026, channel),
            date!(2027 - 03 - 31)
        );
    }
    let national = RuleSet::national();
    assert_eq!(
        national.registration_deadline(2026, Channel::EngineerSubmission),
        date!(2026 - 12 - 31)
    );
    assert_eq!(national.registration_closes(2026), date!(2027 - 03 - 31));
    assert_eq!(gd.other_forms.len(), 2);
    // Other provinces keep the national rules.
    assert_eq!(book.for_year("11", 2026).unwrap().id, "national-2026");
}

#[test]
fn an_overlay_that_raises_a_maximum_is_refused_naming_province_item_and_article() {
    let raise = r#"
        id = "31-2026"
        province = "31"
        effective_from = "2026-01-01"
        [maxima]
        paper_sole = 12
    "#;
    let err = RuleBook::national()
        .add_overlay(raise, "31.toml")
        .unwrap_err();
    assert_eq!(
        err,
        RuleSetError::RaisesMaximum {
            province: "31".into(),
            key: "maxima.paper_sole".into(),
            value: "12".into(),
            national: "10".into(),
            article: Article::item(18, 5),
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("province 31")
            && text.contains("maxima.paper_sole")
            && text.contains("Art. 18(5)"),
        "{text}"
    );
}

#[test]
fn an_overlay_cannot_touch_the_annual_requirement_or_misspell_a_key() {
    let lower_requirement = r#"
        id = "x"
        province = "31"
        effective_from = "2026-01-01"
        [requirement]
        annual_hours = 60
        professional_hours = 30
    "#;
    let err = RuleBook::national()
        .add_overlay(lower_requirement, "31.toml")
        .unwrap_err();
    assert!(err.to_string().contains("requirement"), "{err}");
    let typo = r#"
        id = "x"
        province = "31"
        effective_from = "2026-01-01"
        [maxima]
        paper_solo = 5
    "#;
    let err = RuleBook::national()
        .add_overlay(typo, "31.toml")
        .unwrap_err();
    assert!(err.to_string().contains("paper_solo"), "{err}");
    let too_much_public = r#"
        id = "x"
        province = "31"
        effective_from = "2026-01-01"
        [public_subjects]
        minimum_hours = 80
    "#;
    let err = RuleBook::national()
        .add_overlay(too_much_public, "31.toml")
        .unwrap_err();
    assert!(
        err.to_string().contains("public_subjects.minimum_hours")
            && err.to_string().contains("province 31"),
        "{err}"
    );
    let early = r#"
        id = "x"
        province = "31"
        effective_from = "2025-07-01"
    "#;
    let err = RuleBook::national()
        .add_overlay(early, "31.toml")
        .unwrap_err();
    assert!(err.to_string().contains("Art. 31"), "{err}");
}

#[test]
fn a_year_is_assessed_under_the_rules_in_force_on_its_first_day() {
    let mut book = RuleBook::national();
    book.add_overlay(GUANGDONG, "44-2026").unwrap();
    let later = r#"
        id = "44-2027"
        province = "44"
        effective_from = "2027-07-01"
        [maxima]
        face_to_face_per_day = 6
    "#;
    book.add_overlay(later, "44-2027").unwrap();
    assert_eq!(book.for_year("44", 2026).unwrap().id, "44-2026");
    assert_eq!(
        book.for_year("44", 2027).unwrap().id,
        "44-2026",
        "mid-year rules start with the next year"
    );
    assert_eq!(book.for_year("44", 2028).unwrap().id, "44-2027");
    let again = book.add_overlay(later, "44-2027 copy").unwrap_err();
    assert!(matches!(again, RuleSetError::Conflict { .. }));
}

#[test]
fn the_shipped_folder_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rulesets");
    let book = RuleBook::load_dir(&dir).unwrap();
    assert_eq!(book.for_year("44", 2026).unwrap().id, "44-2026");
    assert_eq!(book.national_set().id, "national-2026");
}

#[test]
fn a_provincial_public_minimum_is_part_of_the_requirement() {
    let mut book = RuleBook::national();
    book.add_overlay(GUANGDONG, "44").unwrap();
    let online = |id: &str, category, hours| {
        Record::new(
            id,
            Activity::Online {
                category,
                start: date!(2026 - 03 - 01),
                end: date!(2026 - 10 - 01),
                hours,
                sessions: vec![],
            },
        )
    };
    let records = [
        online("p", Category::Professional, 80.0),
        online("q", Category::Public, 10.0),
    ];
    let input = YearInput {
        year: 2026,
        records: &records,
        make_up: &[],
        used_for_make_up: &[],
        deferral: None,
        as_of: date!(2027 - 02 - 01),
    };
    let national = assess(&input, book.for_year("11", 2026).unwrap()).unwrap();
    assert_eq!(national.status, Status::Compliant);
    let guangdong = assess(&input, book.for_year("44", 2026).unwrap()).unwrap();
    assert_eq!(guangdong.status, Status::NonCompliant);
    assert_eq!(guangdong.shortfall.public, h(14));
    assert_eq!(guangdong.rule_set, "44-2026");
}

#[test]
fn a_province_sets_its_own_registration_window() {
    let mut book = RuleBook::national();
    book.add_overlay(
        r#"
id = "33-2026"
province = "33"
effective_from = "2026-01-01"

[registration]
window_days = 30
"#,
        "33-zhejiang.toml",
    )
    .unwrap();
    let zj = book.for_year("33", 2026).unwrap();
    assert_eq!(
        zj.registration_deadline(2026, Channel::InstitutionUpload),
        date!(2027 - 01 - 30)
    );
    assert_eq!(
        zj.registration_deadline(2026, Channel::EngineerSubmission),
        date!(2026 - 12 - 31),
        "the engineer's own grace stays national"
    );
}

#[test]
fn an_overlay_effective_from_is_a_date_and_a_bad_one_is_refused_by_name() {
    let overlay =
        |from: &str| format!("id = \"31-2026\"\nprovince = \"31\"\neffective_from = \"{from}\"\n");
    for good in ["2026-07-01", "2026-7-1"] {
        let mut book = RuleBook::national();
        let set = book
            .add_overlay(&overlay(good), "31.toml")
            .unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(set.effective_from, date!(2026 - 07 - 01), "{good}");
    }
    for bad in [
        "2026-02-30",
        "2026-13-01",
        "2026/07/01",
        "2026-07-01T00:00",
        "July",
    ] {
        let err = RuleBook::national()
            .add_overlay(&overlay(bad), "31.toml")
            .unwrap_err();
        assert_eq!(
            err,
            RuleSetError::Invalid {
                source_name: "31.toml".into(),
                message: format!("effective_from = {bad:?} is not a date (YYYY-MM-DD)"),
            },
            "{bad}"
        );
    }
}

/// A rule set's fingerprint names it and follows every figure in it: the
/// same rules give the same fingerprint, an edited overlay another one
/// under the same id (so the years assessed under it are reassessed).
#[test]
fn a_fingerprint_changes_with_any_figure_and_only_then() {
    let national = RuleSet::national();
    assert_eq!(national.fingerprint(), RuleSet::national().fingerprint());
    assert!(national.fingerprint().starts_with("national-2026@"));
    let mut book = RuleBook::national();
    book.add_overlay(GUANGDONG, "44-guangdong.toml").unwrap();
    let gd = book.for_year("44", 2026).unwrap().clone();
    assert!(gd.fingerprint().starts_with(&format!("{}@", gd.id)));
    assert_ne!(gd.fingerprint(), national.fingerprint());
    let mut edited = gd.clone();
    edited.maxima.paper_sole = h(9);
    assert_ne!(edited.fingerprint(), gd.fingerprint());
    let mut window = gd.clone();
    window.registration_window_days += 1;
    assert_ne!(window.fingerprint(), gd.fingerprint());
    assert_eq!(gd.clone().fingerprint(), gd.fingerprint());
}

/// A book gives each of its sets' fingerprints, made once, the same as
/// the set's own.
#[test]
fn a_book_gives_its_sets_fingerprints() {
    let mut book = RuleBook::national();
    book.add_overlay(GUANGDONG, "44-guangdong.toml").unwrap();
    for province in ["44", "31"] {
        let set = book.for_year(province, 2026).unwrap();
        assert_eq!(book.fingerprint(set), set.fingerprint());
    }
    let mut edited = book.for_year("44", 2026).unwrap().clone();
    edited.id = "44-edited".into();
    assert_ne!(
        book.fingerprint(&edited),
        edited.fingerprint(),
        "cached by province and date"
    );
}
