//! An institution's standing over time (Art. 16, 25, 26): pure functions
//! over its history of dated decisions, deciding what it means on a day.
//! The registry keeps the history; the registry (publishing activities) and
//! crediting (accepting hours) both ask these.

use time::Date;

/// An institution's standing (Art. 16, 25, 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    Active,
    Warned,
    RectificationOrdered,
    /// May not provide continuing education while it lasts (Art. 26).
    Suspended,
    /// May no longer provide continuing education (Art. 26).
    Disqualified,
}

impl Standing {
    /// The standing in words, as messages use it.
    pub fn describe(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Warned => "warned",
            Standing::RectificationOrdered => "ordered to rectify",
            Standing::Suspended => "suspended",
            Standing::Disqualified => "disqualified",
        }
    }
}

/// One recorded change: from `effective` on, the institution has `standing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub effective: Date,
    pub standing: Standing,
}

/// The first disqualification in `history`: the earliest effective, of
/// those the same day the one recorded first.
fn disqualification(history: &[Change]) -> Option<Change> {
    history
        .iter()
        .enumerate()
        .filter(|(_, c)| c.standing == Standing::Disqualified)
        .min_by_key(|(i, c)| (c.effective, *i))
        .map(|(_, c)| *c)
}

/// The standing on `day`: the change with the latest effective date on or
/// before `day`; of changes effective the same day, the one recorded last.
/// A backdated decision governs from its date until the next later-dated
/// one, so it can never silently lift a sanction that takes effect after
/// it. `history` is in recorded order.
///
/// Art. 26: disqualification is final. From its effective date nothing
/// else applies, so a reinstatement dated after it (the automatic return
/// to active at the end of an earlier suspension, say) changes nothing.
pub fn on(history: &[Change], day: Date) -> Option<Change> {
    if let Some(d) = disqualification(history).filter(|d| d.effective <= day) {
        return Some(d);
    }
    history
        .iter()
        .enumerate()
        .filter(|(_, c)| c.effective <= day)
        .max_by_key(|(i, c)| (c.effective, *i))
        .map(|(_, c)| *c)
}

/// The first date after `day` on which a recorded change takes effect.
/// Changes dated after a disqualification never take effect (Art. 26).
pub fn next_change_after(history: &[Change], day: Date) -> Option<Date> {
    let last = disqualification(history).map(|d| d.effective);
    history
        .iter()
        .map(|c| c.effective)
        .filter(|d| *d > day && last.is_none_or(|l| *d <= l))
        .min()
}

/// Whether a standing bars the institution from providing continuing
/// education (Art. 26: suspension, disqualification).
pub fn bars_activities(s: Standing) -> bool {
    matches!(s, Standing::Suspended | Standing::Disqualified)
}

