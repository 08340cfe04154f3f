//! Quality monitoring (Art. 25): assessment periods, and when a grade is
//! poor enough to report.
//!
//! - An institution is assessed by period: a year, a half or a quarter
//!   ([`Period`]), from the regulation's first year (Art. 31). A period is
//!   closed once it has ended ([`may_close`]), and its scores are final
//!   when it is closed and the evidence quality monitoring pulls itself has
//!   been taken ([`is_final`]).
//! - A grade is poor on its own, or when the same grade comes in
//!   consecutive periods of one granularity ([`is_poor`]); a final poor
//!   result is reported to supervision for Art. 26, and withdrawn once the
//!   result is no longer poor ([`what_to_tell`]).
//! - A course counts as ended on its last day ([`course_end`]); the
//!   registration delay runs from there to the day its hours were
//!   registered ([`registration_delay`]).

use std::fmt;

use serde::Deserialize;
use time::{Date, Duration, Month};

use crate::ruleset::FIRST_YEAR;

/// Which part of its year a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Year,
    /// 1 or 2.
    Half(u8),
    /// 1 to 4.
    Quarter(u8),
}

/// An assessment period: a year, a half or a quarter ("2026", "2026-H1",
/// "2026-Q3"). Periods of one granularity sort in time order as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub year: i32,
    pub part: Part,
}

/// Text that is not a period (or a period before the regulation's first
/// year, Art. 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAPeriod;

impl fmt::Display for NotAPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "must be a year ({FIRST_YEAR} or later), optionally with -H1/-H2 or -Q1 to -Q4"
        )
    }
}

impl std::error::Error for NotAPeriod {}

impl Period {
    /// Reads a period of the regulation: the year has four digits and is
    /// its first year or later (Art. 31).
    pub fn parse(text: &str) -> Result<Period, NotAPeriod> {
        let p = Period::read(text).ok_or(NotAPeriod)?;
        if p.year >= FIRST_YEAR {
            Ok(p)
        } else {
            Err(NotAPeriod)
        }
    }

    /// The syntax alone, any year of four digits.
    fn read(text: &str) -> Option<Period> {
        let (year, part) = match text.split_once('-') {
            None => (text, None),
            Some((y, part)) => (y, Some(part)),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = year.parse().ok()?;
        let part = match part {
            None => Part::Year,
            Some("H1") => Part::Half(1),
            Some("H2") => Part::Half(2),
            Some("Q1") => Part::Quarter(1),
            Some("Q2") => Part::Quarter(2),
            Some("Q3") => Part::Quarter(3),
            Some("Q4") => Part::Quarter(4),
            Some(_) => return None,
        };
        Some(Period { year, part })
    }

    /// The first and the last month of the period.
    fn months(self) -> (u8, u8) {
        match self.part {
            Part::Year => (1, 12),
            Part::Half(h) => (6 * h - 5, 6 * h),
            Part::Quarter(q) => (3 * q - 2, 3 * q),
        }
    }

    /// The first and the last day of the period.
    pub fn days(self) -> (Date, Date) {
        let (first, last) = self.months();
        let month = |m: u8| Month::try_from(m).unwrap_or(Month::January);
        let start = Date::from_calendar_date(self.year, month(first), 1).unwrap_or(Date::MIN);
        let end = Date::from_calendar_date(self.year, month(last), 1)
            .map(|d| {
                let days = d.month().length(self.year);
                d.replace_day(days).unwrap_or(d)
            })
            .unwrap_or(Date::MAX);
        (start, end)
    }

    /// The period right before, of the same granularity: 2025 before 2026,
    /// 2025-H2 before 2026-H1, 2026-Q2 before 2026-Q3.
    pub fn previous(self) -> Period {
        let Period { year, part } = self;
        match part {
            Part::Year => Period {
                year: year - 1,
                part,
            },
            Part::Half(1) => Period {
                year: year - 1,
                part: Part::Half(2),
            },
            Part::Half(h) => Period {
                year,
                part: Part::Half(h - 1),
            },
            Part::Quarter(1) => Period {
                year: year - 1,
                part: Part::Quarter(4),
            },
            Part::Quarter(q) => Period {
                year,
                part: Part::Quarter(q - 1),
            },
        }
    }

    /// The period right after, of the same granularity.
    pub fn next(self) -> Period {
        let Period { year, part } = self;
        match part {
            Part::Year => Period {
                year: year + 1,
                part,
            },
            Part::Half(2) => Period {
                year: year + 1,
                part: Part::Half(1),
            },
            Part::Half(h) => Period {
                year,
                part: Part::Half(h + 1),
            },
            Part::Quarter(4) => Period {
                year: year + 1,
                part: Part::Quarter(1),
            },
            Part::Quarter(q) => Period {
                year,
                part: Part::Quarter(q + 1),
            },
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.part {
            Part::Year => write!(f, "{:04}", self.year),
            Part::Half(h) => write!(f, "{:04}-H{h}", self.year),
            Part::Quarter(q) => write!(f, "{:04}-Q{q}", self.year),
        }
    }
}

/// Checks a period's text ([`Period::parse`]).
pub fn check_period(text: &str) -> Result<Period, NotAPeriod> {
    Period::parse(text)
}

/// The period right before `period`, of the same granularity. `None` for
/// text that is not a period.
pub fn previous_period(period: &str) -> Option<String> {
    Period::read(period).map(|p| p.previous().to_string())
}

/// The period right after `period`, of the same granularity.
pub fn next_period(period: &str) -> Option<String> {
    Period::read(period).map(|p| p.next().to_string())
}

/// The `n` periods right before `period`, most recent first: those whose
/// grades make a run of "consecutive" ones (Art. 25).
pub fn preceding_periods(period: &str, n: usize) -> Vec<String> {
    std::iter::successors(previous_period(period), |p| previous_period(p))
        .take(n)
        .collect()
}

/// Art. 25: a period is closed once it has ended, and its results are final
/// from then. `Err` with its last day while it runs on `today`.
pub fn may_close(period: Period, today: Date) -> Result<(), Date> {
    let (_, last) = period.days();
    if today <= last { Err(last) } else { Ok(()) }
}

/// Art. 25: a score is final once its period is closed for the province
/// and the evidence quality monitoring takes from the other services has
/// been taken; until then it is provisional and reported to no one.
pub fn is_final(period_closed: bool, pulled_evidence_taken: bool) -> bool {
    period_closed && pulled_evidence_taken
}

/// When a grade is poor: a scoring model's `poor` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poor {
    /// Grades that are poor on their own, e.g. ["D"].
    pub grades: Vec<String>,
    /// A grade that is poor when repeated, e.g. "C".
    #[serde(default)]
    pub repeated_grade: Option<String>,
    /// How many periods in a row make it poor, e.g. 2.
    #[serde(default)]
    pub repeated_periods: u32,
}

impl Poor {
    /// How many periods before a grade [`is_poor`] looks at (at least one).
    pub fn look_back(&self) -> usize {
        self.repeated_periods.max(1) as usize
    }
}

/// Art. 25, 26: whether `grade` is poor enough to report to supervision,
/// given the grades of the periods right before it, most recent first and
/// ending at the first period without one: a grade of `poor.grades`, or
/// `poor.repeated_grade` given `poor.repeated_periods` periods in a row
/// (this one included).
pub fn is_poor(poor: &Poor, grade: &str, earlier: &[String]) -> bool {
    if poor.grades.iter().any(|g| g == grade) {
        return true;
    }
    match &poor.repeated_grade {
        Some(g) if g == grade && poor.repeated_periods > 1 => {
            let needed = poor.repeated_periods as usize - 1;
            earlier.len() >= needed && earlier[..needed].iter().all(|e| e == g)
        }
        _ => false,
    }
}

/// The figures a report of a result to supervision carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures<'a> {
    pub grade: &'a str,
    pub score: f64,
    pub model_version: &'a str,
}

