//! Evidence of online training as xAPI statements (Art. 13, 18(2)).
//!
//! Art. 13 requires online providers to track attendance, and Art. 18(2)
//! credits online training at its real, verified hours. A provider's
//! learning record store (xAPI 1.0.3, IEEE 9274.1.1) holds that tracking as
//! statements; the ones that evidence time are those with the ADL verbs
//! [`attended`](ATTENDED) and [`completed`](COMPLETED) and a
//! `result.duration`. [`parse_statement`] reads one statement into a
//! [`Session`]; [`verified_hours`] is the time a set of sessions covers,
//! time they share counted once.
//!
//! # Interpretation
//!
//! - **A statement's `timestamp` is when its session ended.** The xAPI text
//!   says only that the timestamp is when the experience occurred
//!   (adlnet/xAPI-Spec#337 leaves start or end open); attended and
//!   completed statements are past tense and emitted when the session is
//!   over, so the session is `[timestamp − duration, timestamp]`.
//! - The timestamp must carry its UTC offset (`Z` or `+08:00`): without it
//!   the day it records is unknown. `stored` (when the LRS received it) is
//!   not used.
//! - Durations are ISO 8601 durations of days, hours, minutes and seconds
//!   (`PT1H30M`, `PT45M10.5S`, `P1DT2H`), a day being 24 hours; a decimal
//!   fraction is allowed on the last component. Years, months and weeks are
//!   refused: they have no fixed length. A zero or negative duration is
//!   refused: it is no evidence of time.
//! - Statements with any other verb (`experienced`, `launched`, `passed`,
//!   ...) are ignored: they evidence no length of time. Voiding is left to
//!   the LRS, whose statement queries leave voided statements out.
//! - Overlapping sessions (two tabs, a `completed` statement whose duration
//!   spans earlier `attended` ones) count once: the credited time is the
//!   length of the union of the sessions, rounded *down* to the hundredth
//!   of an hour, so no unverified second is ever credited.
//! - Crediting ([`crate::credit()`]) refuses a session outside its record's
//!   study period, from `start` 00:00 to the day after `end` 00:00, China
//!   Standard Time ([`study_period`]).
//!
//! ```
//! use ce_rules::Hours;
//! use ce_rules::xapi::{parse_statement, verified_hours, Verb};
//!
//! let s = parse_statement(r#"{
//!     "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
//!     "actor": { "mbox": "mailto:engineer@example.com" },
//!     "verb": { "id": "http://adlnet.gov/expapi/verbs/attended" },
//!     "object": { "id": "https://learn.example.com/courses/bim-101" },
//!     "result": { "duration": "PT1H30M" },
//!     "timestamp": "2026-03-01T21:30:00+08:00"
//! }"#).unwrap().unwrap();
//! assert_eq!(s.verb, Verb::Attended);
//! assert_eq!(s.start.to_string(), "2026-03-01 20:00:00.0 +08:00:00");
//! assert_eq!(verified_hours(&[s]), Hours::from_centi(150));
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::hours::Hours;

/// The ADL verb IRI for attending a session.
pub const ATTENDED: &str = "http://adlnet.gov/expapi/verbs/attended";
/// The ADL verb IRI for completing an activity.
pub const COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";

/// UTC+08:00, the time the study period's days are counted in
/// ([`crate::dates::CST`]).
pub const CHINA_STANDARD_TIME: UtcOffset = crate::dates::CST;

/// A verb whose statements evidence a length of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    /// `http://adlnet.gov/expapi/verbs/attended`
    Attended,
    /// `http://adlnet.gov/expapi/verbs/completed`
    Completed,
}

impl Verb {
    /// The verb's ADL IRI.
    pub const fn iri(self) -> &'static str {
        match self {
            Verb::Attended => ATTENDED,
            Verb::Completed => COMPLETED,
        }
    }

    /// The verb with this IRI (compared exactly), if it evidences time.
    pub fn from_iri(iri: &str) -> Option<Verb> {
        match iri {
            ATTENDED => Some(Verb::Attended),
            COMPLETED => Some(Verb::Completed),
            _ => None,
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verb::Attended => "attended",
            Verb::Completed => "completed",
        })
    }
}

/// One tracked session of online study: `[start, end]`, from one
/// statement. `end` is the statement's timestamp and `end = start +
/// duration`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Session {
    /// The statement's `id` (a UUID), empty if it had none.
    pub statement_id: String,
    pub verb: Verb,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

impl Session {
    /// `end − start`: the statement's `result.duration`.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// A statement that cannot evidence online study: the property at fault
/// (`result.duration`, `timestamp`, ...; `statement` for the whole) and
/// why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "xAPI statement {path}: {message} (Art. 13: online hours must be verified by attendance tracking)"
)]
pub struct XapiError {
    /// The property at fault, dotted: `result.duration`.
    pub path: String,
    pub message: String,
}

