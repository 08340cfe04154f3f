//! Registering hours (Art. 17, 19, 21): the route a registration takes,
//! who may submit and confirm what on it, hours registered only once
//! earned, the deadlines, and an aid assignment's limits.
//!
//! Each function decides; a refusal names its article and the facts, and
//! the service that asked words it for its caller.

use time::Date;

use crate::activity::Activity;
use crate::article::{ART_17, ART_19, ART_21, Article};
use crate::ruleset::{Channel, RuleSet};

/// The longest aid assignment one record may state, in calendar years
/// after its first (Art. 19: a posting counts in every year it overlaps,
/// and a longer one is registered posting by posting).
pub const MAX_AID_YEARS: i32 = 10;

/// Who registers, as far as Art. 21 tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrant {
    /// An HRSS department (national or provincial) or an industry regulator.
    Department,
    /// A continuing-education institution.
    Institution,
    /// An engineer.
    Engineer,
    /// Anyone else (an employer, a service): registers nothing.
    Other,
}

/// Who asks to confirm or reject a submitted record (Art. 21), with what
/// their scope says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// The ministry: any record.
    Ministry,
    /// An employer; `of_engineer` when it employs the record's engineer.
    Employer { of_engineer: bool },
    /// An industry regulator; `covers` when the record is in its field
    /// (and province).
    Regulator { covers: bool },
    /// A provincial HRSS department; `of_province` when the record is of
    /// its province.
    ProvincialHrss { of_province: bool },
    /// Anyone else.
    Other,
}

/// Why a registration, or a decision on one, is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a department, institution or engineer (Art. 21).
    NotARegistrant,
    /// An engineer submitting someone else's materials (Art. 21).
    NotOwnMaterials,
    /// Training (Art. 11(1)) submitted by the engineer: its organiser
    /// registers it (Art. 21).
    TrainingSubmitted,
    /// A form other than training registered by a department or an
    /// institution: the engineer submits it (Art. 21).
    NotTraining,
    /// Training registered by someone other than the department or
    /// institution that organised it (Art. 21).
    NotOrganiser,
    /// Hours dated outside the activity they claim to come from (Art. 21).
    OutsideActivity {
        from: Date,
        to: Date,
        held_from: Date,
        held_to: Date,
    },
    /// An aid assignment that has not begun (Art. 17, 19).
    AidNotBegun { starts: Date },
    /// An aid assignment over more than [`MAX_AID_YEARS`] (Art. 19).
    AidTooLong { first_year: i32, last_year: i32 },
    /// Hours not yet earned: dated after today (Art. 17).
    NotYetEarned { ends: Date },
    /// Past the deadline (Art. 21); the rule set's words.
    Late { message: String },
    /// Not the party that confirms or rejects this route (Art. 21).
    NotDecider,
    /// A lecture that does not name its engagement, which makes one
    /// lecture count once (Art. 18(8)).
    LectureUnnamed,
}

/// Art. 18(8), the item on lectures.
const ART_18_8: Article = Article::item(18, 8);

impl Refusal {
    /// The articles the refusal rests on, as the message cites them.
    pub fn articles(&self) -> &'static [Article] {
        match self {
            Refusal::AidNotBegun { .. } => &[ART_17, ART_19],
            Refusal::NotYetEarned { .. } => &[ART_17],
            Refusal::AidTooLong { .. } => &[ART_19],
            Refusal::NotARegistrant
            | Refusal::TrainingSubmitted
            | Refusal::NotOwnMaterials
            | Refusal::NotTraining
            | Refusal::NotOrganiser
            | Refusal::OutsideActivity { .. }
            | Refusal::Late { .. }
            | Refusal::NotDecider => &[ART_21],
            Refusal::LectureUnnamed => &[ART_18_8],
        }
    }
}

/// Art. 21: the route a registrant's hours take. Departments grant the
/// hours of their own activities, institutions upload their learners'
/// hours, engineers submit their own materials.
pub fn route_of(registrant: Registrant) -> Result<Channel, Refusal> {
    match registrant {
        Registrant::Department => Ok(Channel::DepartmentGrant),
        Registrant::Institution => Ok(Channel::InstitutionUpload),
        Registrant::Engineer => Ok(Channel::EngineerSubmission),
        Registrant::Other => Err(Refusal::NotARegistrant),
    }
}

/// Art. 21: a department's grant stands as registered; an institution's
/// upload and an engineer's submission wait for confirmation.
pub fn confirmed_on_registration(route: Channel) -> bool {
    route == Channel::DepartmentGrant
}

