//! What an engineer did: the nine forms of continuing education (Art. 11)
//! with the quantities Art. 18 credits them by. This is the input of the
//! rules; crediting builds these from its records.

use time::Date;

use crate::article::Article;
use crate::xapi::Session;

/// Public or professional subjects (Art. 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// 公需科目.
    Public,
    /// 专业科目.
    Professional,
}

/// Art. 18(3): the engineer's part in a research project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResearchRole {
    /// Undertaken alone: at most 40 per project per year.
    Sole,
    /// Shared, as principal investigator (主持人): at most 30.
    Principal,
    /// Shared, as participant (参与人): at most 10.
    Participant,
}

/// Art. 18(4): the kind of intellectual property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatentKind {
    /// 发明专利: at most 10 each.
    Invention,
    /// 实用新型专利: at most 5 each.
    UtilityModel,
    /// 软件著作权: at most 5 each.
    SoftwareCopyright,
}

/// Art. 18(5): a paper's authorship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaperAuthorship {
    /// 独立: at most 10.
    Sole,
    /// 与他人合作: at most 5 per person.
    CoAuthor,
}

/// Art. 18(6): a book's, translation's or manual's authorship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookAuthorship {
    /// 独立: at most 30.
    Sole,
    /// 第一作者: at most 20.
    FirstAuthor,
    /// 其他作者: at most 10 per person.
    OtherAuthor,
}

/// Art. 18(7): the part in drafting a national or industry standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DrafterRole {
    /// 第一完成人主持编制: at most 20.
    FirstDrafter,
    /// 非第一完成人参与编制: at most 10.
    OtherDrafter,
}

/// Art. 18(10): who organised a competition or evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompetitionLevel {
    /// Below provincial level (municipal, county, company): earns nothing.
    BelowProvincial,
    /// Provincial (省级).
    Provincial,
    /// National (国家级).
    National,
}

/// Art. 18(10): the prize won.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prize {
    /// No prize, or below third prize: earns nothing.
    BelowThird,
    /// Third prize or equivalent.
    Third,
    Second,
    First,
}

/// Art. 19: the kind of aid assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AidKind {
    /// 援藏
    Tibet,
    /// 援疆
    Xinjiang,
    /// 援青
    Qinghai,
    /// 援外
    Abroad,
    /// 定点帮扶
    DesignatedSupport,
}

/// Who runs an activity (Art. 12, 13): a department (an HRSS department or
/// an industry regulator, directly) or a continuing-education institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Organiser {
    Department,
    Institution,
}

impl Organiser {
    /// Art. 12: an activity a department runs directly is free of charge;
    /// an institution may charge the fees it publishes (Art. 15).
    pub fn may_charge(self) -> bool {
        self == Organiser::Institution
    }

    /// The article behind [`Organiser::may_charge`].
    pub const FREE_OF_CHARGE: Article = crate::article::ART_12;
}

/// One activity, with the quantity the regulation credits it by.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    /// Form 1, Art. 18(1): face-to-face training, advanced seminars, expert
    /// service: real hours, at most 8 a calendar day across all courses.
    FaceToFace {
        category: Category,
        /// First day.
        start: Date,
        /// Consecutive days, at least 1.
        days: u16,
        /// Real hours each day; more than 24 is impossible.
        hours_per_day: f64,
        /// Where (the institution or department), for the fraud signal of
        /// two places on one day.
        provider: Option<String>,
    },
    /// Form 1, Art. 18(2): online training at verified hours, studied from
    /// `start` to `end` (inclusive); at most 24 hours for each day of it.
    Online {
        category: Category,
        start: Date,
        end: Date,
        /// The hours the provider reports. Credited as they are when there
        /// are no `sessions`; with sessions only what they verify counts,
        /// and these are what the record claims (0 if it claims nothing).
        hours: f64,
        /// Attendance tracking (Art. 13) as xAPI sessions, each inside the
        /// study period: when present the credited hours are their
        /// verified time, overlaps counted once ([`crate::xapi`]). Empty:
        /// no xAPI evidence.
        sessions: Vec<Session>,
    },
    /// Form 2, Art. 18: a bachelor-or-higher degree earned after starting
    /// work. The year is deemed complete.
    Degree { date: Date },
    /// Form 3, Art. 18: a professional qualification exam passed and the
    /// certificate obtained. The year is deemed complete.
    Qualification { date: Date },
    /// Art. 19: an aid assignment. Every calendar year it overlaps is
    /// deemed complete.
    AidAssignment {
        kind: AidKind,
        start: Date,
        end: Date,
    },
    /// Form 4, Art. 18(3): a research project for an HRSS department,
    /// industry regulator or industry association.
    Research {
        role: ResearchRole,
        project: String,
        date: Date,
    },
    /// Form 5, Art. 18(4): a patent or software copyright granted.
    Patent {
        kind: PatentKind,
        number: String,
        date: Date,
    },
    /// Form 5, Art. 18(5): a published paper, identified by DOI or journal
    /// and issue.
    Paper {
        authorship: PaperAuthorship,
        id: String,
        date: Date,
    },
    /// Form 5, Art. 18(6): a published book, translation or technical manual.
    Book {
        authorship: BookAuthorship,
        isbn: String,
        date: Date,
    },
    /// Form 5, Art. 18(7): a national or industry standard drafted.
    Standard {
        role: DrafterRole,
        number: String,
        date: Date,
    },
    /// Form 6, Art. 18(8): lecturing or reporting; `hours` is the real
    /// lecture time on `date`, at the engagement `engagement` names (empty
    /// only for records stored before engagements were required).
    Lecture {
        hours: f64,
        date: Date,
        engagement: String,
    },
    /// Form 7, Art. 18(9): setting or reviewing qualification-exam
    /// questions, one engagement.
    ExamQuestions { engagement: String, date: Date },
    /// Form 8, Art. 18(10): a competition or evaluation.
    Competition {
        level: CompetitionLevel,
        prize: Prize,
        id: String,
        date: Date,
    },
    /// Form 9, Art. 18(11): another form, credited by the province's own
    /// standard, `kind` naming it in the rule set.
    Other {
        kind: String,
        quantity: f64,
        id: String,
        date: Date,
    },
}