fn error(path: &str, message: impl Into<String>) -> XapiError {
    XapiError {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Reads one xAPI statement (JSON). `Ok(None)` for a statement whose verb
/// is neither attended nor completed: it evidences no time and is ignored.
/// A counting statement needs a `timestamp` with its UTC offset and a
/// positive `result.duration`; the session it evidences ends at the
/// timestamp. `id`, if present, must be a UUID.
pub fn parse_statement(json: &str) -> Result<Option<Session>, XapiError> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| error("statement", format!("is not valid JSON: {e}")))?;
    let statement = value
        .as_object()
        .ok_or_else(|| error("statement", "is not a JSON object"))?;

    let verb = object(statement, "verb", "verb")?.ok_or_else(|| error("verb", "is required"))?;
    let verb_id = string(verb, "id", "verb.id")?.ok_or_else(|| error("verb.id", "is required"))?;
    let Some(verb) = Verb::from_iri(verb_id) else {
        return Ok(None);
    };

    let statement_id = match string(statement, "id", "id")? {
        Some(id) if is_uuid(id) => id.to_owned(),
        Some(id) => return Err(error("id", format!("`{id}` is not a UUID"))),
        None => String::new(),
    };

    let timestamp = string(statement, "timestamp", "timestamp")?.ok_or_else(|| {
        error(
            "timestamp",
            format!("is required for a `{verb}` statement: it places the session in time"),
        )
    })?;
    let end = parse_timestamp(timestamp)?;

    let result = object(statement, "result", "result")?.ok_or_else(|| {
        error(
            "result",
            format!("is required for a `{verb}` statement: its duration is the time studied"),
        )
    })?;
    let text = string(result, "duration", "result.duration")?.ok_or_else(|| {
        error(
            "result.duration",
            format!("is required for a `{verb}` statement: it is the time studied"),
        )
    })?;
    let duration =
        parse_duration(text).map_err(|m| error("result.duration", format!("`{text}` {m}")))?;
    let start = end.checked_sub(duration).ok_or_else(|| {
        error(
            "result.duration",
            format!("`{text}` reaches back before any representable date"),
        )
    })?;
    Ok(Some(Session {
        statement_id,
        verb,
        start,
        end,
    }))
}

/// The time `sessions` cover, time covered by more than one counted once,
/// in hours rounded down to the hundredth. A session that does not end
/// after it starts covers nothing.
///
/// ```
/// use ce_rules::Hours;
/// use ce_rules::xapi::{verified_hours, Session, Verb};
/// use time::macros::datetime;
///
/// let s = |start, end| Session { statement_id: String::new(), verb: Verb::Attended, start, end };
/// // 09:00-11:00 and 10:00-12:00 overlap: 3 hours, not 4.
/// let sessions = [
///     s(datetime!(2026-03-01 09:00 +8), datetime!(2026-03-01 11:00 +8)),
///     s(datetime!(2026-03-01 10:00 +8), datetime!(2026-03-01 12:00 +8)),
/// ];
/// assert_eq!(verified_hours(&sessions), Hours::whole(3));
/// ```
pub fn verified_hours(sessions: &[Session]) -> Hours {
    let nanos: i128 = union(sessions)
        .iter()
        .map(|(s, e)| (*e - *s).whole_nanoseconds())
        .sum();
    centi_hours_down(nanos)
}

/// The verified hours of each day (China Standard Time) the sessions
/// touch, each day's union of time rounded down to the hundredth: the
/// exact per-day figures the overlap signal uses.
pub(crate) fn verified_hours_by_day(sessions: &[Session]) -> Vec<(Date, Hours)> {
    let mut days: BTreeMap<Date, i128> = BTreeMap::new();
    for (start, end) in union(sessions) {
        let mut from = start.to_offset(CHINA_STANDARD_TIME);
        let end = end.to_offset(CHINA_STANDARD_TIME);
        while from < end {
            let day = from.date();
            let midnight = day
                .next_day()
                .map(|d| d.midnight().assume_offset(CHINA_STANDARD_TIME));
            let to = midnight.map_or(end, |m| m.min(end));
            *days.entry(day).or_default() += (to - from).whole_nanoseconds();
            from = to;
            if midnight.is_none() {
                break;
            }
        }
    }
    days.into_iter()
        .map(|(d, n)| (d, centi_hours_down(n)))
        .collect()
}

/// The study period of an online record studied from `start` to `end`
/// (inclusive days): from `start` 00:00 to the day after `end` 00:00, China
/// Standard Time. Every session of the record must lie within it.
pub fn study_period(start: Date, end: Date) -> (OffsetDateTime, OffsetDateTime) {
    let from = start.midnight().assume_offset(CHINA_STANDARD_TIME);
    let to = end.midnight().assume_offset(CHINA_STANDARD_TIME);
    (from, to.checked_add(Duration::DAY).unwrap_or(to))
}