/// What was last said to supervision about a result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Said<'a> {
    /// Reported poor, with these figures.
    Reported(Figures<'a>),
    /// The report was withdrawn.
    Withdrawn,
}

/// What to tell supervision about a result now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tell {
    Nothing,
    /// Report it poor (Art. 26).
    Report,
    /// Withdraw the report made: it is no longer poor.
    Withdraw,
}

/// Art. 25, 26: a final poor result not reported yet (or reported with other
/// figures) is reported; a final result no longer poor withdraws the report
/// made. A provisional result says nothing.
pub fn what_to_tell(final_: bool, poor: bool, now: Figures<'_>, last: Option<Said<'_>>) -> Tell {
    if !final_ {
        return Tell::Nothing;
    }
    match last {
        Some(Said::Reported(f)) if poor && f == now => Tell::Nothing,
        _ if poor => Tell::Report,
        Some(Said::Reported(_)) => Tell::Withdraw,
        _ => Tell::Nothing,
    }
}

/// The day a course counts as ended: the last of a face-to-face course's
/// `days` consecutive days from `start` (one day at least), as
/// [`Activity::span`](crate::Activity::span) counts them.
pub fn course_end(start: Date, days: i32) -> Date {
    start + Duration::days(i64::from(days.max(1)) - 1)
}

/// Art. 21, 25: the whole days from a course's end to its hours being
/// registered; registration on or before the last day counts as none.
pub fn registration_delay(ended: Date, registered: Date) -> i64 {
    (registered - ended).whole_days().max(0)
}

/// The middle of `delays` (the higher middle of an even count); `None` for
/// none.
pub fn median_delay(delays: &mut [i64]) -> Option<i64> {
    delays.sort_unstable();
    delays.get(delays.len() / 2).copied()
}