impl Activity {
    /// The form of Art. 11 (1-9); 0 for an aid assignment, which Art. 19
    /// deems complete without being one of the nine forms.
    pub fn form(&self) -> u8 {
        match self {
            Activity::FaceToFace { .. } | Activity::Online { .. } => 1,
            Activity::Degree { .. } => 2,
            Activity::Qualification { .. } => 3,
            Activity::Research { .. } => 4,
            Activity::Patent { .. }
            | Activity::Paper { .. }
            | Activity::Book { .. }
            | Activity::Standard { .. } => 5,
            Activity::Lecture { .. } => 6,
            Activity::ExamQuestions { .. } => 7,
            Activity::Competition { .. } => 8,
            Activity::Other { .. } => 9,
            Activity::AidAssignment { .. } => 0,
        }
    }

    /// Training, form 1 of Art. 11 (item (1)): a face-to-face or online
    /// course, which a department or institution runs and registers.
    pub fn is_training(&self) -> bool {
        matches!(self, Activity::FaceToFace { .. } | Activity::Online { .. })
    }

    /// The article that makes it training or not: Art. 11(1), the first of
    /// the nine forms.
    pub const TRAINING: Article = Article::item(11, 1);

    /// The first and last day it covers: a course's days, an online study
    /// period, an aid assignment; any other form is one day, its date.
    pub fn span(&self) -> (Date, Date) {
        match self {
            Activity::FaceToFace { start, days, .. } => (
                *start,
                *start + time::Duration::days(i64::from(days.saturating_sub(1))),
            ),
            Activity::Online { start, end, .. } | Activity::AidAssignment { start, end, .. } => {
                (*start, *end)
            }
            other => (other.date(), other.date()),
        }
    }

    /// The article and item that credit it.
    pub fn article(&self) -> Article {
        match self {
            Activity::FaceToFace { .. } => Article::item(18, 1),
            Activity::Online { .. } => Article::item(18, 2),
            Activity::Degree { .. } | Activity::Qualification { .. } => Article::new(18),
            Activity::AidAssignment { .. } => Article::new(19),
            Activity::Research { .. } => Article::item(18, 3),
            Activity::Patent { .. } => Article::item(18, 4),
            Activity::Paper { .. } => Article::item(18, 5),
            Activity::Book { .. } => Article::item(18, 6),
            Activity::Standard { .. } => Article::item(18, 7),
            Activity::Lecture { .. } => Article::item(18, 8),
            Activity::ExamQuestions { .. } => Article::item(18, 9),
            Activity::Competition { .. } => Article::item(18, 10),
            Activity::Other { .. } => Article::item(18, 11),
        }
    }

    /// The day it is dated: the first day of a course or assignment.
    pub fn date(&self) -> Date {
        match self {
            Activity::FaceToFace { start, .. }
            | Activity::AidAssignment { start, .. }
            | Activity::Online { start, .. } => *start,
            Activity::Degree { date }
            | Activity::Qualification { date }
            | Activity::Research { date, .. }
            | Activity::Patent { date, .. }
            | Activity::Paper { date, .. }
            | Activity::Book { date, .. }
            | Activity::Standard { date, .. }
            | Activity::Lecture { date, .. }
            | Activity::ExamQuestions { date, .. }
            | Activity::Competition { date, .. }
            | Activity::Other { date, .. } => *date,
        }
    }

