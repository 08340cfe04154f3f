//! Rule sets: the national baseline (built in, from `rulesets/national.toml`)
//! and provincial overlays (Art. 10, 17, 18(11)), each in force from a date.
//!
//! A province may lower any maximum, set its standard for "other forms"
//! and its own public-subject rules, and say how late hours may be
//! registered; it may never raise a national maximum. Loading an overlay
//! that does fails with an error naming the province, the key and the
//! article.
//!
//! A year is assessed under the rule set in force on 1 January of that
//! year: rules change for whole years, so an engineer knows the rules of a
//! year when it starts.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use time::Date;

use crate::article::{ART_21, ART_31, Article};
use crate::error::{InputError, RuleSetError};
use crate::hours::Hours;

/// The first year the regulation governs (Art. 31).
pub const FIRST_YEAR: i32 = 2026;

/// The national baseline, as shipped.
pub const NATIONAL_TOML: &str = include_str!("../rulesets/national.toml");

macro_rules! maxima {
    ($( $(#[$doc:meta])* $key:ident = $article:expr ),+ $(,)?) => {
        /// The maxima of Art. 18 ("最多"): by default the maximum is
        /// credited; a record may claim less; a province may lower them.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Maxima {
            $( $(#[$doc])* pub $key: Hours, )+
        }

        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct MaximaFile {
            $( $key: Option<Hours>, )+
        }

        impl Maxima {
            /// Every maximum with its key and article, for overlays and errors.
            fn entries(&self) -> Vec<(&'static str, Article, Hours)> {
                vec![ $( (stringify!($key), $article, self.$key), )+ ]
            }

            /// Whether every maximum is at most `other`'s: an overlay only
            /// lowers the national maxima.
            pub fn all_at_most(&self, other: &Maxima) -> bool {
                self.entries()
                    .iter()
                    .zip(other.entries())
                    .all(|(mine, theirs)| mine.2 <= theirs.2)
            }

            fn from_file(f: MaximaFile, source: &str) -> Result<Maxima, RuleSetError> {
                Ok(Maxima {
                    $( $key: f.$key.ok_or_else(|| RuleSetError::Invalid {
                        source_name: source.to_owned(),
                        message: format!("maxima.{} is required", stringify!($key)),
                    })?, )+
                })
            }

            /// Applies an overlay's maxima, refusing any that is higher.
            fn lowered_by(&self, f: &MaximaFile, province: &str) -> Result<Maxima, RuleSetError> {
                let mut out = self.clone();
                $(
                    if let Some(v) = f.$key {
                        if v > self.$key {
                            return Err(RuleSetError::RaisesMaximum {
                                province: province.to_owned(),
                                key: format!("maxima.{}", stringify!($key)),
                                value: v.to_string(),
                                national: self.$key.to_string(),
                                article: $article,
                            });
                        }
                        out.$key = v;
                    }
                )+
                Ok(out)
            }
        }
    };
}

maxima! {
    /// Art. 18, second paragraph: converted hours (forms 4-9) counted in a year.
    conversion_total = Article::new(18),
    /// Art. 18(1): face-to-face hours in one calendar day, across courses.
    face_to_face_per_day = Article::item(18, 1),
    /// Art. 18(3): a research project undertaken alone, per year.
    research_sole = Article::item(18, 3),
    /// Art. 18(3): a shared project's principal investigator, per year.
    research_principal = Article::item(18, 3),
    /// Art. 18(3): a shared project's participant, per year.
    research_participant = Article::item(18, 3),
    /// Art. 18(4): an invention patent.
    invention_patent = Article::item(18, 4),
    /// Art. 18(4): a utility-model patent.
    utility_model_patent = Article::item(18, 4),
    /// Art. 18(4): a software copyright.
    software_copyright = Article::item(18, 4),
    /// Art. 18(5): a paper written alone.
    paper_sole = Article::item(18, 5),
    /// Art. 18(5): a co-authored paper, per person.
    paper_coauthor = Article::item(18, 5),
    /// Art. 18(6): a book written alone.
    book_sole = Article::item(18, 6),
    /// Art. 18(6): a co-authored book's first author.
    book_first_author = Article::item(18, 6),
    /// Art. 18(6): a co-authored book's other author, per person.
    book_other_author = Article::item(18, 6),
    /// Art. 18(7): a standard drafted as first drafter.
    standard_first_drafter = Article::item(18, 7),
    /// Art. 18(7): a standard drafted as another drafter.
    standard_other_drafter = Article::item(18, 7),
    /// Art. 18(8): the multiple of real lecture time (6 means 6x).
    lecture_multiplier = Article::item(18, 8),
    /// Art. 18(9): one engagement setting or reviewing exam questions.
    exam_questions = Article::item(18, 9),
    /// Art. 18(10): one competition item per year.
    competition = Article::item(18, 10),
}

/// A province's standard for one of its "other forms" (Art. 18(11)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherForm {
    /// What the form is, as the province publishes it.
    pub description: String,
    /// Hours per unit of quantity.
    pub hours_per_unit: Hours,
    /// The most one item earns.
    pub max_per_item: Hours,
}

/// Thresholds of the fraud signals (Art. 13, 27).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    /// Training hours in one day beyond which the day is implausible.
    pub plausible_daily_hours: Hours,
    /// Converted items in one year beyond which the year is implausible.
    pub plausible_converted_items: u32,
}

/// The rules in force for one province (or the nation) from a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    /// For example `national-2026` or `44-2026`.
    pub id: String,
    /// `None` for the national baseline.
    pub province: Option<String>,
    pub effective_from: Date,
    /// Art. 18: at least 90 hours a year.
    pub annual_hours: Hours,
    /// Art. 18: professional subjects generally at least 60.
    pub professional_hours: Hours,
    /// Art. 10: a province's minimum of public-subject hours, if it sets one.
    pub public_minimum: Option<Hours>,
    pub maxima: Maxima,
    /// Art. 18(11): the province's standards for other forms, by key.
    pub other_forms: BTreeMap<String, OtherForm>,
    pub signals: Signals,
    /// Art. 21: days after a year ends during which an engineer's own
    /// materials of it may still be submitted (0: "in the same year").
    pub late_submission_days: u32,
    /// Art. 21: days after a year ends during which a department may still
    /// grant, and an institution still upload, the year's training hours
    /// (hours of its last days are entered "promptly", not in the year).
    pub registration_window_days: u32,
}