/// The sessions' intervals, merged: sorted, disjoint, none empty.
fn union(sessions: &[Session]) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let mut intervals: Vec<(OffsetDateTime, OffsetDateTime)> = sessions
        .iter()
        .filter(|s| s.end > s.start)
        .map(|s| (s.start, s.end))
        .collect();
    intervals.sort();
    let mut merged: Vec<(OffsetDateTime, OffsetDateTime)> = Vec::with_capacity(intervals.len());
    for (s, e) in intervals {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// One hundredth of an hour is 36 seconds.
const NANOS_PER_CENTI_HOUR: i128 = 36 * 1_000_000_000;

fn centi_hours_down(nanos: i128) -> Hours {
    let centi = (nanos.max(0) / NANOS_PER_CENTI_HOUR).min(i128::from(u32::MAX));
    Hours::from_centi(u32::try_from(centi).unwrap_or(u32::MAX))
}

fn object<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, XapiError> {
    match parent.get(key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(error(path, "must be a JSON object")),
    }
}

fn string<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, XapiError> {
    match parent.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(error(path, "must be a string")),
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// RFC 3339, or another ISO 8601 date-time with its UTC offset.
fn parse_timestamp(text: &str) -> Result<OffsetDateTime, XapiError> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
    {
        return Ok(t);
    }
    let message = if PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).is_ok() {
        format!(
            "`{text}` has no UTC offset (`Z` or `+08:00`): the moment it records, and so its day, is unknown"
        )
    } else {
        format!("`{text}` is not an RFC 3339 date-time, as in `2026-03-01T21:30:00+08:00`")
    };
    Err(error("timestamp", message))
}

/// What a text that is not an ISO 8601 duration is told.
const NOT_A_DURATION: &str = "is not an ISO 8601 duration such as `PT1H30M` or `P1DT2H`";

/// An ISO 8601 duration of days, hours, minutes and seconds; the message
/// completes "`text` ...".
fn parse_duration(text: &str) -> Result<Duration, String> {
    const NOT: &str = NOT_A_DURATION;
    if text.starts_with('-') {
        return Err("is negative: a session cannot last less than no time".into());
    }
    let body = text.strip_prefix('P').ok_or(NOT)?;
    let parts = duration_components(body)?;
    if parts.is_empty() {
        return Err(format!("{NOT}: it has no days, hours, minutes or seconds"));
    }
    if parts[..parts.len() - 1].iter().any(|p| !p.1.is_empty()) {
        return Err(format!(
            "{NOT}: only its last component may have a decimal fraction"
        ));
    }
    let too_long = || "is too long to be a session".to_owned();
    let total = duration_nanos(parts)?;
    if total == 0 {
        return Err("is zero: a session of no time is no evidence of study".into());
    }
    let seconds = i64::try_from(total / NANOS).map_err(|_| too_long())?;
    let nanos = i32::try_from(total % NANOS).map_err(|_| too_long())?;
    Ok(Duration::new(seconds, nanos))
}

/// Nanoseconds in a second.
const NANOS: u128 = 1_000_000_000;

/// The components of a duration after its `P`: (integer digits, fraction
/// digits, seconds per unit) of each, in order; only units of a fixed
/// length (days, hours, minutes, seconds) are accepted.
fn duration_components(body: &str) -> Result<Vec<(&str, &str, u128)>, String> {
    const NOT: &str = NOT_A_DURATION;
    let (date_part, time_part) = match body.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    if time_part == Some("") {
        return Err(format!(
            "{NOT}: `T` is followed by no hours, minutes or seconds"
        ));
    }
    // (integer digits, fraction digits, seconds per unit) of each component.
    let mut parts: Vec<(&str, &str, u128)> = Vec::new();
    // Each designator with its rank (the order they must come in) and its
    // seconds (0: no fixed length).
    let mut rank = 0u8;
    for (part, designators) in [
        (
            date_part,
            &[
                ('Y', 0u8, 0u128),
                ('M', 1, 0),
                ('W', 2, 0),
                ('D', 3, 86_400),
            ][..],
        ),
        (
            time_part.unwrap_or(""),
            &[('H', 4u8, 3_600u128), ('M', 5, 60), ('S', 6, 1)][..],
        ),
    ] {
        let mut rest = part;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
                .ok_or_else(|| format!("{NOT}: `{rest}` has no unit designator"))?;
            let (number, tail) = rest.split_at(digits);
            let mut chars = tail.chars();
            let designator = chars.next().unwrap_or(' ');
            rest = chars.as_str();
            let &(_, r, unit) = designators
                .iter()
                .find(|(d, _, _)| *d == designator)
                .ok_or_else(|| format!("{NOT}: `{designator}` is not a unit here"))?;
            if r < rank {
                return Err(format!("{NOT}: its components are out of order"));
            }
            rank = r + 1;
            if unit == 0 {
                let what = match designator {
                    'Y' => "years",
                    'M' => "months",
                    _ => "weeks",
                };
                return Err(format!(
                    "counts {what}, which have no fixed length: give days, hours, minutes and seconds, as in `P1DT2H`"
                ));
            }
            let (int, frac) = duration_number(number)?;
            parts.push((int, frac, unit));
        }
    }
    Ok(parts)
}

