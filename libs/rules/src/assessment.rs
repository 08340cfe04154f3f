//! Assessing one engineer's year (Art. 18-20): totals by category, the cap
//! on converted hours, the 90/60 requirement, duplicates, deemed-complete
//! events, revoked records, no carry-over, and the Art. 20 make-up.
//!
//! The result does not depend on the order of the records: they are put in
//! a canonical order (date, then record id) before any rule that picks a
//! winner (duplicates, the daily and conversion caps) runs.

use std::fmt;

use time::{Date, Month};

use crate::activity::{Activity, AidKind, Category, Record};
use crate::article::{ART_18, ART_19, ART_20, Article};
use crate::credit::{Cut, credit};
use crate::error::InputError;
use crate::hours::Hours;
use crate::ruleset::RuleSet;
use crate::signals::{Signal, signals};

/// Why a year counts as complete whatever its hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeemedReason {
    /// A bachelor-or-higher degree earned after starting work (Art. 11(2), 18).
    Degree,
    /// A professional qualification certificate obtained (Art. 11(3), 18).
    Qualification,
    /// An aid assignment that overlaps the year (Art. 19).
    AidAssignment(AidKind),
}

impl DeemedReason {
    pub fn article(self) -> Article {
        match self {
            DeemedReason::Degree | DeemedReason::Qualification => ART_18,
            DeemedReason::AidAssignment(_) => ART_19,
        }
    }
}

/// The state of an engineer's year (`docs/product.md`, "Annual status").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The year is not over and the requirement is not met yet.
    InProgress,
    /// The requirement is met by the year's own hours.
    Compliant,
    /// Complete whatever the hours (Art. 18, 19).
    DeemedComplete(DeemedReason),
    /// Short, with an employer-certified deferral: make-up is open during
    /// the following year (Art. 20).
    Deferred,
    /// Short on its own, met with make-up hours from the following year
    /// (Art. 20).
    MadeUp,
    /// The year is over and the requirement is not met.
    NonCompliant,
}

impl Status {
    /// Whether the year is complete: compliant, deemed complete (Art. 18,
    /// 19) or made up (Art. 20). Art. 23 makes this a condition for a
    /// higher professional title.
    pub fn is_complete(self) -> bool {
        matches!(
            self,
            Status::Compliant | Status::DeemedComplete(_) | Status::MadeUp
        )
    }
}

/// Hours of the year by category. `total = public + professional`;
/// `converted` is the part of `professional` from forms 4-9.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub total: Hours,
    pub public: Hours,
    pub professional: Hours,
    pub converted: Hours,
}

/// What is missing to meet the requirement; zero when it is met or deemed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shortfall {
    pub total: Hours,
    pub professional: Hours,
    /// Only where the province sets a public-subject minimum (Art. 10).
    pub public: Hours,
}

/// Why one record earned what it earned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The record's id.
    pub record: String,
    /// The article and item that credit its kind of activity.
    pub article: Article,
    /// What it earned this year.
    pub hours: Hours,
    pub category: Category,
    /// Counted under the conversion cap (forms 4-9).
    pub converted: bool,
    /// Each cap or rule that cut it, in the order applied.
    pub cuts: Vec<Cut>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let category = match self.category {
            Category::Public => "public",
            Category::Professional => "professional",
        };
        write!(
            f,
            "record {}: {}: {} {category} hours",
            self.record, self.article, self.hours
        )?;
        if self.converted {
            write!(f, " (converted)")?;
        }
        for c in &self.cuts {
            write!(f, "; {c}")?;
        }
        Ok(())
    }
}

/// An employer's certificate that injury, illness, pregnancy or a similar
/// reason prevented completing the year (Art. 20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferral {
    pub reason: String,
    pub certified_by: String,
}

/// Everything needed to assess one year.
#[derive(Debug, Clone)]
pub struct YearInput<'a> {
    pub year: i32,
    /// The year's records. Those designated as make-up for the year before
    /// count here less what the year before used (Art. 20).
    pub records: &'a [Record],
    /// Records of the following year designated as make-up for this one.
    pub make_up: &'a [Record],
    /// The employer's certificate for this year, if any.
    pub deferral: Option<&'a Deferral>,
    /// For this year's records designated as make-up for the year before:
    /// the hours the year before credited to each (by record id), from its
    /// assessment. Only those hours are taken from this year; a designated
    /// record the year before did not use counts here in full.
    pub used_for_make_up: &'a [(String, Hours)],
    /// The day of the assessment: decides whether the year (and its make-up
    /// year) is over.
    pub as_of: Date,
}