/// Art. 15: the share of the three parts of an institution's disclosure
/// (scope, content, fee items) published, and how many.
pub fn disclosure_completeness(scope: bool, content: bool, fees: bool) -> (usize, f64) {
    let published = [scope, content, fees].iter().filter(|p| **p).count();
    (published, published as f64 / 3.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first and last day of a period.
    fn period_days(text: &str) -> Result<(Date, Date), NotAPeriod> {
        Period::parse(text).map(Period::days)
    }
    use time::macros::date;

    #[test]
    fn periods_are_years_halves_and_quarters() {
        assert_eq!(
            period_days("2026").unwrap(),
            (date!(2026 - 01 - 01), date!(2026 - 12 - 31))
        );
        assert_eq!(
            period_days("2026-H1").unwrap(),
            (date!(2026 - 01 - 01), date!(2026 - 06 - 30))
        );
        assert_eq!(
            period_days("2027-Q3").unwrap(),
            (date!(2027 - 07 - 01), date!(2027 - 09 - 30))
        );
        assert_eq!(
            period_days("2026-Q4").unwrap(),
            (date!(2026 - 10 - 01), date!(2026 - 12 - 31))
        );
        assert_eq!(
            period_days("2028-Q1").unwrap(),
            (date!(2028 - 01 - 01), date!(2028 - 03 - 31))
        );
        for bad in ["2025", "2026-H3", "26", "2026-", "abcd", "+026", "2026-q1"] {
            assert!(check_period(bad).is_err(), "{bad}");
        }
        assert_eq!(
            NotAPeriod.to_string(),
            "must be a year (2026 or later), optionally with -H1/-H2 or -Q1 to -Q4"
        );
    }

    #[test]
    fn the_previous_period_is_the_one_right_before_of_the_same_kind() {
        for (p, before) in [
            ("2027", "2026"),
            ("2027-H1", "2026-H2"),
            ("2027-H2", "2027-H1"),
            ("2027-Q1", "2026-Q4"),
            ("2027-Q2", "2027-Q1"),
            ("2027-Q3", "2027-Q2"),
            ("2027-Q4", "2027-Q3"),
        ] {
            assert_eq!(previous_period(p).as_deref(), Some(before), "{p}");
            assert_eq!(next_period(before).as_deref(), Some(p), "{before}");
        }
        assert_eq!(previous_period("2027-Q5"), None);
        assert_eq!(previous_period("27"), None);
        assert_eq!(preceding_periods("2026-Q2", 2), ["2026-Q1", "2025-Q4"]);
    }

    #[test]
    fn a_period_closes_the_day_after_it_ends() {
        let q3 = Period::parse("2026-Q3").unwrap();
        assert_eq!(
            may_close(q3, date!(2026 - 09 - 30)),
            Err(date!(2026 - 09 - 30))
        );
        assert_eq!(may_close(q3, date!(2026 - 10 - 01)), Ok(()));
        assert!(is_final(true, true));
        assert!(!is_final(true, false) && !is_final(false, true));
    }

    fn national() -> Poor {
        Poor {
            grades: vec!["D".into()],
            repeated_grade: Some("C".into()),
            repeated_periods: 2,
        }
    }

    #[test]
    fn d_is_poor_and_c_twice_in_a_row_is_poor() {
        let p = national();
        assert!(is_poor(&p, "D", &[]));
        assert!(!is_poor(&p, "C", &[]));
        assert!(!is_poor(&p, "C", &["B".into()]));
        assert!(is_poor(&p, "C", &["C".into(), "A".into()]));
        assert!(!is_poor(&p, "B", &["C".into()]));
        assert_eq!(p.look_back(), 2);
    }

    #[test]
    fn a_final_poor_result_is_reported_once_and_withdrawn_when_no_longer_poor() {
        let c = Figures {
            grade: "C",
            score: 62.5,
            model_version: "national-2026.2",
        };
        let d = Figures { grade: "D", ..c };
        assert_eq!(what_to_tell(false, true, c, None), Tell::Nothing);
        assert_eq!(what_to_tell(true, true, c, None), Tell::Report);
        assert_eq!(
            what_to_tell(true, true, c, Some(Said::Reported(c))),
            Tell::Nothing
        );
        assert_eq!(
            what_to_tell(true, true, d, Some(Said::Reported(c))),
            Tell::Report
        );
        assert_eq!(
            what_to_tell(true, false, c, Some(Said::Reported(c))),
            Tell::Withdraw
        );
        assert_eq!(
            what_to_tell(true, false, c, Some(Said::Withdrawn)),
            Tell::Nothing
        );
        assert_eq!(
            what_to_tell(true, true, c, Some(Said::Withdrawn)),
            Tell::Report
        );
    }

    #[test]
    fn a_course_ends_on_its_last_day() {
        let start = date!(2026 - 09 - 28);
        assert_eq!(course_end(start, 3), date!(2026 - 09 - 30));
        assert_eq!(course_end(start, 0), start);
        let course = crate::Activity::FaceToFace {
            category: crate::Category::Professional,
            start,
            days: 3,
            hours_per_day: 8.0,
            provider: None,
        };
        assert_eq!(course.span().1, course_end(start, 3));
        assert_eq!(registration_delay(date!(2026 - 09 - 30), start), 0);
        assert_eq!(
            registration_delay(date!(2026 - 09 - 30), date!(2026 - 10 - 10)),
            10
        );
        assert_eq!(median_delay(&mut [9, 1, 5, 7]), Some(7));
        assert_eq!(median_delay(&mut []), None);
        assert_eq!(disclosure_completeness(true, false, true).0, 2);
    }
}