    /// Forms 4-9 are conversions (折算): professional hours, capped in total
    /// for the year (Art. 18, second paragraph).
    pub fn is_conversion(&self) -> bool {
        matches!(
            self,
            Activity::Research { .. }
                | Activity::Patent { .. }
                | Activity::Paper { .. }
                | Activity::Book { .. }
                | Activity::Standard { .. }
                | Activity::Lecture { .. }
                | Activity::ExamQuestions { .. }
                | Activity::Competition { .. }
                | Activity::Other { .. }
        )
    }

    /// The identifier that makes one item (a project, patent, paper, book,
    /// standard, lecture engagement, exam engagement, competition or
    /// other-form item) count once per engineer however often it is
    /// submitted: kind and normalised identifier. A lecture is keyed by its
    /// engagement and its day. Training, degrees, certificates and aid
    /// assignments name no item.
    pub fn evidence_key(&self) -> Option<(&'static str, String)> {
        let norm = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .flat_map(char::to_uppercase)
                .collect()
        };
        match self {
            Activity::Research { project, .. } => Some(("project", norm(project))),
            Activity::Patent { number, .. } => Some(("patent", norm(number))),
            Activity::Paper { id, .. } => Some(("paper", norm(id))),
            Activity::Book { isbn, .. } => Some(("book", norm(isbn))),
            Activity::Standard { number, .. } => Some(("standard", norm(number))),
            Activity::Competition { id, .. } => Some(("competition", norm(id))),
            Activity::ExamQuestions { engagement, .. } => Some(("exam", norm(engagement))),
            Activity::Lecture {
                engagement, date, ..
            } if !engagement.trim().is_empty() => {
                Some(("lecture", format!("{}@{date}", norm(engagement))))
            }
            Activity::Other { kind, id, .. } => {
                Some(("other", format!("{}/{}", norm(kind), norm(id))))
            }
            _ => None,
        }
    }

    /// What the record says of the engineer's part in its item: the role,
    /// authorship, rank, kind, level and prize, or lecture time. Two
    /// records of one item that say different things contradict each other
    /// on a fact (Art. 27). `None` for what names no item.
    pub fn claim(&self) -> Option<String> {
        Some(match self {
            Activity::Research { role, .. } => match role {
                ResearchRole::Sole => "sole researcher",
                ResearchRole::Principal => "principal investigator",
                ResearchRole::Participant => "participant",
            }
            .to_owned(),
            Activity::Patent { kind, .. } => match kind {
                PatentKind::Invention => "invention patent",
                PatentKind::UtilityModel => "utility-model patent",
                PatentKind::SoftwareCopyright => "software copyright",
            }
            .to_owned(),
            Activity::Paper { authorship, .. } => match authorship {
                PaperAuthorship::Sole => "sole author",
                PaperAuthorship::CoAuthor => "co-author",
            }
            .to_owned(),
            Activity::Book { authorship, .. } => match authorship {
                BookAuthorship::Sole => "sole author",
                BookAuthorship::FirstAuthor => "first author",
                BookAuthorship::OtherAuthor => "other author",
            }
            .to_owned(),
            Activity::Standard { role, .. } => match role {
                DrafterRole::FirstDrafter => "first drafter",
                DrafterRole::OtherDrafter => "other drafter",
            }
            .to_owned(),
            Activity::Competition { level, prize, .. } => format!(
                "{} level, {}",
                match level {
                    CompetitionLevel::BelowProvincial => "below provincial",
                    CompetitionLevel::Provincial => "provincial",
                    CompetitionLevel::National => "national",
                },
                match prize {
                    Prize::BelowThird => "no prize",
                    Prize::Third => "third prize",
                    Prize::Second => "second prize",
                    Prize::First => "first prize",
                }
            ),
            Activity::Lecture { hours, .. } => format!("{hours} hours of lecturing"),
            Activity::ExamQuestions { .. } => "question setter".to_owned(),
            Activity::Other { quantity, .. } => format!("quantity {quantity}"),
            _ => return None,
        })
    }

    /// Whether this claim leaves no room for `other`'s, made by another
    /// engineer on the same item: work done alone (a sole researcher, a
    /// sole author) admits no one else, and a project has one principal
    /// investigator, a book one first author, a standard one first drafter.
    pub fn excludes(&self, other: &Activity) -> bool {
        let alone = |a: &Activity| {
            matches!(
                a,
                Activity::Research {
                    role: ResearchRole::Sole,
                    ..
                } | Activity::Paper {
                    authorship: PaperAuthorship::Sole,
                    ..
                } | Activity::Book {
                    authorship: BookAuthorship::Sole,
                    ..
                }
            )
        };
        let single = |a: &Activity| match a {
            Activity::Research {
                role: ResearchRole::Principal,
                ..
            } => Some("principal"),
            Activity::Book {
                authorship: BookAuthorship::FirstAuthor,
                ..
            } => Some("first author"),
            Activity::Standard {
                role: DrafterRole::FirstDrafter,
                ..
            } => Some("first drafter"),
            _ => None,
        };
        self.evidence_key().is_some()
            && self.evidence_key() == other.evidence_key()
            && (alone(self)
                || alone(other)
                || (single(self).is_some() && single(self) == single(other)))
    }
}