/// The assessment of a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub year: i32,
    /// The rule set applied.
    pub rule_set: String,
    pub status: Status,
    pub totals: Totals,
    pub shortfall: Shortfall,
    /// One per record, own records first then make-up, each in date order.
    pub explanations: Vec<Explanation>,
    /// Signals of possible fraud for a person to look at (Art. 13, 27).
    pub signals: Vec<Signal>,
    /// Art. 21: the last day any of the year's hours may be registered;
    /// the year's figures and state are final after it.
    pub registration_closes: Date,
}

fn last_day(year: i32) -> Date {
    Date::from_calendar_date(year, Month::December, 31).unwrap_or(Date::MAX)
}

fn first_day(year: i32) -> Date {
    Date::from_calendar_date(year, Month::January, 1).unwrap_or(Date::MIN)
}

/// Art. 20: the first year whose assessment `year`'s depends on. A deferred
/// year is made up from records of the year after it, which then count in
/// their own year only for what the deferred year did not use; so a year
/// is assessed after the year before it whenever that one was deferred, and
/// that one after its own predecessor, back to the first year not deferred.
/// The regulation sets no limit on how many years in a row may be deferred
/// (each needs its employer's certificate), so the chain runs back as far as
/// the deferrals do, and no further than the regulation's first year
/// (Art. 31). `deferred(y)` says whether year `y` has a certified deferral.
pub fn make_up_chain_start<E>(
    year: i32,
    mut deferred: impl FnMut(i32) -> Result<bool, E>,
) -> Result<i32, E> {
    let mut start = year;
    while start > crate::ruleset::FIRST_YEAR && deferred(start - 1)? {
        start -= 1;
    }
    Ok(start)
}

/// Checks that a record belongs where it is put: hours count only in the
/// year they were earned (Art. 20), except designated make-up.
fn check_dates(r: &Record, year: i32, make_up: bool) -> Result<(), InputError> {
    let (from, to) = (first_day(year), last_day(year));
    let (first, last) = r.activity.span();
    let inside = match &r.activity {
        // Art. 19 interpretation: every year the assignment overlaps.
        Activity::AidAssignment { .. } => first <= to && last >= from,
        _ => first >= from && last <= to,
    };
    if inside {
        return Ok(());
    }
    // Training that starts in the year and runs past its end: the end is
    // what leaves the year.
    let span = r.activity.is_training().then_some((first, last));
    if !make_up
        && let Some((start, end)) = span
        && start >= from
        && start <= to
    {
        return Err(InputError::new(
            &r.id,
            "end",
            ART_20,
            format!(
                "runs from {start} to {end}, past the end of {year}: hours count only in the year they were \
                 earned, so register each year's days as a record of their own"
            ),
        ));
    }
    let message = if make_up {
        format!("a make-up record must be dated in {year}, the year after the one it makes up")
    } else {
        format!(
            "is outside {year}: hours count only in the year they were earned, never carried over"
        )
    };
    Err(InputError::new(&r.id, "date", ART_20, message))
}

/// A record ready for the year's rules.
struct Entry<'a> {
    record: &'a Record,
    make_up: bool,
    hours: Hours,
    category: Category,
    converted: bool,
    article: Article,
    cuts: Vec<Cut>,
}

impl Entry<'_> {
    /// What the entry earned and why, as the assessment shows it.
    fn explanation(self) -> Explanation {
        Explanation {
            record: self.record.id.clone(),
            article: self.article,
            hours: self.hours,
            category: self.category,
            converted: self.converted,
            cuts: self.cuts,
        }
    }

    /// The hours a face-to-face record credits on its `d`-th day: its total
    /// spread over its days to the hundredth, the first days taking the
    /// remainder, so the days add up to the total exactly.
    fn day_hours(&self, d: u16) -> Hours {
        match &self.record.activity {
            Activity::FaceToFace { days, .. } if *days > 0 => {
                let (n, total) = (u32::from(*days), self.hours.centi());
                Hours::from_centi(total / n + u32::from(u32::from(d) < total % n))
            }
            _ => Hours::ZERO,
        }
    }
}

