//! Crediting one record on its own (Art. 11, 18): which item of Art. 18
//! applies, its maximum, what the record claims, and impossible input.
//! Rules that need the whole year (the daily cap across courses, the
//! conversion cap, duplicates) are applied by [`crate::assess`].

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::activity::{
    Activity, BookAuthorship, Category, CompetitionLevel, DrafterRole, PaperAuthorship, PatentKind,
    Prize, Record, ResearchRole,
};
use crate::article::{ART_13, ART_18, ART_20, ART_27, Article};
use crate::error::InputError;
use crate::hours::Hours;
use crate::ruleset::{Maxima, RuleSet};
use crate::xapi::{self, Session};

/// What cut a record's hours below what it asked for, or why it earns none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// The record claims less than the maximum; credited as claimed.
    ClaimedLess { claimed: Hours, max: Hours },
    /// The item's maximum: the record is worth at most this.
    ItemMaximum { max: Hours },
    /// Face-to-face hours above the daily maximum, which courses on the same
    /// day share (Art. 18(1)).
    DailyCap { date: Date, per_day: Hours },
    /// The year's converted hours reached their cap (Art. 18).
    ConversionCap { cap: Hours },
    /// The same item (patent, paper, book, standard, project, lecture or
    /// exam engagement, competition, other-form item) was credited already,
    /// by record `of`; `article` is the item's own (Art. 18(3)-(11)).
    Duplicate { of: String, article: Article },
    /// Revoked: obtained by improper means (Art. 27).
    Revoked,
    /// Designated as make-up for an earlier year, where it counts (Art. 20).
    MadeUpFor { year: i32 },
    /// A competition below provincial level earns nothing (Art. 18(10)).
    CompetitionBelowProvincial,
    /// A prize below third (or its equivalent) earns nothing (Art. 18(10)).
    PrizeBelowThird,
    /// No hours: a degree or qualification makes the year complete (Art. 18).
    DeemedComplete,
    /// No hours: an aid assignment makes every year it overlaps complete
    /// (Art. 19).
    AidAssignment,
    /// Online training claims more than its xAPI statements verify: only
    /// the verified time, overlaps counted once, is credited (Art. 18(2);
    /// the attendance tracking of Art. 13).
    Unverified { claimed: Hours, verified: Hours },
}

impl Cut {
    /// The article behind the cut.
    pub fn article(&self) -> Article {
        match self {
            Cut::ClaimedLess { .. } | Cut::ItemMaximum { .. } | Cut::ConversionCap { .. } => ART_18,
            Cut::Duplicate { article, .. } => *article,
            Cut::DailyCap { .. } => Article::item(18, 1),
            Cut::Revoked => ART_27,
            Cut::MadeUpFor { .. } => ART_20,
            Cut::CompetitionBelowProvincial | Cut::PrizeBelowThird => Article::item(18, 10),
            Cut::DeemedComplete => ART_18,
            Cut::AidAssignment => Article::new(19),
            Cut::Unverified { .. } => Article::item(18, 2),
        }
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cut::ClaimedLess { claimed, max } => write!(f, "claims {claimed} of a possible {max}"),
            Cut::ItemMaximum { max } => {
                write!(f, "at most {max} for this item ({})", self.article())
            }
            Cut::DailyCap { date, per_day } => {
                write!(
                    f,
                    "face-to-face hours capped at {per_day} on {date}, shared by that day's courses (Art. 18(1))"
                )
            }
            Cut::ConversionCap { cap } => {
                write!(
                    f,
                    "the year's converted hours reached {cap}; no further conversions (Art. 18)"
                )
            }
            Cut::Duplicate { of, article } => write!(
                f,
                "the same item was credited by record {of}; it counts once ({article})"
            ),
            Cut::Revoked => write!(f, "revoked: obtained by improper means (Art. 27)"),
            Cut::MadeUpFor { year } => {
                write!(f, "counted as make-up for {year}, not this year (Art. 20)")
            }
            Cut::CompetitionBelowProvincial => {
                write!(
                    f,
                    "below provincial level: only provincial level or above earns hours (Art. 18(10))"
                )
            }
            Cut::PrizeBelowThird => write!(
                f,
                "below third prize: only third prize or better earns hours (Art. 18(10))"
            ),
            Cut::DeemedComplete => write!(f, "no hours: the year is deemed complete (Art. 18)"),
            Cut::AidAssignment => write!(
                f,
                "no hours: an aid assignment completes the year (Art. 19)"
            ),
            Cut::Unverified { claimed, verified } => write!(
                f,
                "claimed {claimed} h, xAPI statements verify {verified} h (overlapping time counted once): \
                 online training counts verified hours only (Art. 18(2); attendance tracking, Art. 13)"
            ),
        }
    }
}

