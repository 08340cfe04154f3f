//! Closing a year (Art. 18-20): the state of a year once a year has ended,
//! from the state stored while it was open.
//!
//! Statuses are exact after every write: each write reassesses its year.
//! What changes when a year ends is only the state of the years still
//! open. The year that ended stops being in progress: it is non-compliant,
//! or deferred (or already made up) where the employer certified a
//! deferral. The year before it, if it was deferred, is now out of
//! make-up time: non-compliant. Every other state stays as it is. A close
//! can therefore apply [`after_year_end`] to the stored verdicts instead of
//! reassessing every year from its records; a property test checks that
//! the two agree.

use crate::assessment::{Shortfall, Status};
use crate::hours::Hours;

/// The state of `year` once the year `ended` is over (and until the one
/// after it is over too), given the state stored for it before, whether
/// its employer certified a deferral, and its shortfall with make-up hours
/// counted (Art. 18-20).
pub fn after_year_end(
    stored: Status,
    year: i32,
    ended: i32,
    deferred: bool,
    shortfall: &Shortfall,
) -> Status {
    match stored {
        // Not over before, over now (Art. 18): short on its own hours.
        Status::InProgress if year == ended => {
            if !deferred {
                Status::NonCompliant
            } else if met(shortfall) {
                // Make-up hours designated early already meet it (Art. 20).
                Status::MadeUp
            } else {
                Status::Deferred
            }
        }
        // The make-up year is over without the hours (Art. 20).
        Status::Deferred if year + 1 == ended => Status::NonCompliant,
        other => other,
    }
}

/// Whether the year's hours, make-up included, meet every requirement:
/// nothing is short.
fn met(shortfall: &Shortfall) -> bool {
    shortfall.total <= Hours::ZERO
        && shortfall.professional <= Hours::ZERO
        && shortfall.public <= Hours::ZERO
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(total: i32) -> Shortfall {
        let whole = Hours::whole(total.unsigned_abs());
        Shortfall {
            total: if total < 0 {
                Hours::ZERO - whole
            } else {
                whole
            },
            professional: Hours::ZERO,
            public: Hours::ZERO,
        }
    }

    #[test]
    fn the_year_that_ended_is_non_compliant_deferred_or_made_up() {
        let s = Status::InProgress;
        assert_eq!(
            after_year_end(s, 2026, 2026, false, &short(10)),
            Status::NonCompliant
        );
        assert_eq!(
            after_year_end(s, 2026, 2026, true, &short(10)),
            Status::Deferred
        );
        assert_eq!(
            after_year_end(s, 2026, 2026, true, &short(0)),
            Status::MadeUp
        );
        assert_eq!(
            after_year_end(s, 2026, 2026, true, &short(-5)),
            Status::MadeUp
        );
    }

    #[test]
    fn a_deferred_year_is_non_compliant_once_its_make_up_year_ends() {
        let s = Status::Deferred;
        assert_eq!(
            after_year_end(s, 2026, 2027, true, &short(10)),
            Status::NonCompliant
        );
        assert_eq!(
            after_year_end(s, 2026, 2026, true, &short(10)),
            Status::Deferred
        );
        assert_eq!(
            after_year_end(s, 2026, 2028, true, &short(10)),
            Status::Deferred
        );
    }

    #[test]
    fn every_other_state_stays() {
        for s in [Status::Compliant, Status::MadeUp, Status::NonCompliant] {
            for (year, ended) in [(2026, 2026), (2026, 2027), (2027, 2026)] {
                assert_eq!(after_year_end(s, year, ended, true, &short(10)), s);
            }
        }
        // A year not yet over stays in progress when an earlier one ends.
        assert_eq!(
            after_year_end(Status::InProgress, 2027, 2026, false, &short(10)),
            Status::InProgress
        );
    }
}
