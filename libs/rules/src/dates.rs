//! The regulation's clock: China Standard Time (UTC+08:00), in which an
//! instant becomes a day and a year. Every service turns its instants into
//! dates through these, so no two parts disagree about a midnight.

use time::{Date, OffsetDateTime, UtcOffset};

/// China Standard Time, UTC+08:00.
pub const CST: UtcOffset = time::macros::offset!(+8);

/// The day (China Standard Time) an instant falls on.
pub fn date_of(t: OffsetDateTime) -> Date {
    t.to_offset(CST).date()
}

/// The first instant of a day in China Standard Time.
pub fn midnight(d: Date) -> OffsetDateTime {
    d.midnight().assume_offset(CST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_day_begins_at_midnight_in_china() {
        assert_eq!(
            date_of(datetime!(2026-12-31 15:59:59 UTC)),
            date!(2026 - 12 - 31)
        );
        assert_eq!(
            date_of(datetime!(2026-12-31 16:00:00 UTC)),
            date!(2027 - 01 - 01)
        );
        assert_eq!(
            midnight(date!(2027 - 01 - 01)),
            datetime!(2026-12-31 16:00:00 UTC)
        );
        assert_eq!(
            date_of(midnight(date!(2026 - 03 - 01))),
            date!(2026 - 03 - 01)
        );
    }
}