/// One record's credit on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub hours: Hours,
    pub category: Category,
    /// Forms 4-9: counted under the year's conversion cap.
    pub converted: bool,
    pub article: Article,
    pub cuts: Vec<Cut>,
}

/// Reads a quantity that must be a finite, non-negative number of hours.
fn quantity(
    record: &Record,
    field: &'static str,
    value: f64,
    article: Article,
) -> Result<Hours, InputError> {
    Hours::from_f64(value).ok_or_else(|| {
        InputError::new(
            &record.id,
            field,
            article,
            format!("{value} is not a number of hours: it must be finite and not negative"),
        )
    })
}

fn within_a_day(
    record: &Record,
    field: &'static str,
    hours: Hours,
    article: Article,
    what: &str,
) -> Result<(), InputError> {
    if hours > Hours::whole(24) {
        return Err(InputError::new(
            &record.id,
            field,
            article,
            format!("{hours} hours: {what} cannot be longer than a day (24 hours)"),
        ));
    }
    Ok(())
}

fn require_id(
    record: &Record,
    field: &'static str,
    value: &str,
    article: Article,
) -> Result<(), InputError> {
    if value.trim().is_empty() {
        return Err(InputError::new(
            &record.id,
            field,
            article,
            "is required: it tells one item from another, and each counts once",
        ));
    }
    Ok(())
}