/// The first day in `start..=end` on which the institution is barred, with
/// the change that bars it.
pub fn first_barred_day(history: &[Change], start: Date, end: Date) -> Option<(Date, Change)> {
    // The standing only changes at `start` and at effective dates inside the span.
    let mut days: Vec<Date> = std::iter::once(start)
        .chain(
            history
                .iter()
                .map(|c| c.effective)
                .filter(|d| *d > start && *d <= end),
        )
        .collect();
    days.sort();
    days.into_iter().find_map(|d| {
        on(history, d)
            .filter(|c| bars_activities(c.standing))
            .map(|c| (d, c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn c(effective: Date, standing: Standing) -> Change {
        Change {
            effective,
            standing,
        }
    }

    #[test]
    fn the_standing_on_a_day_is_the_latest_change_in_effect() {
        let h = [
            c(date!(2026 - 01 - 01), Standing::Active),
            c(date!(2026 - 03 - 01), Standing::Suspended),
            c(date!(2026 - 06 - 01), Standing::Active),
        ];
        assert_eq!(on(&h, date!(2025 - 12 - 31)), None);
        assert_eq!(
            on(&h, date!(2026 - 02 - 28)).map(|c| c.standing),
            Some(Standing::Active)
        );
        assert_eq!(
            on(&h, date!(2026 - 03 - 01)).map(|c| c.standing),
            Some(Standing::Suspended)
        );
        assert_eq!(
            on(&h, date!(2026 - 07 - 01)).map(|c| c.standing),
            Some(Standing::Active)
        );
        assert_eq!(
            next_change_after(&h, date!(2026 - 03 - 15)),
            Some(date!(2026 - 06 - 01))
        );
    }

    #[test]
    fn a_backdated_decision_cannot_lift_a_later_sanction() {
        let h = [
            c(date!(2026 - 01 - 01), Standing::Active),
            c(date!(2026 - 06 - 01), Standing::Suspended),
            // Recorded later, backdated to March: governs March to May only.
            c(date!(2026 - 03 - 01), Standing::Warned),
        ];
        assert_eq!(
            on(&h, date!(2026 - 04 - 01)).map(|c| c.standing),
            Some(Standing::Warned)
        );
        assert_eq!(
            on(&h, date!(2026 - 07 - 01)).map(|c| c.standing),
            Some(Standing::Suspended)
        );
        assert_eq!(
            first_barred_day(&h, date!(2026 - 06 - 15), date!(2026 - 06 - 16)).map(|(d, _)| d),
            Some(date!(2026 - 06 - 15))
        );
        assert_eq!(on(&h, date!(2025 - 12 - 31)), None);
    }

    #[test]
    fn a_later_record_for_the_same_day_wins() {
        let h = [
            c(date!(2026 - 01 - 01), Standing::Active),
            c(date!(2026 - 05 - 01), Standing::Warned),
            c(date!(2026 - 05 - 01), Standing::Disqualified),
        ];
        assert_eq!(
            on(&h, date!(2026 - 05 - 02)).map(|c| c.standing),
            Some(Standing::Disqualified)
        );
    }

    #[test]
    fn disqualification_is_final_whatever_is_dated_after_it() {
        // Suspended November to April, with the automatic return to active
        // for May; disqualified in December by a later decision.
        let h = [
            c(date!(2026 - 01 - 01), Standing::Active),
            c(date!(2026 - 11 - 01), Standing::Suspended),
            c(date!(2027 - 05 - 01), Standing::Active),
            c(date!(2026 - 12 - 01), Standing::Disqualified),
            // Recorded after the disqualification, for the same day.
            c(date!(2026 - 12 - 01), Standing::Warned),
        ];
        assert_eq!(
            on(&h, date!(2026 - 11 - 15)).map(|c| c.standing),
            Some(Standing::Suspended)
        );
        for day in [
            date!(2026 - 12 - 01),
            date!(2027 - 05 - 01),
            date!(2030 - 01 - 01),
        ] {
            assert_eq!(
                on(&h, day),
                Some(c(date!(2026 - 12 - 01), Standing::Disqualified)),
                "{day}"
            );
        }
        assert_eq!(
            next_change_after(&h, date!(2026 - 11 - 15)),
            Some(date!(2026 - 12 - 01))
        );
        assert_eq!(next_change_after(&h, date!(2026 - 12 - 01)), None);
        assert_eq!(
            first_barred_day(&h, date!(2027 - 05 - 03), date!(2027 - 05 - 04)),
            Some((
                date!(2027 - 05 - 03),
                c(date!(2026 - 12 - 01), Standing::Disqualified)
            ))
        );
    }

    #[test]
    fn an_activity_that_runs_into_a_suspension_is_barred_from_its_first_day() {
        let h = [
            c(date!(2026 - 01 - 01), Standing::Active),
            c(date!(2026 - 03 - 10), Standing::Suspended),
            c(date!(2026 - 04 - 10), Standing::Active),
        ];
        assert_eq!(
            first_barred_day(&h, date!(2026 - 03 - 01), date!(2026 - 03 - 05)),
            None
        );
        assert_eq!(
            first_barred_day(&h, date!(2026 - 03 - 08), date!(2026 - 03 - 12)).map(|(d, _)| d),
            Some(date!(2026 - 03 - 10))
        );
        assert_eq!(
            first_barred_day(&h, date!(2026 - 04 - 10), date!(2026 - 04 - 12)),
            None
        );
    }
}