/// One hour record of an engineer: an activity, what the record claims, and
/// what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id in the caller's system; explanations refer to it.
    pub id: String,
    pub activity: Activity,
    /// Hours claimed, when less than the maximum is claimed. Never credited
    /// above the maximum, whatever is claimed.
    pub claimed: Option<f64>,
    /// Revoked under Art. 27: kept, shown, credited 0.
    pub revoked: bool,
    /// Art. 20: designated as make-up for this (earlier) year.
    pub make_up_for: Option<i32>,
    /// Claims of the same item by other engineers that this record's claim
    /// excludes (see [`Activity::excludes`]), as their [`Activity::claim`]:
    /// a signal for the reviewers (Art. 27), never shown as whose.
    pub contested: Vec<String>,
}

impl Record {
    /// A record claiming the maximum, not revoked, not make-up.
    pub fn new(id: impl Into<String>, activity: Activity) -> Record {
        Record {
            id: id.into(),
            activity,
            claimed: None,
            revoked: false,
            make_up_for: None,
            contested: Vec::new(),
        }
    }

    /// The same record claiming `hours`.
    pub fn claiming(mut self, hours: f64) -> Record {
        self.claimed = Some(hours);
        self
    }

    /// The same record, revoked (Art. 27).
    pub fn revoked(mut self) -> Record {
        self.revoked = true;
        self
    }

    /// The same record, designated as make-up for `year` (Art. 20).
    pub fn make_up_for(mut self, year: i32) -> Record {
        self.make_up_for = Some(year);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn course(days: u16) -> Activity {
        Activity::FaceToFace {
            category: Category::Professional,
            start: date!(2026 - 03 - 02),
            days,
            hours_per_day: 8.0,
            provider: None,
        }
    }

    #[test]
    fn training_is_form_one_face_to_face_or_online() {
        let online = Activity::Online {
            category: Category::Public,
            start: date!(2026 - 10 - 01),
            end: date!(2026 - 10 - 31),
            hours: 30.0,
            sessions: vec![],
        };
        assert!(course(1).is_training() && online.is_training());
        assert_eq!(Activity::TRAINING.to_string(), "Art. 11(1)");
        let others = [
            Activity::Degree {
                date: date!(2026 - 06 - 30),
            },
            Activity::AidAssignment {
                kind: AidKind::Tibet,
                start: date!(2026 - 01 - 01),
                end: date!(2027 - 06 - 30),
            },
            Activity::ExamQuestions {
                engagement: "E-1".into(),
                date: date!(2026 - 05 - 01),
            },
        ];
        for a in &others {
            assert!(!a.is_training(), "{a:?}");
            assert_eq!(a.is_training(), a.form() == 1);
        }
    }

    #[test]
    fn a_span_runs_from_the_first_day_to_the_last() {
        assert_eq!(
            course(1).span(),
            (date!(2026 - 03 - 02), date!(2026 - 03 - 02))
        );
        assert_eq!(
            course(5).span(),
            (date!(2026 - 03 - 02), date!(2026 - 03 - 06))
        );
        let aid = Activity::AidAssignment {
            kind: AidKind::Abroad,
            start: date!(2026 - 04 - 01),
            end: date!(2027 - 03 - 31),
        };
        assert_eq!(aid.span(), (date!(2026 - 04 - 01), date!(2027 - 03 - 31)));
        let degree = Activity::Degree {
            date: date!(2026 - 06 - 30),
        };
        assert_eq!(
            degree.span(),
            (date!(2026 - 06 - 30), date!(2026 - 06 - 30))
        );
    }

    #[test]
    fn only_an_institution_may_charge_for_an_activity() {
        assert!(Organiser::Institution.may_charge());
        assert!(!Organiser::Department.may_charge());
        assert_eq!(Organiser::FREE_OF_CHARGE.to_string(), "Art. 12");
    }
}