/// Assesses one engineer's year under `rules`.
///
/// ```
/// use ce_rules::{assess, Activity, Category, Hours, Record, RuleSet, Status, YearInput};
/// use time::macros::date;
///
/// // docs/rules.md, worked example 1: a 3-day course of 10 hours a day earns 24.
/// let course = Record::new("c1", Activity::FaceToFace {
///     category: Category::Professional, start: date!(2026-03-02), days: 3,
///     hours_per_day: 10.0, provider: None,
/// });
/// let a = assess(&YearInput {
///     year: 2026, records: &[course], make_up: &[], used_for_make_up: &[], deferral: None, as_of: date!(2027-01-15),
/// }, &RuleSet::national()).unwrap();
/// assert_eq!(a.totals.professional, Hours::whole(24));
/// assert_eq!(a.status, Status::NonCompliant);
/// ```
pub fn assess(input: &YearInput, rules: &RuleSet) -> Result<Assessment, InputError> {
    let year = input.year;
    check_in_scope(year)?;
    let mut entries: Vec<Entry> = Vec::with_capacity(input.records.len() + input.make_up.len());
    own_entries(input, rules, &mut entries)?;
    make_up_entries(input, rules, &mut entries)?;
    canonical_order(&mut entries);

    let deemed = record_rules(&mut entries, input);
    remove_duplicates(&mut entries);
    cap_face_to_face_days(&mut entries, rules.maxima.face_to_face_per_day);
    cap_conversions(&mut entries, rules.maxima.conversion_total);

    let own = sum(&entries, true);
    let totals = sum(&entries, false);
    let status = status(deemed, &own, &totals, input, rules);
    let shortfall = shortfall(deemed, &totals, rules);
    let found = signals(input.records, rules);
    Ok(Assessment {
        year,
        rule_set: rules.id.clone(),
        status,
        totals,
        shortfall,
        explanations: entries.into_iter().map(Entry::explanation).collect(),
        signals: found,
        registration_closes: rules.registration_closes(year),
    })
}

/// Art. 31: the regulation assesses no year before it took effect.
fn check_in_scope(year: i32) -> Result<(), InputError> {
    if year < crate::ruleset::FIRST_YEAR {
        return Err(InputError::new(
            "",
            "year",
            crate::article::ART_31,
            format!(
                "{year} is before the regulation took effect on 2026-01-01; earlier years are out of scope"
            ),
        ));
    }
    Ok(())
}

/// Art. 20: the year's own records, each dated in the year and, if it is
/// designated as make-up, designated for the year before; credited on
/// their own (Art. 18).
fn own_entries<'a>(
    input: &YearInput<'a>,
    rules: &RuleSet,
    entries: &mut Vec<Entry<'a>>,
) -> Result<(), InputError> {
    let year = input.year;
    for r in input.records {
        check_dates(r, year, false)?;
        if let Some(y) = r.make_up_for
            && y != year - 1
        {
            return Err(InputError::new(
                &r.id,
                "make_up_for",
                ART_20,
                format!(
                    "a record of {year} can make up only {}, the year before",
                    year - 1
                ),
            ));
        }
        entries.push(entry(r, false, rules)?);
    }
    Ok(())
}

/// Art. 20: records of the following year that make this one up, only
/// with an employer-certified deferral, each dated in the following year
/// and designated for this one; credited on their own (Art. 18).
fn make_up_entries<'a>(
    input: &YearInput<'a>,
    rules: &RuleSet,
    entries: &mut Vec<Entry<'a>>,
) -> Result<(), InputError> {
    let year = input.year;
    if !input.make_up.is_empty() && input.deferral.is_none() {
        return Err(InputError::new(
            &input.make_up[0].id,
            "make_up_for",
            ART_20,
            format!("{year} has no employer-certified deferral, so nothing can make it up"),
        ));
    }
    for r in input.make_up {
        check_dates(r, year + 1, true)?;
        if r.make_up_for != Some(year) {
            return Err(InputError::new(
                &r.id,
                "make_up_for",
                ART_20,
                format!("is not designated as make-up for {year}"),
            ));
        }
        entries.push(entry(r, true, rules)?);
    }
    Ok(())
}

/// Canonical order: own records, then make-up; each by date, then id.
fn canonical_order(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        (a.make_up, a.record.activity.date(), &a.record.id).cmp(&(
            b.make_up,
            b.record.activity.date(),
            &b.record.id,
        ))
    });
}

/// The rules that look at one record in its year, in canonical order:
/// revoked records earn nothing (Art. 27), own records designated as
/// make-up count less what the year before used (Art. 20), and the first
/// degree, qualification or aid assignment among the own records makes the
/// year deemed complete (Art. 18, 19), which this returns.
fn record_rules(entries: &mut [Entry], input: &YearInput) -> Option<DeemedReason> {
    let mut deemed = None;
    for e in entries.iter_mut() {
        if e.record.revoked {
            zero(e, Cut::Revoked);
        } else if !e.make_up && e.record.make_up_for.is_some() {
            less_make_up_used(e, input.used_for_make_up, input.year);
        } else if !e.make_up {
            deemed = deemed.or(deemed_reason(&e.record.activity));
        }
    }
    deemed
}

