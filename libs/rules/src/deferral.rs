//! Deferral and make-up (Art. 20): who certifies a deferral, and which
//! year's records may make up a deferred year.
//!
//! An employer certifies that injury, illness, pregnancy or a similar
//! reason kept an engineer from completing a year; the engineer then
//! designates records of the next year as make-up for it. Each function
//! decides; a refusal names its article and the facts, and the service
//! words it for its caller.

use time::Date;

use crate::article::{ART_20, ART_31, Article};
use crate::ruleset::FIRST_YEAR;

/// The special reasons Art. 20 names (伤、病、孕等特殊原因).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// 伤
    Injury,
    /// 病
    Illness,
    /// 孕
    Pregnancy,
    /// 等特殊原因: another special reason, explained in words.
    Other,
}

/// Why a deferral, or a make-up designation, is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No reason given (Art. 20).
    NoReason,
    /// Another special reason, not explained (Art. 20).
    Unexplained,
    /// A year before the regulation (Art. 31) or after this one.
    Year { first: i32, last: i32 },
    /// Certified by someone not an employer (Art. 20).
    NotAnEmployer,
    /// Certified by an employer not the engineer's own (Art. 20).
    NotOwnEmployer,
    /// Designated by someone other than the record's engineer (Art. 20).
    NotOwnRecord,
    /// A record of `record_year` designated for another year than the one
    /// before it (Art. 20).
    WrongYear { record_year: i32, can_make_up: i32 },
    /// The year has no certified deferral, so nothing makes it up (Art. 20).
    NotDeferred { year: i32 },
}

impl Refusal {
    /// The articles the refusal rests on.
    pub fn articles(&self) -> &'static [Article] {
        match self {
            Refusal::Year { .. } => &[ART_31],
            _ => &[ART_20],
        }
    }
}

/// Art. 20: a deferral states one of the special reasons, and explains
/// "another special reason" in words.
pub fn reason_given(reason: Option<Reason>, explanation: &str) -> Result<(), Refusal> {
    match reason {
        None => Err(Refusal::NoReason),
        Some(Reason::Other) if explanation.trim().is_empty() => Err(Refusal::Unexplained),
        Some(_) => Ok(()),
    }
}

/// A year that may be deferred: one the regulation governs (Art. 31),
/// not after `today`'s.
pub fn deferrable_year(year: i32, today: Date) -> Result<(), Refusal> {
    if year < FIRST_YEAR || year > today.year() {
        Err(Refusal::Year {
            first: FIRST_YEAR,
            last: today.year(),
        })
    } else {
        Ok(())
    }
}

/// Art. 20: a deferral is certified by an employer (`is_employer`) ...
pub fn certified_by_employer(is_employer: bool) -> Result<(), Refusal> {
    if is_employer {
        Ok(())
    } else {
        Err(Refusal::NotAnEmployer)
    }
}

/// ... and only by the engineer's own: `certifier` is the employer asking,
/// `employer` the one the engineer is with (None: none).
pub fn certifies(employer: Option<&str>, certifier: Option<&str>) -> Result<(), Refusal> {
    match employer {
        Some(e) if certifier == Some(e) => Ok(()),
        _ => Err(Refusal::NotOwnEmployer),
    }
}

/// Art. 20: the engineer designates their own records as make-up.
pub fn designated_by_engineer(own: bool) -> Result<(), Refusal> {
    if own {
        Ok(())
    } else {
        Err(Refusal::NotOwnRecord)
    }
}

/// Art. 20: the year a record of `record_year` may make up, the one before.
pub fn made_up_by(record_year: i32) -> i32 {
    record_year - 1
}

/// Art. 20: a record of `record_year` makes up `deferred_year` only if
/// that is the year before its own.
pub fn makes_up(record_year: i32, deferred_year: i32) -> Result<(), Refusal> {
    if deferred_year == made_up_by(record_year) {
        Ok(())
    } else {
        Err(Refusal::WrongYear {
            record_year,
            can_make_up: made_up_by(record_year),
        })
    }
}

/// Art. 20: only a year with a certified deferral is made up.
pub fn deferred(year: i32, certified: bool) -> Result<(), Refusal> {
    if certified {
        Ok(())
    } else {
        Err(Refusal::NotDeferred { year })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_deferral_states_a_special_reason_and_explains_another() {
        assert_eq!(reason_given(None, "flood"), Err(Refusal::NoReason));
        assert_eq!(reason_given(Some(Reason::Illness), ""), Ok(()));
        assert_eq!(
            reason_given(Some(Reason::Other), "  "),
            Err(Refusal::Unexplained)
        );
        assert_eq!(reason_given(Some(Reason::Other), "flood"), Ok(()));
        assert_eq!(Refusal::Unexplained.articles(), &[ART_20]);
    }

    #[test]
    fn only_governed_years_up_to_this_one_are_deferred() {
        let today = date!(2027 - 03 - 01);
        assert_eq!(deferrable_year(2026, today), Ok(()));
        assert_eq!(deferrable_year(2027, today), Ok(()));
        let refused = deferrable_year(2025, today).unwrap_err();
        assert_eq!(
            refused,
            Refusal::Year {
                first: 2026,
                last: 2027
            }
        );
        assert_eq!(refused.articles(), &[ART_31]);
        assert!(deferrable_year(2028, today).is_err());
    }

    #[test]
    fn only_the_engineers_own_employer_certifies() {
        assert_eq!(certified_by_employer(false), Err(Refusal::NotAnEmployer));
        assert_eq!(certified_by_employer(true), Ok(()));
        assert_eq!(certifies(Some("employers/a"), Some("employers/a")), Ok(()));
        assert_eq!(
            certifies(Some("employers/a"), Some("employers/b")),
            Err(Refusal::NotOwnEmployer)
        );
        assert_eq!(
            certifies(None, Some("employers/a")),
            Err(Refusal::NotOwnEmployer)
        );
        assert_eq!(certifies(None, None), Err(Refusal::NotOwnEmployer));
    }

    #[test]
    fn a_record_makes_up_only_the_year_before_its_own_if_deferred() {
        assert_eq!(made_up_by(2027), 2026);
        assert_eq!(makes_up(2027, 2026), Ok(()));
        assert_eq!(
            makes_up(2028, 2026),
            Err(Refusal::WrongYear {
                record_year: 2028,
                can_make_up: 2027
            })
        );
        assert!(makes_up(2026, 2026).is_err());
        assert_eq!(designated_by_engineer(false), Err(Refusal::NotOwnRecord));
        assert_eq!(
            deferred(2026, false),
            Err(Refusal::NotDeferred { year: 2026 })
        );
        assert_eq!(deferred(2026, true), Ok(()));
    }
}