/// Art. 21: the three ways hours are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Activities run directly by HRSS departments or industry regulators:
    /// the department grants the hours.
    DepartmentGrant,
    /// Activities run by institutions: the institution enters the hours
    /// promptly, for the regulator or employer to confirm.
    InstitutionUpload,
    /// Other forms: the engineer submits materials in the same year.
    EngineerSubmission,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    annual_hours: Hours,
    professional_hours: Hours,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicSubjects {
    minimum_hours: Hours,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    late_submission_days: Option<u32>,
    window_days: Option<u32>,
}

/// The national file: everything required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalFile {
    id: String,
    effective_from: String,
    requirement: Requirement,
    maxima: MaximaFile,
    signals: Signals,
    registration: Registration,
}

/// A province's overlay: everything optional but its identity. It cannot
/// change the annual requirement (a national floor).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayFile {
    id: String,
    province: String,
    effective_from: String,
    #[serde(default)]
    maxima: MaximaFile,
    public_subjects: Option<PublicSubjects>,
    #[serde(default)]
    other_forms: BTreeMap<String, OtherForm>,
    signals: Option<Signals>,
    registration: Option<Registration>,
}

fn parse_date(s: &str, source: &str) -> Result<Date, RuleSetError> {
    // `YYYY-MM-DD`; a month or day of one digit is read too, as it always was.
    const YYYY_MM_DD: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[year padding:none]-[month padding:none]-[day padding:none]"
    );
    Date::parse(s, YYYY_MM_DD).map_err(|_| RuleSetError::Invalid {
        source_name: source.to_owned(),
        message: format!("effective_from = {s:?} is not a date (YYYY-MM-DD)"),
    })
}

fn invalid(source: &str, e: impl std::fmt::Display) -> RuleSetError {
    RuleSetError::Invalid {
        source_name: source.to_owned(),
        message: e.to_string(),
    }
}

impl RuleSet {
    /// The national baseline (Art. 18), as shipped in `rulesets/national.toml`.
    pub fn national() -> RuleSet {
        // The shipped file is checked by this crate's tests; a broken one
        // would fail them, so this cannot fail in a released build.
        match RuleSet::national_from_toml(NATIONAL_TOML, "rulesets/national.toml") {
            Ok(r) => r,
            Err(e) => panic!("the built-in national rule set is invalid: {e}"),
        }
    }

    fn national_from_toml(text: &str, source: &str) -> Result<RuleSet, RuleSetError> {
        let f: NationalFile = toml::from_str(text).map_err(|e| invalid(source, e))?;
        Ok(RuleSet {
            id: f.id,
            province: None,
            effective_from: parse_date(&f.effective_from, source)?,
            annual_hours: f.requirement.annual_hours,
            professional_hours: f.requirement.professional_hours,
            public_minimum: None,
            maxima: Maxima::from_file(f.maxima, source)?,
            other_forms: BTreeMap::new(),
            signals: f.signals,
            late_submission_days: f
                .registration
                .late_submission_days
                .ok_or_else(|| invalid(source, "registration.late_submission_days is required"))?,
            registration_window_days: f
                .registration
                .window_days
                .ok_or_else(|| invalid(source, "registration.window_days is required"))?,
        })
    }