/// Art. 20: hours used to make up the year before count there and not
/// here; whatever that year did not use still counts here.
fn less_make_up_used(e: &mut Entry, used_for_make_up: &[(String, Hours)], year: i32) {
    let used = used_for_make_up
        .iter()
        .find(|(id, _)| *id == e.record.id)
        .map_or(Hours::ZERO, |(_, h)| *h);
    if used >= e.hours {
        zero(e, Cut::MadeUpFor { year: year - 1 });
    } else if used > Hours::ZERO {
        e.hours = e.hours - used;
        e.cuts.push(Cut::MadeUpFor { year: year - 1 });
    }
}

/// Art. 18, 19: why an activity makes its year complete whatever the
/// hours, if it does.
fn deemed_reason(activity: &Activity) -> Option<DeemedReason> {
    match activity {
        Activity::Degree { .. } => Some(DeemedReason::Degree),
        Activity::Qualification { .. } => Some(DeemedReason::Qualification),
        Activity::AidAssignment { kind, .. } => Some(DeemedReason::AidAssignment(*kind)),
        _ => None,
    }
}

/// The hours by category of the entries, of the own records only or of
/// all with make-up.
fn sum(entries: &[Entry], own_only: bool) -> Totals {
    let mut t = Totals::default();
    for e in entries.iter().filter(|e| !own_only || !e.make_up) {
        match e.category {
            Category::Public => t.public += e.hours,
            Category::Professional => t.professional += e.hours,
        }
        if e.converted {
            t.converted += e.hours;
        }
    }
    t.total = t.public + t.professional;
    t
}

/// Art. 18 (with Art. 10's provincial public minimum): whether the totals
/// meet the year's requirement.
fn met(t: &Totals, rules: &RuleSet) -> bool {
    t.total >= rules.annual_hours
        && t.professional >= rules.professional_hours
        && rules.public_minimum.is_none_or(|m| t.public >= m)
}

/// The year's state (Art. 18-20): deemed complete, met by its own hours,
/// not over yet, made up or still open to make-up with a deferral, or
/// non-compliant.
fn status(
    deemed: Option<DeemedReason>,
    own: &Totals,
    totals: &Totals,
    input: &YearInput,
    rules: &RuleSet,
) -> Status {
    let year = input.year;
    if let Some(reason) = deemed {
        Status::DeemedComplete(reason)
    } else if met(own, rules) {
        Status::Compliant
    } else if input.as_of <= last_day(year) {
        Status::InProgress
    } else if input.deferral.is_some() {
        if met(totals, rules) {
            Status::MadeUp
        } else if input.as_of <= last_day(year + 1) {
            Status::Deferred
        } else {
            Status::NonCompliant
        }
    } else {
        Status::NonCompliant
    }
}

/// What the totals (make-up included) miss of the requirement (Art. 18,
/// 10); nothing for a year deemed complete (Art. 18, 19).
fn shortfall(deemed: Option<DeemedReason>, totals: &Totals, rules: &RuleSet) -> Shortfall {
    if deemed.is_some() {
        Shortfall::default()
    } else {
        Shortfall {
            total: rules.annual_hours - totals.total,
            professional: rules.professional_hours - totals.professional,
            public: rules
                .public_minimum
                .map_or(Hours::ZERO, |m| m - totals.public),
        }
    }
}

fn entry<'a>(record: &'a Record, make_up: bool, rules: &RuleSet) -> Result<Entry<'a>, InputError> {
    let c = credit(record, rules)?;
    Ok(Entry {
        record,
        make_up,
        hours: c.hours,
        category: c.category,
        converted: c.converted,
        article: c.article,
        cuts: c.cuts,
    })
}

fn zero(e: &mut Entry, why: Cut) {
    e.hours = Hours::ZERO;
    e.cuts.push(why);
}