/// Art. 21: an engineer submits only their own materials.
pub fn submits_own(route: Channel, submitter: &str, engineer: &str) -> Result<(), Refusal> {
    if route == Channel::EngineerSubmission && submitter != engineer {
        Err(Refusal::NotOwnMaterials)
    } else {
        Ok(())
    }
}

/// Art. 21 with Art. 11(1): which forms a route registers. Training is
/// registered by the department or institution that ran it; the other
/// forms (2-9) and aid assignments are submitted by the engineer.
pub fn may_register(route: Channel, activity: &Activity) -> Result<(), Refusal> {
    match (route, activity.is_training()) {
        (Channel::EngineerSubmission, true) => Err(Refusal::TrainingSubmitted),
        (Channel::DepartmentGrant | Channel::InstitutionUpload, false) => Err(Refusal::NotTraining),
        _ => Ok(()),
    }
}

/// Art. 21: whether a route names the registry activity its hours come
/// from (departments and institutions register their own activities').
pub fn names_activity(route: Channel) -> bool {
    route != Channel::EngineerSubmission
}

/// Art. 21: the hours fall within the activity they claim to come from,
/// held from `held.0` to `held.1`.
pub fn within_activity(activity: &Activity, held: (Date, Date)) -> Result<(), Refusal> {
    let (from, to) = activity.span();
    if from < held.0 || to > held.1 {
        Err(Refusal::OutsideActivity {
            from,
            to,
            held_from: held.0,
            held_to: held.1,
        })
    } else {
        Ok(())
    }
}

/// Art. 21: an organiser registers only its own activity's hours, and on
/// its own route: an institution's activity by upload, a department's by
/// grant. `own` when the registrant organised it; `by_institution` when
/// an institution did.
pub fn organiser_registers(route: Channel, own: bool, by_institution: bool) -> Result<(), Refusal> {
    let kind_ok = match route {
        Channel::InstitutionUpload => by_institution,
        _ => !by_institution,
    };
    if own && kind_ok {
        Ok(())
    } else {
        Err(Refusal::NotOrganiser)
    }
}

/// Art. 17 and 19: hours are registered once earned, nothing dated after
/// `today`; an aid assignment once it has begun, and then it counts in
/// every year its period overlaps, at most [`MAX_AID_YEARS`] after its
/// first. The last year the record counts in.
pub fn earned(activity: &Activity, today: Date) -> Result<i32, Refusal> {
    let (first_day, last_day) = activity.span();
    let year = activity.date().year();
    let aid = matches!(activity, Activity::AidAssignment { .. });
    if aid && first_day > today {
        return Err(Refusal::AidNotBegun { starts: first_day });
    }
    let last_year = if aid { last_day.year() } else { year };
    if last_year - year > MAX_AID_YEARS {
        return Err(Refusal::AidTooLong {
            first_year: year,
            last_year,
        });
    }
    if !aid && last_day > today {
        return Err(Refusal::NotYetEarned { ends: last_day });
    }
    Ok(last_year)
}

/// Art. 21: a record counting up to `last_year` is registered by the
/// route's deadline for that year under `set` (an engineer in the year,
/// plus the rule set's grace; departments and institutions within the
/// window after it).
pub fn in_time(set: &RuleSet, route: Channel, last_year: i32, today: Date) -> Result<(), Refusal> {
    match set.registration_refusal(last_year, route, today) {
        Some(message) => Err(Refusal::Late { message }),
        None => Ok(()),
    }
}

/// Art. 21: who confirms or rejects which route. An institution's upload
/// is confirmed by the engineer's employer or the field's regulator, a
/// self-submission by the provincial HRSS department of its province;
/// the ministry decides any record (`route` None: one of no known route).
/// A department's grant is confirmed as registered.
pub fn may_decide(decider: Decider, route: Option<Channel>) -> Result<(), Refusal> {
    let ok = match (decider, route) {
        (Decider::Ministry, _) => true,
        (Decider::Employer { of_engineer }, Some(Channel::InstitutionUpload)) => of_engineer,
        (Decider::Regulator { covers }, Some(Channel::InstitutionUpload)) => covers,
        (Decider::ProvincialHrss { of_province }, Some(Channel::EngineerSubmission)) => of_province,
        _ => false,
    };
    if ok { Ok(()) } else { Err(Refusal::NotDecider) }
}