/// Art. 13: every xAPI session of an online record must be one, and lie
/// within the record's study period (China Standard Time days).
fn check_sessions(
    record: &Record,
    sessions: &[Session],
    start: Date,
    end: Date,
) -> Result<(), InputError> {
    let (from, to) = xapi::study_period(start, end);
    let stamp = |t: OffsetDateTime| {
        let t = t.to_offset(xapi::CHINA_STANDARD_TIME);
        t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
    };
    for (i, s) in sessions.iter().enumerate() {
        let name = if s.statement_id.is_empty() {
            format!("session {} (a statement without id)", i + 1)
        } else {
            format!("statement {}", s.statement_id)
        };
        let problem = if s.end <= s.start {
            Some(format!(
                "{name} ends at {} before it starts at {}: it is no evidence of time",
                stamp(s.end),
                stamp(s.start)
            ))
        } else if s.start < from || s.end > to {
            Some(format!(
                "{name} ({} to {}) is outside the study period {start} to {end} (China Standard Time): \
                 only attendance tracked within it verifies the record's hours",
                stamp(s.start),
                stamp(s.end)
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            return Err(InputError::new(&record.id, "sessions", ART_13, message));
        }
    }
    Ok(())
}

/// The most a record can earn, its category, and any cut already known.
type Maximum = (Hours, Category, Vec<Cut>);

/// The most `activity` can earn, its category, and any cut already known.
fn maximum(record: &Record, rules: &RuleSet) -> Result<Maximum, InputError> {
    let m = &rules.maxima;
    let art = record.activity.article();
    let prof = Category::Professional;
    Ok(match &record.activity {
        Activity::FaceToFace {
            category,
            days,
            hours_per_day,
            start,
            ..
        } => {
            let (max, cuts) = face_to_face(record, art, m, *days, *hours_per_day, *start)?;
            (max, *category, cuts)
        }
        Activity::Online {
            category,
            hours,
            start,
            end,
            sessions,
        } => {
            let (max, cuts) = online(record, art, *hours, *start, *end, sessions)?;
            (max, *category, cuts)
        }
        Activity::Degree { .. } | Activity::Qualification { .. } => {
            (Hours::ZERO, prof, vec![Cut::DeemedComplete])
        }
        Activity::AidAssignment { start, end, .. } => {
            aid_assignment(record, art, *start, *end)?;
            (Hours::ZERO, prof, vec![Cut::AidAssignment])
        }
        Activity::Research { role, project, .. } => {
            require_id(record, "project", project, art)?;
            (research(*role, m), prof, vec![])
        }
        Activity::Patent { kind, number, .. } => {
            require_id(record, "number", number, art)?;
            (patent(*kind, m), prof, vec![])
        }
        Activity::Paper { authorship, id, .. } => {
            require_id(record, "id", id, art)?;
            (paper(*authorship, m), prof, vec![])
        }
        Activity::Book {
            authorship, isbn, ..
        } => {
            require_id(record, "isbn", isbn, art)?;
            (book(*authorship, m), prof, vec![])
        }
        Activity::Standard { role, number, .. } => {
            require_id(record, "number", number, art)?;
            (standard(*role, m), prof, vec![])
        }
        Activity::Lecture { hours, .. } => (lecture(record, art, *hours, m)?, prof, vec![]),
        Activity::ExamQuestions { engagement, .. } => {
            require_id(record, "engagement", engagement, art)?;
            (m.exam_questions, prof, vec![])
        }
        Activity::Competition {
            level, prize, id, ..
        } => {
            require_id(record, "id", id, art)?;
            let (max, cuts) = competition(*level, *prize, m);
            (max, prof, cuts)
        }
        Activity::Other {
            kind,
            quantity: q,
            id,
            ..
        } => {
            require_id(record, "id", id, art)?;
            let (max, cuts) = other_form(record, art, rules, kind, *q)?;
            (max, prof, cuts)
        }
    })
}

/// Art. 18(1): face-to-face training earns its hours a day, each day
/// capped at the daily maximum, for at least one day of at most 24 hours.
fn face_to_face(
    record: &Record,
    art: Article,
    m: &Maxima,
    days: u16,
    hours_per_day: f64,
    start: Date,
) -> Result<(Hours, Vec<Cut>), InputError> {
    let per_day = quantity(record, "hours_per_day", hours_per_day, art)?;
    within_a_day(record, "hours_per_day", per_day, art, "a day of training")?;
    if days == 0 {
        return Err(InputError::new(
            &record.id,
            "days",
            art,
            "must be at least 1",
        ));
    }
    let real = per_day.times(u32::from(days));
    let capped = per_day.min(m.face_to_face_per_day).times(u32::from(days));
    let cuts = if capped < real {
        vec![Cut::DailyCap {
            date: start,
            per_day: m.face_to_face_per_day,
        }]
    } else {
        vec![]
    };
    Ok((capped, cuts))
}

/// Art. 18(2): online training earns its hours, or with xAPI evidence
/// (Art. 13) the time the statements verify; never more than 24 hours a
/// day of its study period.
fn online(
    record: &Record,
    art: Article,
    hours: f64,
    start: Date,
    end: Date,
    sessions: &[Session],
) -> Result<(Hours, Vec<Cut>), InputError> {
    let h = quantity(record, "hours", hours, art)?;
    if end < start {
        return Err(InputError::new(
            &record.id,
            "end",
            art,
            "the training ends before it starts",
        ));
    }
    // With xAPI evidence the verified time is credited and the
    // reported hours are only what the record claims.
    let (credited, cuts) = if sessions.is_empty() {
        (h, vec![])
    } else {
        check_sessions(record, sessions, start, end)?;
        let verified = xapi::verified_hours(sessions);
        let cuts = if h > verified {
            vec![Cut::Unverified {
                claimed: h,
                verified,
            }]
        } else {
            vec![]
        };
        (verified, cuts)
    };
    let days = (end - start).whole_days() + 1;
    if credited.as_f64() > 24.0 * days as f64 {
        return Err(InputError::new(
            &record.id,
            "hours",
            art,
            format!("{credited} hours in {days} day(s): more than 24 hours a day is impossible"),
        ));
    }
    Ok((credited, cuts))
}

/// Art. 19: an aid assignment cannot end before it starts.
fn aid_assignment(record: &Record, art: Article, start: Date, end: Date) -> Result<(), InputError> {
    if end < start {
        return Err(InputError::new(
            &record.id,
            "end",
            art,
            "the assignment ends before it starts",
        ));
    }
    Ok(())
}

/// Art. 18(3): a research project, by the engineer's role in it.
fn research(role: ResearchRole, m: &Maxima) -> Hours {
    match role {
        ResearchRole::Sole => m.research_sole,
        ResearchRole::Principal => m.research_principal,
        ResearchRole::Participant => m.research_participant,
    }
}

/// Art. 18(4): a patent or software copyright, by its kind.
fn patent(kind: PatentKind, m: &Maxima) -> Hours {
    match kind {
        PatentKind::Invention => m.invention_patent,
        PatentKind::UtilityModel => m.utility_model_patent,
        PatentKind::SoftwareCopyright => m.software_copyright,
    }
}

/// Art. 18(5): a paper, by authorship.
fn paper(authorship: PaperAuthorship, m: &Maxima) -> Hours {
    match authorship {
        PaperAuthorship::Sole => m.paper_sole,
        PaperAuthorship::CoAuthor => m.paper_coauthor,
    }
}

/// Art. 18(6): a book, by authorship.
fn book(authorship: BookAuthorship, m: &Maxima) -> Hours {
    match authorship {
        BookAuthorship::Sole => m.book_sole,
        BookAuthorship::FirstAuthor => m.book_first_author,
        BookAuthorship::OtherAuthor => m.book_other_author,
    }
}

/// Art. 18(7): a standard, by the engineer's role in drafting it.
fn standard(role: DrafterRole, m: &Maxima) -> Hours {
    match role {
        DrafterRole::FirstDrafter => m.standard_first_drafter,
        DrafterRole::OtherDrafter => m.standard_other_drafter,
    }
}

/// Art. 18(8): a lecture earns a multiple of its hours, which are at most
/// a day.
fn lecture(record: &Record, art: Article, hours: f64, m: &Maxima) -> Result<Hours, InputError> {
    let h = quantity(record, "hours", hours, art)?;
    within_a_day(record, "hours", h, art, "a lecture")?;
    // multiplier is in hundredths (6 = 600), so scale back once.
    Ok(Hours::from_centi(
        (h.centi() as u64 * m.lecture_multiplier.centi() as u64 / 100) as u32,
    ))
}

/// Art. 18(10): a competition earns only at provincial level or above,
/// and only with a third prize or better.
fn competition(level: CompetitionLevel, prize: Prize, m: &Maxima) -> (Hours, Vec<Cut>) {
    if level == CompetitionLevel::BelowProvincial {
        (Hours::ZERO, vec![Cut::CompetitionBelowProvincial])
    } else if prize == Prize::BelowThird {
        (Hours::ZERO, vec![Cut::PrizeBelowThird])
    } else {
        (m.competition, vec![])
    }
}

/// Art. 18(11): another form earns by the province's own standard, per
/// unit up to its most per item.
fn other_form(
    record: &Record,
    art: Article,
    rules: &RuleSet,
    kind: &str,
    q: f64,
) -> Result<(Hours, Vec<Cut>), InputError> {
    let form = rules.other_forms.get(kind).ok_or_else(|| {
        InputError::new(
            &record.id,
            "kind",
            art,
            format!(
                "unknown form `{kind}`: rule set {} has no standard for it (other forms are credited by the province's own standard)",
                rules.id
            ),
        )
    })?;
    let units = quantity(record, "quantity", q, art)?;
    let earned = Hours::from_centi(
        (units.centi() as u64 * form.hours_per_unit.centi() as u64 / 100).min(u32::MAX as u64)
            as u32,
    );
    Ok(if earned > form.max_per_item {
        (
            form.max_per_item,
            vec![Cut::ItemMaximum {
                max: form.max_per_item,
            }],
        )
    } else {
        (earned, vec![])
    })
}

/// Credits one record on its own under `rules`: the maximum its item
/// allows, or what it claims if that is less. A record is never credited
/// more than its maximum, whatever it claims.
///
/// ```
/// use ce_rules::{credit, Activity, PatentKind, Record, RuleSet, Hours};
/// use time::macros::date;
///
/// let patent = Record::new("r1", Activity::Patent {
///     kind: PatentKind::Invention, number: "ZL202610000001.X".into(), date: date!(2026-05-01),
/// });
/// let c = credit(&patent, &RuleSet::national()).unwrap();
/// assert_eq!(c.hours, Hours::whole(10));
/// assert!(c.converted);
/// assert_eq!(c.article.to_string(), "Art. 18(4)");
/// ```
pub fn credit(record: &Record, rules: &RuleSet) -> Result<Credit, InputError> {
    let (max, category, mut cuts) = maximum(record, rules)?;
    let mut hours = max;
    if let Some(c) = record.claimed {
        let claimed = quantity(record, "claimed", c, record.activity.article())?;
        if claimed < max {
            hours = claimed;
            cuts.push(Cut::ClaimedLess { claimed, max });
        } else if claimed > max
            && !cuts.iter().any(|c| {
                matches!(
                    c,
                    Cut::DailyCap { .. } | Cut::ItemMaximum { .. } | Cut::Unverified { .. }
                )
            })
        {
            // Online training with xAPI evidence is worth what it verifies.
            cuts.push(match &record.activity {
                Activity::Online { sessions, .. } if !sessions.is_empty() => Cut::Unverified {
                    claimed,
                    verified: max,
                },
                _ => Cut::ItemMaximum { max },
            });
        }
    }
    Ok(Credit {
        hours,
        category,
        converted: record.activity.is_conversion(),
        article: record.activity.article(),
        cuts,
    })
}
