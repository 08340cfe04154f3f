//! Online training evidenced by xAPI statements (Art. 13, 18(2)): reading
//! statements, the verified time of overlapping sessions, and crediting
//! and assessing records that carry them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_rules::xapi::{self, Session, Verb, XapiError, parse_statement, verified_hours};
use ce_rules::*;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

fn h(x: f64) -> Hours {
    Hours::from_f64(x).unwrap()
}

/// A full statement as an LRS returns it: actor, object, context,
/// authority, stored.
fn statement(id: &str, verb: &str, timestamp: &str, duration: &str) -> String {
    format!(
        r#"{{
            "id": "{id}",
            "actor": {{
                "objectType": "Agent",
                "name": "张工",
                "account": {{ "homePage": "https://learn.example.com", "name": "engineer-4401" }}
            }},
            "verb": {{ "id": "{verb}", "display": {{ "en-US": "attended", "zh-CN": "参加" }} }},
            "object": {{
                "objectType": "Activity",
                "id": "https://learn.example.com/courses/bim-101/lesson-3",
                "definition": {{
                    "name": {{ "zh-CN": "建筑信息模型 第3讲" }},
                    "type": "http://adlnet.gov/expapi/activities/lesson"
                }}
            }},
            "result": {{ "completion": true, "duration": "{duration}" }},
            "context": {{
                "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                "platform": "learn.example.com",
                "language": "zh-CN",
                "contextActivities": {{
                    "parent": [{{ "id": "https://learn.example.com/courses/bim-101" }}]
                }}
            }},
            "timestamp": "{timestamp}",
            "stored": "2026-03-01T13:30:05.123Z",
            "authority": {{ "objectType": "Agent", "mbox": "mailto:lrs@learn.example.com" }},
            "version": "1.0.3"
        }}"#
    )
}

const ID1: &str = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee";
const ID2: &str = "7ccd3322-e1a5-411a-a67d-6a735c76f119";

fn parsed(json: &str) -> Session {
    parse_statement(json).unwrap().unwrap()
}

fn refused(json: &str) -> XapiError {
    parse_statement(json).unwrap_err()
}

fn session(id: &str, start: OffsetDateTime, end: OffsetDateTime) -> Session {
    Session {
        statement_id: id.into(),
        verb: Verb::Attended,
        start,
        end,
    }
}

// --- Reading statements -----------------------------------------------------

#[test]
fn an_attended_statement_is_a_session_ending_at_its_timestamp() {
    let s = parsed(&statement(
        ID1,
        xapi::ATTENDED,
        "2026-03-01T21:30:00+08:00",
        "PT1H30M",
    ));
    assert_eq!(s.statement_id, ID1);
    assert_eq!(s.verb, Verb::Attended);
    assert_eq!(s.end, datetime!(2026-03-01 21:30 +8));
    assert_eq!(s.start, datetime!(2026-03-01 20:00 +8));
    assert_eq!(s.duration(), time::Duration::minutes(90));
}

#[test]
fn a_completed_statement_counts_too_and_utc_timestamps_are_the_same_moment() {
    let s = parsed(&statement(
        ID2,
        xapi::COMPLETED,
        "2026-03-01T13:30:00.250Z",
        "PT45M10.5S",
    ));
    assert_eq!(s.verb, Verb::Completed);
    assert_eq!(s.end, datetime!(2026-03-01 21:30:00.25 +8));
    assert_eq!(s.start, datetime!(2026-03-01 20:44:49.75 +8));
    assert_eq!(Verb::Completed.iri(), xapi::COMPLETED);
    assert_eq!(Verb::from_iri(xapi::ATTENDED), Some(Verb::Attended));
}

#[test]
fn durations_of_days_hours_minutes_and_fractional_seconds() {
    let d = |duration: &str| {
        parsed(&statement(
            ID1,
            xapi::ATTENDED,
            "2026-03-02T12:00:00+08:00",
            duration,
        ))
        .duration()
        .as_seconds_f64()
    };
    assert_eq!(d("P1DT2H"), 26.0 * 3600.0);
    assert_eq!(d("P1D"), 24.0 * 3600.0);
    assert_eq!(d("PT2H"), 7200.0);
    assert_eq!(d("PT1H0M0S"), 3600.0);
    assert_eq!(d("PT1234S"), 1234.0);
    assert_eq!(d("PT0.01S"), 0.01);
    assert_eq!(d("PT45M10.5S"), 2710.5);
    assert_eq!(d("PT1.25H"), 4500.0);
}