/// A component's number: digits, then optionally `.` or `,` and at least
/// one digit; its integer and fraction digits.
fn duration_number(number: &str) -> Result<(&str, &str), String> {
    const NOT: &str = NOT_A_DURATION;
    let (int, frac) = match number.split_once(['.', ',']) {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => ("", ""),
        None => (number, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return Err(format!("{NOT}: `{number}` is not a number"));
    }
    Ok((int, frac))
}

/// The nanoseconds of a duration's components, fractions finer than a
/// nanosecond dropped (rounded down).
fn duration_nanos(parts: Vec<(&str, &str, u128)>) -> Result<u128, String> {
    let too_long = || "is too long to be a session".to_owned();
    let mut total: u128 = 0;
    for (int, frac, unit) in parts {
        let significant = int.trim_start_matches('0');
        let whole: u128 = if significant.is_empty() {
            0
        } else {
            significant.parse().map_err(|_| too_long())?
        };
        // Fractions finer than a nanosecond are dropped (rounded down).
        let frac = &frac[..frac.len().min(18)];
        let scale = 10u128.pow(frac.len() as u32);
        let fraction: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| too_long())?
        };
        let nanos = whole
            .checked_mul(unit * NANOS)
            .and_then(|n| n.checked_add(fraction * unit * NANOS / scale))
            .ok_or_else(too_long)?;
        total = total.checked_add(nanos).ok_or_else(too_long)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> Result<f64, String> {
        parse_duration(text).map(|d| d.as_seconds_f64())
    }

    #[test]
    fn durations_of_days_hours_minutes_and_seconds() {
        assert_eq!(secs("PT1H30M"), Ok(5_400.0));
        assert_eq!(secs("PT45M10.5S"), Ok(2_710.5));
        assert_eq!(secs("PT45M10,5S"), Ok(2_710.5));
        assert_eq!(secs("P1DT2H"), Ok(93_600.0));
        assert_eq!(secs("P1D"), Ok(86_400.0));
        assert_eq!(secs("PT1.5H"), Ok(5_400.0));
        assert_eq!(secs("PT0H0M0.01S"), Ok(0.01));
        assert_eq!(secs("PT1234S"), Ok(1_234.0));
        assert_eq!(
            secs("PT0.0000000001S").unwrap_err(),
            "is zero: a session of no time is no evidence of study"
        );
        for bad in [
            "",
            "P",
            "PT",
            "1H",
            "PT1H30",
            "PTH",
            "PT.5H",
            "PT1.H",
            "PT1.5H30M",
            "PT30M1H",
            "PT1X",
            "P1H",
            "pt1h",
            "PT1H1H",
            "P1DT",
            "PT1:30",
        ] {
            assert!(secs(bad).is_err(), "{bad}");
        }
        assert!(secs("P1Y").unwrap_err().contains("years"));
        assert!(secs("P2M").unwrap_err().contains("months"));
        assert!(secs("P1W").unwrap_err().contains("weeks"));
        assert!(secs("-PT1H").unwrap_err().contains("negative"));
        assert!(secs("PT0S").unwrap_err().contains("zero"));
        assert!(
            secs("PT99999999999999999999999999999999999999H")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn days_are_split_at_midnight_china_standard_time() {
        use time::macros::{date, datetime};
        let s = |start, end| Session {
            statement_id: String::new(),
            verb: Verb::Attended,
            start,
            end,
        };
        // 22:00 to 02:00 China time, given in UTC; and 01:00-01:30 inside it.
        let by_day = verified_hours_by_day(&[
            s(
                datetime!(2026-03-03 14:00 UTC),
                datetime!(2026-03-03 18:00 UTC),
            ),
            s(
                datetime!(2026-03-04 01:00 +8),
                datetime!(2026-03-04 01:30 +8),
            ),
        ]);
        assert_eq!(
            by_day,
            vec![
                (date!(2026 - 03 - 03), Hours::whole(2)),
                (date!(2026 - 03 - 04), Hours::whole(2)),
            ]
        );
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("6690e6c9-3ef0-4ed3-8b37-7f3964730bee"));
        assert!(!is_uuid("6690e6c9-3ef0-4ed3-8b37-7f3964730be"));
        assert!(!is_uuid("6690e6c9x3ef0-4ed3-8b37-7f3964730bee"));
    }
}