    /// This national set with a province's overlay applied.
    fn with_overlay(&self, text: &str, source: &str) -> Result<RuleSet, RuleSetError> {
        let f: OverlayFile = toml::from_str(text).map_err(|e| invalid(source, e))?;
        if f.province.len() != 2 || !f.province.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                source,
                format!("province = {:?} is not a two-digit code", f.province),
            ));
        }
        let effective_from = parse_date(&f.effective_from, source)?;
        if effective_from < self.effective_from {
            return Err(invalid(
                source,
                format!(
                    "effective_from {effective_from} is before the regulation takes effect ({ART_31})"
                ),
            ));
        }
        let maxima = self.maxima.lowered_by(&f.maxima, &f.province)?;
        let registration = f.registration.as_ref();
        if let Some(s) = &f.signals
            && s.plausible_daily_hours > Hours::whole(24)
        {
            return Err(invalid(
                source,
                "signals.plausible_daily_hours cannot exceed the 24 hours of a day",
            ));
        }
        if let Some(p) = &f.public_subjects {
            let room = self.annual_hours - self.professional_hours;
            if p.minimum_hours > room {
                return Err(RuleSetError::Invalid {
                    source_name: source.to_owned(),
                    message: format!(
                        "province {}: public_subjects.minimum_hours = {} exceeds the {room} hours the national \
                         requirement leaves beside professional subjects (Art. 18); a province cannot raise the \
                         annual requirement",
                        f.province, p.minimum_hours
                    ),
                });
            }
        }
        for (key, form) in &f.other_forms {
            if form.hours_per_unit == Hours::ZERO || form.max_per_item == Hours::ZERO {
                return Err(invalid(
                    source,
                    format!("other_forms.{key}: hours must be more than 0"),
                ));
            }
        }
        Ok(RuleSet {
            id: f.id,
            province: Some(f.province),
            effective_from,
            annual_hours: self.annual_hours,
            professional_hours: self.professional_hours,
            public_minimum: f.public_subjects.map(|p| p.minimum_hours),
            maxima,
            other_forms: f.other_forms,
            signals: f.signals.unwrap_or_else(|| self.signals.clone()),
            late_submission_days: registration
                .and_then(|r| r.late_submission_days)
                .unwrap_or(self.late_submission_days),
            registration_window_days: registration
                .and_then(|r| r.window_days)
                .unwrap_or(self.registration_window_days),
        })
    }

    /// Art. 21: the last day hours earned in `year` may be registered
    /// through `channel`. An engineer's own materials: the year's end ("在
    /// 当年提交"), plus the grace the rule set allows
    /// (`registration.late_submission_days`). A department's grant or an
    /// institution's upload: the registration window after the year
    /// (`registration.window_days`), since the text asks them to register
    /// "promptly" (及时), not within the year, and a course of late
    /// December could otherwise never be registered.
    pub fn registration_deadline(&self, year: i32, channel: Channel) -> Date {
        let days = match channel {
            Channel::EngineerSubmission => self.late_submission_days,
            Channel::DepartmentGrant | Channel::InstitutionUpload => self.registration_window_days,
        };
        Date::from_calendar_date(year, time::Month::December, 31)
            .map(|d| d + time::Duration::days(i64::from(days)))
            .unwrap_or(Date::MAX)
    }

    /// Art. 21: why hours of `year` are refused through `channel` on
    /// `today`, or `None` while they may still be registered.
    pub fn registration_refusal(&self, year: i32, channel: Channel, today: Date) -> Option<String> {
        let deadline = self.registration_deadline(year, channel);
        if today <= deadline {
            return None;
        }
        let why = match channel {
            Channel::EngineerSubmission if self.late_submission_days > 0 => format!(
                "an engineer submits a year's materials in that year or within {} days after it",
                self.late_submission_days
            ),
            Channel::EngineerSubmission => {
                "an engineer submits a year's materials in that year".to_owned()
            }
            Channel::DepartmentGrant | Channel::InstitutionUpload => format!(
                "departments and institutions register a year's training within {} days after it ends",
                self.registration_window_days
            ),
        };
        Some(format!(
            "hours of {year} had to be registered by {deadline}: {why} ({ART_21}, rule set {})",
            self.id
        ))
    }

    /// Art. 21: the last day any of `year`'s hours may still be registered.
    /// Until then a late registration may still change the year's figures
    /// and state; after it they are final.
    pub fn registration_closes(&self, year: i32) -> Date {
        [
            Channel::DepartmentGrant,
            Channel::InstitutionUpload,
            Channel::EngineerSubmission,
        ]
        .into_iter()
        .map(|c| self.registration_deadline(year, c))
        .max()
        .unwrap_or(Date::MAX)
    }

    /// Every maximum with its key, article and value.
    pub fn maxima_table(&self) -> Vec<(&'static str, Article, Hours)> {
        self.maxima.entries()
    }
}