#[test]
fn a_statement_without_id_is_still_a_session() {
    let json = r#"{
        "actor": { "mbox": "mailto:engineer@example.com" },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/attended" },
        "object": { "id": "https://learn.example.com/courses/bim-101" },
        "result": { "duration": "PT1H" },
        "timestamp": "2026-03-01T10:00:00+08:00"
    }"#;
    assert_eq!(parsed(json).statement_id, "");
}

#[test]
fn other_verbs_are_ignored_even_without_timestamp_or_duration() {
    for verb in [
        "http://adlnet.gov/expapi/verbs/experienced",
        "http://adlnet.gov/expapi/verbs/launched",
        "http://adlnet.gov/expapi/verbs/passed",
        "http://adlnet.gov/expapi/verbs/voided",
        "https://w3id.org/xapi/adl/verbs/logged-in",
        // IRIs compare exactly.
        "http://adlnet.gov/expapi/verbs/Attended",
    ] {
        let full = statement(ID1, verb, "2026-03-01T21:30:00+08:00", "PT1H");
        assert_eq!(parse_statement(&full), Ok(None), "{verb}");
        let bare = format!(r#"{{ "actor": {{}}, "verb": {{ "id": "{verb}" }}, "object": {{}} }}"#);
        assert_eq!(parse_statement(&bare), Ok(None), "{verb}");
    }
}

/// The moment of the statements refused for something else.
const AT: &str = "2026-03-01T21:30:00+08:00";

/// A refused statement, the path its error names and part of its message.
type Refused = (String, &'static str, &'static str);

/// Statements that are not JSON objects, or whose verb is missing or is
/// not an object with an IRI.
fn refused_shapes() -> Vec<Refused> {
    vec![
        ("{ not json".into(), "statement", "not valid JSON"),
        ("[1, 2]".into(), "statement", "not a JSON object"),
        (r#"{ "actor": {} }"#.into(), "verb", "required"),
        (r#"{ "verb": "attended" }"#.into(), "verb", "object"),
        (r#"{ "verb": {} }"#.into(), "verb.id", "required"),
        (r#"{ "verb": { "id": 7 } }"#.into(), "verb.id", "string"),
    ]
}

/// Statements with an id that is not a UUID, or a duration that is not
/// one of days, hours, minutes and seconds.
fn refused_ids_and_durations() -> Vec<Refused> {
    vec![
        (
            statement("not-a-uuid", xapi::ATTENDED, AT, "PT1H"),
            "id",
            "not a UUID",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "P1Y"),
            "result.duration",
            "years",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "P2M"),
            "result.duration",
            "months",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "P1W"),
            "result.duration",
            "weeks",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "PT0S"),
            "result.duration",
            "zero",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "P0D"),
            "result.duration",
            "zero",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "-PT1H"),
            "result.duration",
            "negative",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "1:30:00"),
            "result.duration",
            "not an ISO 8601 duration",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "PT1H30"),
            "result.duration",
            "not an ISO 8601 duration",
        ),
        (
            statement(ID1, xapi::ATTENDED, AT, "PT"),
            "result.duration",
            "not an ISO 8601 duration",
        ),
    ]
}

/// Statements whose timestamp has no UTC offset or is no date-time.
fn refused_timestamps() -> Vec<Refused> {
    vec![
        (
            statement(ID1, xapi::ATTENDED, "2026-03-01T21:30:00", "PT1H"),
            "timestamp",
            "no UTC offset",
        ),
        (
            statement(ID1, xapi::ATTENDED, "yesterday evening", "PT1H"),
            "timestamp",
            "not an RFC 3339 date-time",
        ),
    ]
}

/// Statements of a verb that counts time without its result, its
/// duration (as a string) or its timestamp.
fn refused_results() -> Vec<Refused> {
    vec![
        (
            format!(
                r#"{{ "verb": {{ "id": "{}" }}, "timestamp": "{AT}" }}"#,
                xapi::COMPLETED
            ),
            "result",
            "required",
        ),
        (
            format!(
                r#"{{ "verb": {{ "id": "{}" }}, "timestamp": "{AT}", "result": {{ "completion": true }} }}"#,
                xapi::ATTENDED
            ),
            "result.duration",
            "required",
        ),
        (
            format!(
                r#"{{ "verb": {{ "id": "{}" }}, "timestamp": "{AT}", "result": {{ "duration": 3600 }} }}"#,
                xapi::ATTENDED
            ),
            "result.duration",
            "string",
        ),
        (
            format!(
                r#"{{ "verb": {{ "id": "{}" }}, "result": {{ "duration": "PT1H" }} }}"#,
                xapi::ATTENDED
            ),
            "timestamp",
            "required",
        ),
    ]
}

