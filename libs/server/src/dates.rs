//! Calendar dates: stored as ISO 8601 text, carried as `google.type.Date`,
//! and "today" taken in China Standard Time (UTC+8), the regulation's clock.

use ce_proto::google::r#type::Date as ProtoDate;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime};

/// `YYYY-MM-DD`, as parsed: a month or day of one digit is read too, as
/// it always was (`2026-3-1`).
pub const YYYY_MM_DD: &[BorrowedFormatItem<'static>] =
    format_description!("[year padding:none]-[month padding:none]-[day padding:none]");

/// Parses `YYYY-MM-DD`.
pub fn parse(s: &str) -> Result<Date, String> {
    Date::parse(s, YYYY_MM_DD).map_err(|_| format!("{s} is not a date (YYYY-MM-DD)"))
}

/// Formats as `YYYY-MM-DD`, the stored form (sorts as text).
pub fn format(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A full date from the wire; a missing or partial one is an error.
pub fn from_proto(d: Option<&ProtoDate>) -> Result<Date, String> {
    let d = d.ok_or_else(|| "is required".to_owned())?;
    let month = u8::try_from(d.month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| format!("month {} is not 1-12", d.month))?;
    let day = u8::try_from(d.day).map_err(|_| format!("day {} is not valid", d.day))?;
    Date::from_calendar_date(d.year, month, day)
        .map_err(|_| format!("{}-{}-{} is not a calendar date", d.year, d.month, d.day))
}

pub fn to_proto(d: Date) -> ProtoDate {
    ProtoDate {
        year: d.year(),
        month: i32::from(u8::from(d.month())),
        day: i32::from(d.day()),
    }
}

/// Stored text back to the wire form; stored text is always valid.
pub fn text_to_proto(s: &str) -> Option<ProtoDate> {
    parse(s).ok().map(to_proto)
}

/// A service's "today" (China Standard Time): the real one in production,
/// a fixed day in tests, so date-dependent rules give the same answer
/// whenever the tests run.
#[derive(Clone)]
pub struct Clock(std::sync::Arc<dyn Fn() -> Date + Send + Sync>);

impl Clock {
    /// The day it is now, by this clock.
    pub fn today(&self) -> Date {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", format(self.today()))
    }
}

/// The real clock: [`today`].
pub fn system_clock() -> Clock {
    Clock(std::sync::Arc::new(today))
}

/// A clock that always answers `day`.
pub fn fixed_clock(day: Date) -> Clock {
    Clock(std::sync::Arc::new(move || day))
}

/// Today in China Standard Time ([`ce_rules::dates::CST`]).
pub fn today() -> Date {
    ce_rules::dates::date_of(OffsetDateTime::now_utc())
}

/// Microseconds since the epoch as a protobuf timestamp.
pub fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_iso_dates_and_names_what_it_refuses() {
        let day = Date::from_calendar_date(2026, Month::March, 1).ok();
        assert_eq!(parse("2026-03-01").ok(), day);
        assert_eq!(parse("2026-3-1").ok(), day);
        assert_eq!(
            format(parse("1988-06-12").unwrap_or(Date::MIN)),
            "1988-06-12"
        );
        for bad in [
            "",
            "2026",
            "2026-03",
            "2026-03-01x",
            "2026-13-01",
            "2026-02-30",
            "2026/03/01",
            "2026-03-01-01",
            " 2026-03-01",
            "twenty",
        ] {
            assert_eq!(
                parse(bad),
                Err(format!("{bad} is not a date (YYYY-MM-DD)")),
                "{bad}"
            );
        }
    }
}