/// Art. 18: one patent, paper, book, standard, project, competition or
/// exam engagement counts once. Of the records that share one, the one
/// worth most earns (the first in canonical order if they tie); the others
/// are kept and shown with 0. Letting the first win outright would let a
/// worthless resubmission (claiming 0, or below provincial level) cancel
/// the item's real credit.
fn remove_duplicates(entries: &mut [Entry]) {
    // Revoked records, and own records counted for the year before, compete for nothing.
    let competes = |e: &Entry| !e.record.revoked && e.hours > Hours::ZERO;
    let keys: Vec<Option<(&'static str, String)>> = entries
        .iter()
        .map(|e| {
            if competes(e) {
                e.record.activity.evidence_key()
            } else {
                None
            }
        })
        .collect();
    // (key index, winning entry index), one per distinct key.
    let mut winners: Vec<(usize, usize)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        match winners
            .iter_mut()
            .find(|(k, _)| keys[*k].as_ref() == Some(key))
        {
            Some((_, w)) if entries[*w].hours < entries[i].hours => *w = i,
            Some(_) => {}
            None => winners.push((i, i)),
        }
    }
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        if let Some(&(_, w)) = winners.iter().find(|(k, _)| keys[*k].as_ref() == Some(key))
            && w != i
        {
            let of = entries[w].record.id.clone();
            let article = entries[i].article;
            zero(&mut entries[i], Cut::Duplicate { of, article });
        }
    }
}

/// Art. 18(1): face-to-face hours of one calendar day, across courses, are
/// capped. Professional courses take the day's hours first: the
/// professional minimum is the harder one to meet, and this keeps the
/// professional total from ever falling when a record is added.
fn cap_face_to_face_days(entries: &mut [Entry], per_day: Hours) {
    // (date, public?, entry index, day index) for every credited course day.
    let mut days: Vec<(Date, bool, usize, u16)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if let Activity::FaceToFace { start, days: n, .. } = &e.record.activity
            && e.hours > Hours::ZERO
        {
            for d in 0..*n {
                days.push((
                    *start + time::Duration::days(i64::from(d)),
                    e.category == Category::Public,
                    i,
                    d,
                ));
            }
        }
    }
    if days.len() < 2 {
        return;
    }
    days.sort();
    let mut credited = vec![Hours::ZERO; entries.len()];
    let mut capped: Vec<Option<Date>> = vec![None; entries.len()];
    let mut k = 0;
    while k < days.len() {
        let date = days[k].0;
        let mut left = per_day;
        while k < days.len() && days[k].0 == date {
            let (i, d) = (days[k].2, days[k].3);
            let want = entries[i].day_hours(d);
            let got = want.min(left);
            left = left - got;
            credited[i] += got;
            if got < want && capped[i].is_none() {
                capped[i] = Some(date);
            }
            k += 1;
        }
    }
    for (i, e) in entries.iter_mut().enumerate() {
        if !matches!(e.record.activity, Activity::FaceToFace { .. }) || e.hours == Hours::ZERO {
            continue;
        }
        if credited[i] < e.hours {
            e.hours = credited[i];
            if let Some(date) = capped[i]
                && !e.cuts.iter().any(|c| matches!(c, Cut::DailyCap { .. }))
            {
                e.cuts.push(Cut::DailyCap { date, per_day });
            }
        }
    }
}

/// Art. 18: converted hours count until the year's cap; the record that
/// crosses it earns the rest, later ones none.
fn cap_conversions(entries: &mut [Entry], cap: Hours) {
    let mut left = cap;
    for e in entries
        .iter_mut()
        .filter(|e| e.converted && e.hours > Hours::ZERO)
    {
        let got = e.hours.min(left);
        if got < e.hours {
            e.hours = got;
            e.cuts.push(Cut::ConversionCap { cap });
        }
        left = left - got;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(year: i32, deferred: &[i32]) -> i32 {
        make_up_chain_start(year, |y| Ok::<_, ()>(deferred.contains(&y))).unwrap()
    }

    #[test]
    fn a_year_depends_on_the_unbroken_run_of_deferred_years_before_it() {
        assert_eq!(start(2028, &[]), 2028);
        assert_eq!(start(2028, &[2027]), 2027);
        assert_eq!(start(2028, &[2026, 2027]), 2026);
        // A year not deferred breaks the chain.
        assert_eq!(start(2029, &[2026, 2028]), 2028);
        // No limit but the regulation's first year (Art. 31).
        let all: Vec<i32> = (2000..2040).collect();
        assert_eq!(start(2039, &all), 2026);
        assert_eq!(start(2026, &all), 2026);
    }

    #[test]
    fn the_chain_stops_at_the_first_error() {
        let mut asked = Vec::new();
        let r = make_up_chain_start(2030, |y| {
            asked.push(y);
            if y == 2028 { Err("down") } else { Ok(true) }
        });
        assert_eq!(r, Err("down"));
        assert_eq!(asked, [2029, 2028]);
    }
}