#[test]
fn refused_statements_name_the_property_and_art_13() {
    let cases = [
        refused_shapes(),
        refused_ids_and_durations(),
        refused_timestamps(),
        refused_results(),
    ]
    .concat();
    for (json, path, message) in cases {
        let e = refused(&json);
        assert_eq!(e.path, path, "{json}: {e}");
        assert!(e.message.contains(message), "{json}: {e}");
        let shown = e.to_string();
        assert!(shown.contains(path) && shown.contains("Art. 13"), "{shown}");
    }
}

// --- Verified time: overlaps once, rounded down ------------------------------

#[test]
fn overlapping_sessions_count_once() {
    let t = |hh: u8, mm: u8| {
        OffsetDateTime::new_in_offset(
            date!(2026 - 03 - 01),
            time::Time::from_hms(hh, mm, 0).unwrap(),
            xapi::CHINA_STANDARD_TIME,
        )
    };
    let s = |a: (u8, u8), b: (u8, u8)| session(ID1, t(a.0, a.1), t(b.0, b.1));
    // Two overlapping: 09:00-11:00 and 10:00-12:00 are 3 hours.
    assert_eq!(
        verified_hours(&[s((9, 0), (11, 0)), s((10, 0), (12, 0))]),
        h(3.0)
    );
    // Nested: 09:00-12:00 holds 10:00-11:00.
    assert_eq!(
        verified_hours(&[s((10, 0), (11, 0)), s((9, 0), (12, 0))]),
        h(3.0)
    );
    // Adjacent: 09:00-10:00 then 10:00-11:30.
    assert_eq!(
        verified_hours(&[s((9, 0), (10, 0)), s((10, 0), (11, 30))]),
        h(2.5)
    );
    // Disjoint: 09:00-10:00 and 14:00-14:45.
    assert_eq!(
        verified_hours(&[s((14, 0), (14, 45)), s((9, 0), (10, 0))]),
        h(1.75)
    );
    // The same statement twice counts once; a chain of overlaps merges.
    assert_eq!(
        verified_hours(&[
            s((9, 0), (10, 0)),
            s((9, 0), (10, 0)),
            s((9, 30), (10, 30)),
            s((10, 15), (11, 0)),
        ]),
        h(2.0)
    );
    assert_eq!(verified_hours(&[]), Hours::ZERO);
}

#[test]
fn verified_time_is_rounded_down_to_the_hundredth() {
    let end = "2026-03-01T21:00:00+08:00";
    let hours = |d: &str| verified_hours(&[parsed(&statement(ID1, xapi::ATTENDED, end, d))]);
    // 45 min 10.5 s is 0.7529 h: 0.75, not 0.76.
    assert_eq!(hours("PT45M10.5S"), h(0.75));
    // 35.99 s is just under a hundredth (36 s).
    assert_eq!(hours("PT35.99S"), Hours::ZERO);
    assert_eq!(hours("PT36S"), h(0.01));
    // 59 min 59 s is not an hour.
    assert_eq!(hours("PT59M59S"), h(0.99));
    assert_eq!(hours("PT1H"), h(1.0));
}

// --- Crediting a record with sessions -----------------------------------------

const START: Date = date!(2026 - 03 - 01);
const END: Date = date!(2026 - 03 - 07);

fn online(hours: f64, sessions: Vec<Session>) -> Record {
    Record::new(
        "o1",
        Activity::Online {
            category: Category::Professional,
            start: START,
            end: END,
            hours,
            sessions,
        },
    )
}

/// Evenings of the course week: 20:00 to 21:30 on days 1-5, and on day 1
/// a `completed` statement for 20:30-22:00 overlapping the first evening.
fn evenings() -> Vec<Session> {
    let mut out: Vec<Session> = (1..=5u8)
        .map(|d| {
            let stamp = format!("2026-03-0{d}T21:30:00+08:00");
            parsed(&statement(ID1, xapi::ATTENDED, &stamp, "PT1H30M"))
        })
        .collect();
    out.push(parsed(&statement(
        ID2,
        xapi::COMPLETED,
        "2026-03-01T22:00:00+08:00",
        "PT1H30M",
    )));
    out
}

#[test]
fn sessions_credit_their_verified_time_not_the_reported_hours() {
    // 5 × 1.5 h, plus 0.5 h more on day 1 (20:30-22:00 overlaps 20:00-21:30).
    let c = credit(&online(10.0, evenings()), &RuleSet::national()).unwrap();
    assert_eq!(c.hours, h(8.0));
    assert_eq!(c.article, Article::item(18, 2));
    assert_eq!(
        c.cuts,
        vec![Cut::Unverified {
            claimed: h(10.0),
            verified: h(8.0)
        }]
    );
    assert_eq!(c.cuts[0].article(), Article::item(18, 2));
    let shown = c.cuts[0].to_string();
    assert!(
        shown.contains("claimed 10 h, xAPI statements verify 8 h (overlapping time counted once)")
            && shown.contains("Art. 18(2)")
            && shown.contains("Art. 13"),
        "{shown}"
    );
}