/// Art. 18(8): one lecture engagement counts once, so a lecture names its
/// engagement (the event or programme's reference). Lectures stored
/// before this was required still read; this is asked of new ones.
pub fn names_engagement(activity: &Activity) -> Result<(), Refusal> {
    match activity {
        Activity::Lecture { engagement, .. } if engagement.is_empty() => {
            Err(Refusal::LectureUnnamed)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::{AidKind, Category};
    use time::macros::date;

    fn online(start: Date, end: Date) -> Activity {
        Activity::Online {
            category: Category::Professional,
            start,
            end,
            hours: 10.0,
            sessions: vec![],
        }
    }

    fn aid(start: Date, end: Date) -> Activity {
        Activity::AidAssignment {
            kind: AidKind::Tibet,
            start,
            end,
        }
    }

    fn paper() -> Activity {
        Activity::Other {
            kind: "report".into(),
            quantity: 1.0,
            id: "r-1".into(),
            date: date!(2026 - 03 - 01),
        }
    }

    #[test]
    fn each_registrant_has_its_route_and_others_none() {
        assert_eq!(
            route_of(Registrant::Department),
            Ok(Channel::DepartmentGrant)
        );
        assert_eq!(
            route_of(Registrant::Institution),
            Ok(Channel::InstitutionUpload)
        );
        assert_eq!(
            route_of(Registrant::Engineer),
            Ok(Channel::EngineerSubmission)
        );
        assert_eq!(route_of(Registrant::Other), Err(Refusal::NotARegistrant));
        assert_eq!(Refusal::NotARegistrant.articles(), &[ART_21]);
        assert!(confirmed_on_registration(Channel::DepartmentGrant));
        assert!(!confirmed_on_registration(Channel::InstitutionUpload));
        assert!(!confirmed_on_registration(Channel::EngineerSubmission));
    }

    #[test]
    fn training_is_registered_by_its_organiser_and_other_forms_by_the_engineer() {
        let course = online(date!(2026 - 03 - 01), date!(2026 - 03 - 31));
        assert_eq!(
            may_register(Channel::EngineerSubmission, &course),
            Err(Refusal::TrainingSubmitted)
        );
        assert_eq!(may_register(Channel::InstitutionUpload, &course), Ok(()));
        assert_eq!(may_register(Channel::DepartmentGrant, &course), Ok(()));
        assert_eq!(
            may_register(Channel::DepartmentGrant, &paper()),
            Err(Refusal::NotTraining)
        );
        let posting = aid(date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        assert_eq!(may_register(Channel::EngineerSubmission, &posting), Ok(()));
        assert_eq!(
            may_register(Channel::InstitutionUpload, &posting),
            Err(Refusal::NotTraining)
        );
        assert!(names_activity(Channel::InstitutionUpload));
        assert!(!names_activity(Channel::EngineerSubmission));
    }

    #[test]
    fn an_engineer_submits_only_their_own_materials() {
        let r = Channel::EngineerSubmission;
        assert_eq!(submits_own(r, "engineers/a", "engineers/a"), Ok(()));
        assert_eq!(
            submits_own(r, "engineers/a", "engineers/b"),
            Err(Refusal::NotOwnMaterials)
        );
        // Organisers register others' hours.
        assert_eq!(
            submits_own(Channel::InstitutionUpload, "institutions/i", "engineers/b"),
            Ok(())
        );
    }

    #[test]
    fn an_organiser_registers_only_its_own_activity_on_its_own_route() {
        assert_eq!(
            organiser_registers(Channel::InstitutionUpload, true, true),
            Ok(())
        );
        assert_eq!(
            organiser_registers(Channel::DepartmentGrant, true, false),
            Ok(())
        );
        assert_eq!(
            organiser_registers(Channel::InstitutionUpload, false, true),
            Err(Refusal::NotOrganiser)
        );
        assert_eq!(
            organiser_registers(Channel::DepartmentGrant, true, true),
            Err(Refusal::NotOrganiser)
        );
        assert_eq!(
            organiser_registers(Channel::InstitutionUpload, true, false),
            Err(Refusal::NotOrganiser)
        );
    }

    #[test]
    fn hours_fall_within_their_activity() {
        let course = online(date!(2026 - 03 - 01), date!(2026 - 03 - 31));
        let held = (date!(2026 - 03 - 01), date!(2026 - 03 - 31));
        assert_eq!(within_activity(&course, held), Ok(()));
        let late = (date!(2026 - 03 - 02), date!(2026 - 03 - 31));
        assert_eq!(
            within_activity(&course, late),
            Err(Refusal::OutsideActivity {
                from: date!(2026 - 03 - 01),
                to: date!(2026 - 03 - 31),
                held_from: date!(2026 - 03 - 02),
                held_to: date!(2026 - 03 - 31),
            })
        );
    }

    #[test]
    fn hours_are_registered_once_earned() {
        let today = date!(2026 - 06 - 30);
        let course = online(date!(2026 - 06 - 01), date!(2026 - 06 - 30));
        assert_eq!(earned(&course, today), Ok(2026));
        let unfinished = online(date!(2026 - 06 - 01), date!(2026 - 07 - 01));
        let refused = earned(&unfinished, today);
        assert_eq!(
            refused,
            Err(Refusal::NotYetEarned {
                ends: date!(2026 - 07 - 01)
            })
        );
        assert_eq!(refused.unwrap_err().articles(), &[ART_17]);
    }

    #[test]
    fn an_aid_assignment_is_registered_once_begun_and_counts_in_each_year_it_overlaps() {
        let today = date!(2026 - 06 - 30);
        let running = aid(date!(2026 - 03 - 01), date!(2028 - 02 - 28));
        assert_eq!(earned(&running, today), Ok(2028));
        let not_begun = aid(date!(2026 - 07 - 01), date!(2027 - 06 - 30));
        let refused = earned(&not_begun, today).unwrap_err();
        assert_eq!(
            refused,
            Refusal::AidNotBegun {
                starts: date!(2026 - 07 - 01)
            }
        );
        assert_eq!(refused.articles(), &[ART_17, ART_19]);
        let ten = aid(date!(2026 - 01 - 01), date!(2036 - 12 - 31));
        assert_eq!(earned(&ten, today), Ok(2036));
        let eleven = aid(date!(2026 - 01 - 01), date!(2037 - 01 - 01));
        assert_eq!(
            earned(&eleven, today),
            Err(Refusal::AidTooLong {
                first_year: 2026,
                last_year: 2037
            })
        );
    }

    #[test]
    fn registrations_after_the_deadline_are_refused_with_the_rule_sets_words() {
        let set = crate::RuleSet::national();
        let deadline = set.registration_deadline(2026, Channel::EngineerSubmission);
        assert_eq!(
            in_time(&set, Channel::EngineerSubmission, 2026, deadline),
            Ok(())
        );
        let late = in_time(
            &set,
            Channel::EngineerSubmission,
            2026,
            deadline + time::Duration::days(1),
        )
        .unwrap_err();
        match &late {
            Refusal::Late { message } => assert!(message.contains("had to be registered by")),
            other => panic!("{other:?}"),
        }
        assert_eq!(late.articles(), &[ART_21]);
    }

    #[test]
    fn each_route_is_decided_by_its_confirming_party() {
        use Channel::*;
        let upload = Some(InstitutionUpload);
        let own = Some(EngineerSubmission);
        assert_eq!(may_decide(Decider::Ministry, upload), Ok(()));
        assert_eq!(may_decide(Decider::Ministry, None), Ok(()));
        assert_eq!(
            may_decide(Decider::Employer { of_engineer: true }, upload),
            Ok(())
        );
        assert_eq!(
            may_decide(Decider::Employer { of_engineer: false }, upload),
            Err(Refusal::NotDecider)
        );
        assert_eq!(
            may_decide(Decider::Employer { of_engineer: true }, own),
            Err(Refusal::NotDecider)
        );
        assert_eq!(
            may_decide(Decider::Regulator { covers: true }, upload),
            Ok(())
        );
        assert_eq!(
            may_decide(Decider::Regulator { covers: true }, own),
            Err(Refusal::NotDecider)
        );
        assert_eq!(
            may_decide(Decider::ProvincialHrss { of_province: true }, own),
            Ok(())
        );
        assert_eq!(
            may_decide(Decider::ProvincialHrss { of_province: true }, upload),
            Err(Refusal::NotDecider)
        );
        assert_eq!(
            may_decide(Decider::ProvincialHrss { of_province: false }, own),
            Err(Refusal::NotDecider)
        );
        assert_eq!(
            may_decide(Decider::Other, Some(DepartmentGrant)),
            Err(Refusal::NotDecider)
        );
    }

    #[test]
    fn a_lecture_names_its_engagement() {
        assert_eq!(names_engagement(&paper()), Ok(()));
        let lecture = |engagement: &str| Activity::Lecture {
            engagement: engagement.into(),
            hours: 2.0,
            date: date!(2026 - 05 - 01),
        };
        assert_eq!(names_engagement(&lecture("conf-2026")), Ok(()));
        assert_eq!(names_engagement(&lecture("")), Err(Refusal::LectureUnnamed));
        assert_eq!(
            Refusal::LectureUnnamed.articles()[0].to_string(),
            "Art. 18(8)"
        );
    }
}