/// The revision of the library's reading of the regulation: raised by a
/// release that changes what an assessment gives for the same records and
/// rule set (a rules fix), so that every stored year is assessed again
/// (see [`RuleSet::fingerprint`] and docs/rules.md).
pub const REVISION: u32 = 1;

impl RuleSet {
    /// Names the rules a year is assessed with: the set's id, and a 64-bit
    /// FNV-1a hash of every figure in the set and of [`REVISION`]. A year
    /// stored under another fingerprint was assessed under other rules (an
    /// overlay edited, a rules fix released) and is due for reassessment.
    pub fn fingerprint(&self) -> String {
        let text = format!("{REVISION}|{self:?}");
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{}@{hash:016x}", self.id)
    }
}

/// All rule sets a deployment uses: the national baseline and each
/// province's overlays by effective date.
#[derive(Debug, Clone)]
pub struct RuleBook {
    national: RuleSet,
    provinces: BTreeMap<String, Vec<RuleSet>>,
    /// Each set's [`RuleSet::fingerprint`], by province and effective
    /// date, made once: every stored year names one.
    fingerprints: BTreeMap<(Option<String>, Date), String>,
}

impl Default for RuleBook {
    fn default() -> Self {
        RuleBook::national()
    }
}

impl RuleBook {
    /// The national baseline only.
    pub fn national() -> RuleBook {
        let national = RuleSet::national();
        let fingerprints =
            BTreeMap::from([((None, national.effective_from), national.fingerprint())]);
        RuleBook {
            national,
            provinces: BTreeMap::new(),
            fingerprints,
        }
    }

    /// [`RuleSet::fingerprint`] of a set of this book, made once.
    pub fn fingerprint(&self, set: &RuleSet) -> String {
        self.fingerprints
            .get(&(set.province.clone(), set.effective_from))
            .cloned()
            .unwrap_or_else(|| set.fingerprint())
    }

    /// Adds a province's overlay from TOML text; `source` names it in errors.
    pub fn add_overlay(&mut self, text: &str, source: &str) -> Result<&RuleSet, RuleSetError> {
        let set = self.national.with_overlay(text, source)?;
        let province = set.province.clone().unwrap_or_default();
        let sets = self.provinces.entry(province.clone()).or_default();
        if sets.iter().any(|s| s.effective_from == set.effective_from) {
            return Err(RuleSetError::Conflict {
                province,
                date: set.effective_from.to_string(),
            });
        }
        let date = set.effective_from;
        self.fingerprints
            .insert((set.province.clone(), date), set.fingerprint());
        sets.push(set);
        sets.sort_by_key(|s| s.effective_from);
        let index = sets
            .iter()
            .position(|s| s.effective_from == date)
            .unwrap_or(0);
        Ok(&sets[index])
    }

    /// The national baseline plus every `*.toml` overlay in `dir` (and its
    /// subfolders), in name order.
    pub fn load_dir(dir: &Path) -> Result<RuleBook, RuleSetError> {
        let mut files = Vec::new();
        collect_toml(dir, &mut files).map_err(|e| invalid(&dir.display().to_string(), e))?;
        files.sort();
        let mut book = RuleBook::national();
        for path in files {
            if path.file_name().is_some_and(|n| n == "national.toml") {
                continue;
            }
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| invalid(&name, e))?;
            book.add_overlay(&text, &name)?;
        }
        Ok(book)
    }

    /// The rule set that governs `year` in `province`: the province's
    /// overlay in force on 1 January, else the national baseline. Years
    /// before the regulation took effect are out of scope.
    pub fn for_year(&self, province: &str, year: i32) -> Result<&RuleSet, InputError> {
        if year < FIRST_YEAR {
            return Err(InputError::new(
                "",
                "year",
                ART_31,
                format!(
                    "{year} is before the regulation took effect on 2026-01-01; earlier years are out of scope"
                ),
            ));
        }
        let jan1 = Date::from_calendar_date(year, time::Month::January, 1).map_err(|_| {
            InputError::new("", "year", ART_31, format!("{year} is not a calendar year"))
        })?;
        Ok(self
            .provinces
            .get(province)
            .and_then(|sets| sets.iter().rev().find(|s| s.effective_from <= jan1))
            .unwrap_or(&self.national))
    }

    pub fn national_set(&self) -> &RuleSet {
        &self.national
    }
}

fn collect_toml(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}