#[test]
fn claiming_no_more_than_verified_is_credited_as_verified() {
    let rules = RuleSet::national();
    // Reported 0: nothing claimed, the verified time is credited.
    let zero = credit(&online(0.0, evenings()), &rules).unwrap();
    assert_eq!((zero.hours, zero.cuts.clone()), (h(8.0), vec![]));
    // Reported exactly, or less: no cut.
    assert_eq!(
        credit(&online(8.0, evenings()), &rules).unwrap().cuts,
        vec![]
    );
    assert_eq!(
        credit(&online(6.0, evenings()), &rules).unwrap().hours,
        h(8.0)
    );
    // A record claiming less than verified is credited its claim.
    let less = credit(&online(0.0, evenings()).claiming(5.0), &rules).unwrap();
    assert_eq!(less.hours, h(5.0));
    assert!(matches!(less.cuts[..], [Cut::ClaimedLess { .. }]));
    // A record claiming more is cut to the verified time, shown as such.
    let more = credit(&online(0.0, evenings()).claiming(12.0), &rules).unwrap();
    assert_eq!(more.hours, h(8.0));
    assert_eq!(
        more.cuts,
        vec![Cut::Unverified {
            claimed: h(12.0),
            verified: h(8.0)
        }]
    );
    // Without sessions, reported 0 is credited 0, as before.
    assert_eq!(
        credit(&online(0.0, vec![]), &rules).unwrap().hours,
        Hours::ZERO
    );
}

#[test]
fn a_session_outside_the_study_period_is_refused_under_art_13() {
    let rules = RuleSet::national();
    let period_edge = |start, end| credit(&online(0.0, vec![session(ID1, start, end)]), &rules);
    // The period runs from 1 March 00:00 to 8 March 00:00, China Standard Time.
    assert!(
        period_edge(
            datetime!(2026-03-01 00:00 +8),
            datetime!(2026-03-08 00:00 +8)
        )
        .is_ok()
    );
    // 23:30 UTC on 28 February is 07:30 on 1 March in China: inside.
    assert!(
        period_edge(
            datetime!(2026-02-28 23:30 UTC),
            datetime!(2026-02-28 23:59 UTC)
        )
        .is_ok()
    );
    for (start, end) in [
        // Ends a minute into 8 March.
        (
            datetime!(2026-03-07 23:00 +8),
            datetime!(2026-03-08 00:01 +8),
        ),
        // Starts the evening before the course.
        (
            datetime!(2026-02-28 23:30 +8),
            datetime!(2026-03-01 00:30 +8),
        ),
        // 20:00 UTC on 28 February is 04:00 on 1 March in China, but 20:00
        // on 7 March UTC is 04:00 on 8 March in China.
        (
            datetime!(2026-03-07 19:00 UTC),
            datetime!(2026-03-07 20:00 UTC),
        ),
    ] {
        let e = period_edge(start, end).unwrap_err();
        assert_eq!((e.field, e.article), ("sessions", Article::new(13)), "{e}");
        assert!(
            e.message.contains(ID1) && e.message.contains("outside the study period"),
            "{e}"
        );
        assert!(e.to_string().contains("Art. 13"), "{e}");
    }
    // A statement without id is named by its place.
    let mut anonymous = session(
        "",
        datetime!(2026-04-01 10:00 +8),
        datetime!(2026-04-01 11:00 +8),
    );
    let e = credit(&online(0.0, vec![anonymous.clone()]), &rules).unwrap_err();
    assert!(e.message.contains("session 1"), "{e}");
    // A session that does not end after it starts is no evidence.
    anonymous.start = datetime!(2026-03-02 11:00 +8);
    anonymous.end = datetime!(2026-03-02 10:00 +8);
    let e = credit(&online(0.0, vec![anonymous]), &rules).unwrap_err();
    assert_eq!((e.field, e.article), ("sessions", Article::new(13)));
}

#[test]
fn sessions_make_the_overfull_day_signal_exact() {
    // 7 to 23 on one day: 16 h verified; plus 1 h face-to-face is 17 h.
    let long = session(
        ID1,
        datetime!(2026-03-03 07:00 +8),
        datetime!(2026-03-03 23:00 +8),
    );
    let course = Record::new(
        "f1",
        Activity::FaceToFace {
            category: Category::Public,
            start: date!(2026 - 03 - 03),
            days: 1,
            hours_per_day: 1.0,
            provider: None,
        },
    );
    let found =
        ce_rules::signals::signals(&[online(0.0, vec![long]), course], &RuleSet::national());
    assert_eq!(
        found,
        vec![Signal::OverfullDay {
            date: date!(2026 - 03 - 03),
            hours: h(17.0),
            records: vec!["f1".into(), "o1".into()],
        }]
    );
    // The same 16 hours reported without sessions spread over the week.
    let spread = ce_rules::signals::signals(&[online(16.0, vec![])], &RuleSet::national());
    assert!(spread.is_empty(), "{spread:?}");
}

// --- A whole year ----------------------------------------------------------------

/// 2026 with 32 public hours face-to-face (4 days of 8), 40 professional
/// by conversion (a sole research project) and `online_record`.
fn year_with_online(online_record: Record) -> Assessment {
    let records = [
        Record::new(
            "f1",
            Activity::FaceToFace {
                category: Category::Public,
                start: date!(2026 - 04 - 06),
                days: 4,
                hours_per_day: 8.0,
                provider: Some("institutions/a".into()),
            },
        ),
        Record::new(
            "r1",
            Activity::Research {
                role: ResearchRole::Sole,
                project: "MOHURD-2026-017".into(),
                date: date!(2026 - 06 - 30),
            },
        ),
        online_record,
    ];
    assess(
        &YearInput {
            year: 2026,
            records: &records,
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2027 - 01 - 15),
        },
        &RuleSet::national(),
    )
    .unwrap()
}

/// Twenty evenings of `duration` each in November, each statement also
/// sent twice (a retry) so overlaps must count once.
fn november(duration: &str) -> Vec<Session> {
    (1..=20u8)
        .flat_map(|d| {
            let stamp = format!("2026-11-{d:02}T22:00:00+08:00");
            let s = parsed(&statement(ID1, xapi::ATTENDED, &stamp, duration));
            [s.clone(), s]
        })
        .collect()
}

fn online_in_november(hours: f64, sessions: Vec<Session>) -> Record {
    Record::new(
        "o1",
        Activity::Online {
            category: Category::Professional,
            start: date!(2026 - 11 - 01),
            end: date!(2026 - 11 - 30),
            hours,
            sessions,
        },
    )
}

#[test]
fn verified_online_hours_make_or_break_the_year() {
    // 32 public face-to-face + 40 research = 72; the year needs 90, 60 of
    // them professional: 20 professional online hours make it.
    let enough = year_with_online(online_in_november(20.0, november("PT1H")));
    assert_eq!(enough.status, Status::Compliant);
    assert_eq!(enough.totals.total, h(92.0));
    assert_eq!(enough.totals.professional, h(60.0));

    // The provider reports 20 hours but its statements verify 20 × 54 min
    // = 18: 58 professional, short 2.
    let short = year_with_online(online_in_november(20.0, november("PT54M")));
    assert_eq!(short.status, Status::NonCompliant);
    assert_eq!(short.totals.professional, h(58.0));
    assert_eq!(short.shortfall.professional, h(2.0));
    let online = short
        .explanations
        .iter()
        .find(|e| e.record == "o1")
        .unwrap();
    assert_eq!(online.hours, h(18.0));
    assert!(
        online
            .to_string()
            .contains("claimed 20 h, xAPI statements verify 18 h"),
        "{online}"
    );

    // Without statements the reported 20 hours are credited as before.
    let reported = year_with_online(online_in_november(20.0, vec![]));
    assert_eq!(reported.status, Status::Compliant);

    // Nothing reported, everything verified.
    let verified_only = year_with_online(online_in_november(0.0, november("PT1H")));
    assert_eq!(verified_only.status, Status::Compliant);
}

#[test]
fn an_out_of_period_session_refuses_the_year_assessment() {
    let mut sessions = november("PT1H");
    sessions.push(parsed(&statement(
        ID2,
        xapi::ATTENDED,
        "2026-12-01T00:30:00+08:00",
        "PT1H",
    )));
    let records = [online_in_november(0.0, sessions)];
    let e = assess(
        &YearInput {
            year: 2026,
            records: &records,
            make_up: &[],
            used_for_make_up: &[],
            deferral: None,
            as_of: date!(2027 - 01 - 15),
        },
        &RuleSet::national(),
    )
    .unwrap_err();
    assert_eq!((e.record.as_str(), e.field), ("o1", "sessions"));
    assert!(e.message.contains(ID2), "{e}");
}
