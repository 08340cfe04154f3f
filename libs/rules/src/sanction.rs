//! Sanctions (Art. 24, 26, 27): which article a violation falls under for
//! the party it names, which decisions apply to which party, and when an
//! institution is reinstated.
//!
//! | rule | function |
//! |---|---|
//! | the article a category breaches for its party | [`articles`], [`article`] |
//! | whom a category may name | [`named`], [`Named::party`] |
//! | which decision suits which party, and its standing | [`decision`], [`standing_changes`] |
//! | a rectification order's deadline, a suspension's end | [`not_before`], [`overdue`] |
//! | reinstatement after a rectification (Art. 26) | [`reinstatement`] |
//! | a final quality result against the case it raised (Art. 25, 26) | [`on_quality_result`] |
//! | the "double random" draw, and who may be drawn (Art. 24) | [`draw`], [`Scope`] |

use time::Date;

use crate::article::{ART_15, ART_16, ART_24, ART_25, ART_26, ART_27, Article, cite};
use crate::standing::{Change, Standing};

/// What a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Hours obtained by improper means (Art. 27).
    ImproperHours,
    /// Refusing or obstructing an inspection (Art. 24).
    RefusedInspection,
    /// An institution's obligations, its fees made public among them (Art. 15).
    Obligations,
    /// Poor quality-monitoring results (Art. 25).
    PoorQuality,
    /// Art. 16: recruiting by fraud.
    FraudulentRecruitment,
    /// Art. 16: fees not allowed.
    ImproperFees,
    /// Art. 16: activities unrelated to continuing education.
    UnrelatedActivities,
    /// Art. 16: perfunctory assessment.
    PerfunctoryAssessment,
    /// Any other violation by an institution (Art. 26).
    Other,
}

/// Whom a violation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// An institution (Art. 16, 24, 26).
    Institution,
    /// An engineer: improper hours (Art. 27), or refusing inspection (Art. 24).
    Engineer,
    /// An employer that refused inspection (Art. 24).
    Employer,
}

/// The articles a category breaches, for its party (Art. 24, 26, 27):
/// Art. 26 handles only institutions' violations, so an employer's or
/// engineer's refusal of inspection breaches Art. 24 alone.
pub fn articles(c: Category, party: Party) -> &'static [Article] {
    match c {
        Category::RefusedInspection if party != Party::Institution => &[ART_24],
        Category::Obligations => &[ART_15, ART_26],
        Category::PoorQuality => &[ART_25, ART_26],
        Category::FraudulentRecruitment
        | Category::ImproperFees
        | Category::UnrelatedActivities
        | Category::PerfunctoryAssessment => &[ART_16, ART_26],
        Category::RefusedInspection => &[ART_24, ART_26],
        Category::Other => &[ART_26],
        Category::ImproperHours => &[ART_27],
    }
}

/// [`articles`] as the text cites them: "Art. 16, 26".
pub fn article(c: Category, party: Party) -> String {
    cite(articles(c, party))
}

/// Which of institution, engineer and employer a violation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Named {
    pub institution: bool,
    pub engineer: bool,
    pub employer: bool,
}

impl Named {
    /// The party a violation naming these is about, once [`named`] has
    /// accepted it: an engineer's violation names no employer (it is filled
    /// in), and an employer's nothing else.
    pub fn party(self) -> Party {
        if self.engineer {
            Party::Engineer
        } else if !self.institution && self.employer {
            Party::Employer
        } else {
            Party::Institution
        }
    }
}

/// A violation naming parties its category does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misnamed {
    /// Improper hours name the engineer, and no institution or employer (Art. 27).
    ImproperHours,
    /// A refusal of inspection names one institution, engineer or employer (Art. 24).
    RefusedInspection,
    /// An institution's violation names the institution, and no engineer
    /// or employer (Art. 16, 26).
    Institution,
}

impl Misnamed {
    /// The articles the refusal cites.
    pub fn articles(self) -> &'static [Article] {
        match self {
            Misnamed::ImproperHours => &[ART_27],
            Misnamed::RefusedInspection => &[ART_24],
            Misnamed::Institution => &[ART_16, ART_26],
        }
    }
}

/// Whom a violation of category `c` may name (Art. 24, 26, 27): improper
/// hours the engineer only; a refusal of inspection one institution,
/// engineer or employer; an institution's violation the institution only.
pub fn named(c: Category, n: Named) -> Result<Party, Misnamed> {
    let only = |party: Party| {
        let want = Named {
            institution: party == Party::Institution,
            engineer: party == Party::Engineer,
            employer: party == Party::Employer,
        };
        n == want
    };
    match c {
        Category::ImproperHours if only(Party::Engineer) => Ok(Party::Engineer),
        Category::ImproperHours => Err(Misnamed::ImproperHours),
        Category::RefusedInspection => [Party::Institution, Party::Engineer, Party::Employer]
            .into_iter()
            .find(|p| only(*p))
            .ok_or(Misnamed::RefusedInspection),
        _ if only(Party::Institution) => Ok(Party::Institution),
        _ => Err(Misnamed::Institution),
    }
}

/// Whether a violation of category `c` names hour records: improper hours
/// name the records obtained improperly, and nothing else names any (Art. 27).
pub fn names_records(c: Category) -> bool {
    c == Category::ImproperHours
}

/// What a violation is decided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Warning,
    RectificationOrder,
    Suspension,
    Disqualification,
    /// Improperly obtained hours revoked (Art. 27).
    Revocation,
}

/// A decision that does not suit the violation's party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsuited {
    /// Improper hours are decided by revocation (Art. 27).
    ImproperHours,
    /// An institution gets a warning, a rectification order, a suspension
    /// or disqualification (Art. 26).
    Institution,
    /// An employer or engineer that refused inspection gets a warning or a
    /// rectification order (Art. 24).
    RefusedInspection,
}

impl Unsuited {
    /// The article the refusal cites.
    pub fn article(self) -> Article {
        match self {
            Unsuited::ImproperHours => ART_27,
            Unsuited::Institution => ART_26,
            Unsuited::RefusedInspection => ART_24,
        }
    }
}

/// Whether `kind` (none: not given) may decide a violation of category `c`
/// about `party`, and the standing it gives an institution (Art. 24, 26,
/// 27): improper hours are revoked; an institution is warned, ordered to
/// rectify, suspended or disqualified; an employer or engineer that
/// refused inspection is warned or ordered to rectify, which changes no
/// standing.
pub fn decision(
    c: Category,
    party: Party,
    kind: Option<Decision>,
) -> Result<Option<Standing>, Unsuited> {
    let revokes = c == Category::ImproperHours;
    match (party, kind) {
        (_, Some(Decision::Revocation)) if revokes => Ok(None),
        _ if revokes => Err(Unsuited::ImproperHours),
        (Party::Institution, Some(Decision::Warning)) => Ok(Some(Standing::Warned)),
        (Party::Institution, Some(Decision::RectificationOrder)) => {
            Ok(Some(Standing::RectificationOrdered))
        }
        (Party::Institution, Some(Decision::Suspension)) => Ok(Some(Standing::Suspended)),
        (Party::Institution, Some(Decision::Disqualification)) => Ok(Some(Standing::Disqualified)),
        (Party::Institution, _) => Err(Unsuited::Institution),
        (_, Some(Decision::Warning | Decision::RectificationOrder)) => Ok(None),
        _ => Err(Unsuited::RefusedInspection),
    }
}

/// Whether a decision of category `c` takes effect on a date: all but a
/// revocation (Art. 27), which undoes records instead.
pub fn dated(c: Category) -> bool {
    c != Category::ImproperHours
}

/// Whether a rectification deadline or a suspension's end `until` may
/// follow a decision effective `from`: not before it (Art. 26).
pub fn not_before(until: Date, from: Date) -> bool {
    until >= from
}

/// The standing changes a decision giving `standing` from `from` makes
/// (Art. 26): that standing, and, for a suspension ending on
/// `suspension_end`, active again the day after it ends.
pub fn standing_changes(
    standing: Standing,
    from: Date,
    suspension_end: Option<Date>,
) -> Vec<Change> {
    let mut out = vec![Change {
        effective: from,
        standing,
    }];
    if let Some(back) = suspension_end.and_then(Date::next_day) {
        out.push(Change {
            effective: back,
            standing: Standing::Active,
        });
    }
    out
}

/// Whether a rectification order whose deadline is `deadline` is unmet on
/// `today`, and so escalated for a harder decision (Art. 26): the deadline
/// day itself is still the institution's.
pub fn overdue(deadline: Date, today: Date) -> bool {
    deadline < today
}

/// Whether closing a case decided by `decision` as rectified may return
/// the institution to active (Art. 26): only a rectification order's.
pub fn reinstates(decision: Decision) -> bool {
    decision == Decision::RectificationOrder
}

/// Another decided case of the same institution, as [`reinstatement`]
/// weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherCase {
    /// What it was decided by.
    pub decision: Option<Decision>,
    /// A suspension's last day, if it has a valid one.
    pub suspension_end: Option<Date>,
    /// Decided and not closed yet.
    pub in_force: bool,
}

/// When a case decided by `decision` (effective `effective`, if a valid
/// date) and closed as rectified on `today` returns the institution to
/// active (Art. 26): from today, or from the order's own date if that is
/// later. None when it is not a rectification order, or when another
/// sanction of the institution still governs: a disqualification (final),
/// a suspension not over by then (it returns to active by itself when it
/// ends), or another warning or order not closed yet. Reinstating then
/// would lift a standing that is not this case's to lift.
pub fn reinstatement(
    decision: Decision,
    effective: Option<Date>,
    today: Date,
    others: &[OtherCase],
) -> Option<Date> {
    if !reinstates(decision) {
        return None;
    }
    let from = effective.map_or(today, |d| d.max(today));
    let governs = |o: &OtherCase| match o.decision {
        Some(Decision::Disqualification) => true,
        Some(Decision::Suspension) => o.suspension_end.is_some_and(|end| end >= from),
        Some(Decision::Warning | Decision::RectificationOrder) => o.in_force,
        _ => false,
    };
    (!others.iter().any(governs)).then_some(from)
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseState {
    Open,
    Decided,
    Closed,
    /// Withdrawn before a decision: its ground fell away.
    Withdrawn,
}

/// What a final quality-monitoring result does to the case it raised
/// (Art. 25, 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityAction {
    /// Nothing to raise, or nothing changed.
    Nothing,
    /// A poor result with no case standing: a new case (again, after a
    /// withdrawal).
    Raise,
    /// Still poor with other figures, and not decided yet: the open case
    /// takes them.
    Update,
    /// No longer poor, and not decided yet: the open case is withdrawn.
    Withdraw,
    /// Decided already: the decision stands, and its decider is told.
    NotifyDecider,
}

/// What a final result, `poor` or not, does to the case an institution's
/// earlier result for the period raised (`raised`, its state), when the
/// result's figures are (`same_figures`) or are not those the case holds
/// (Art. 25, 26).
pub fn on_quality_result(
    raised: Option<CaseState>,
    poor: bool,
    same_figures: bool,
) -> QualityAction {
    match raised {
        None | Some(CaseState::Withdrawn) if poor => QualityAction::Raise,
        None | Some(CaseState::Withdrawn) => QualityAction::Nothing,
        Some(_) if same_figures => QualityAction::Nothing,
        Some(CaseState::Open) if poor => QualityAction::Update,
        Some(CaseState::Open) => QualityAction::Withdraw,
        Some(_) => QualityAction::NotifyDecider,
    }
}

/// An inspection's scope (Art. 24): a province or the nation, a field or
/// every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// None: national.
    pub province: Option<&'a str>,
    /// None: every field.
    pub field: Option<i32>,
}

impl Scope<'_> {
    /// Whether a target in `province` working in `fields` may be drawn;
    /// `fields` None for a target without fields (an employer).
    pub fn covers(&self, province: &str, fields: Option<&[i32]>) -> bool {
        let place = self.province.is_none_or(|p| p == province);
        let field = match (self.field, fields) {
            (Some(f), Some(fields)) => fields.contains(&f),
            _ => true,
        };
        place && field
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-known generator
/// anyone can re-implement to check a draw.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0), by rejection so no index is favoured.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// The first `n` of a partial Fisher-Yates shuffle of `items`.
fn pick(rng: &mut SplitMix64, items: &[String], n: usize) -> Vec<String> {
    let mut pool = items.to_vec();
    let n = n.min(pool.len());
    for i in 0..n {
        let j = i + rng.below((pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(n);
    pool
}

/// The "double random" draw (Art. 24): sort both lists, seed one
/// SplitMix64 with `seed`, draw `n` targets from the population, then `m`
/// inspectors from the roster. Asking for more than there is draws
/// everyone.
pub fn draw(
    seed: u64,
    population: &[String],
    n: usize,
    roster: &[String],
    m: usize,
) -> (Vec<String>, Vec<String>) {
    let mut population = population.to_vec();
    population.sort();
    population.dedup();
    let mut roster = roster.to_vec();
    roster.sort();
    roster.dedup();
    let mut rng = SplitMix64(seed);
    let targets = pick(&mut rng, &population, n);
    let inspectors = pick(&mut rng, &roster, m);
    (targets, inspectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const ALL: [Category; 9] = [
        Category::ImproperHours,
        Category::RefusedInspection,
        Category::Obligations,
        Category::PoorQuality,
        Category::FraudulentRecruitment,
        Category::ImproperFees,
        Category::UnrelatedActivities,
        Category::PerfunctoryAssessment,
        Category::Other,
    ];

    fn naming(institution: bool, engineer: bool, employer: bool) -> Named {
        Named {
            institution,
            engineer,
            employer,
        }
    }

    #[test]
    fn a_refusal_of_inspection_breaches_art_26_only_for_an_institution() {
        let refused = Category::RefusedInspection;
        assert_eq!(article(refused, Party::Institution), "Art. 24, 26");
        assert_eq!(article(refused, Party::Employer), "Art. 24");
        assert_eq!(article(refused, Party::Engineer), "Art. 24");
        assert_eq!(article(Category::ImproperHours, Party::Engineer), "Art. 27");
        assert_eq!(
            article(Category::Obligations, Party::Institution),
            "Art. 15, 26"
        );
        assert_eq!(
            article(Category::PoorQuality, Party::Institution),
            "Art. 25, 26"
        );
        assert_eq!(
            article(Category::ImproperFees, Party::Institution),
            "Art. 16, 26"
        );
        assert_eq!(article(Category::Other, Party::Institution), "Art. 26");
    }

    #[test]
    fn improper_hours_name_the_engineer_only() {
        let c = Category::ImproperHours;
        assert_eq!(named(c, naming(false, true, false)), Ok(Party::Engineer));
        for n in [
            naming(true, true, false),
            naming(false, true, true),
            naming(false, false, false),
        ] {
            assert_eq!(named(c, n), Err(Misnamed::ImproperHours));
        }
        assert_eq!(Misnamed::ImproperHours.articles(), &[ART_27]);
    }

    #[test]
    fn a_refusal_of_inspection_names_exactly_one_party() {
        let c = Category::RefusedInspection;
        assert_eq!(named(c, naming(true, false, false)), Ok(Party::Institution));
        assert_eq!(named(c, naming(false, true, false)), Ok(Party::Engineer));
        assert_eq!(named(c, naming(false, false, true)), Ok(Party::Employer));
        assert_eq!(
            named(c, naming(true, false, true)),
            Err(Misnamed::RefusedInspection)
        );
        assert_eq!(named(c, Named::default()), Err(Misnamed::RefusedInspection));
    }

    #[test]
    fn an_institutions_violation_names_the_institution_only() {
        for c in ALL.into_iter().skip(2) {
            assert_eq!(named(c, naming(true, false, false)), Ok(Party::Institution));
            assert_eq!(
                named(c, naming(true, true, false)),
                Err(Misnamed::Institution)
            );
            assert_eq!(
                named(c, naming(false, false, true)),
                Err(Misnamed::Institution)
            );
        }
        assert!(names_records(Category::ImproperHours));
        assert!(!names_records(Category::Other));
    }

    #[test]
    fn a_violation_is_about_the_engineer_it_names_else_the_employer_alone() {
        assert_eq!(naming(false, true, true).party(), Party::Engineer);
        assert_eq!(naming(false, false, true).party(), Party::Employer);
        assert_eq!(naming(true, false, true).party(), Party::Institution);
        assert_eq!(naming(true, false, false).party(), Party::Institution);
    }

    #[test]
    fn improper_hours_are_decided_by_revocation_alone() {
        let c = Category::ImproperHours;
        assert_eq!(
            decision(c, Party::Engineer, Some(Decision::Revocation)),
            Ok(None)
        );
        assert_eq!(
            decision(c, Party::Engineer, Some(Decision::Warning)),
            Err(Unsuited::ImproperHours)
        );
        assert_eq!(
            decision(c, Party::Engineer, None),
            Err(Unsuited::ImproperHours)
        );
        assert!(!dated(c));
    }

    #[test]
    fn an_institution_gets_one_of_art_26s_sanctions_and_its_standing() {
        let c = Category::Other;
        let p = Party::Institution;
        assert_eq!(
            decision(c, p, Some(Decision::Warning)),
            Ok(Some(Standing::Warned))
        );
        assert_eq!(
            decision(c, p, Some(Decision::RectificationOrder)),
            Ok(Some(Standing::RectificationOrdered))
        );
        assert_eq!(
            decision(c, p, Some(Decision::Suspension)),
            Ok(Some(Standing::Suspended))
        );
        assert_eq!(
            decision(c, p, Some(Decision::Disqualification)),
            Ok(Some(Standing::Disqualified))
        );
        assert_eq!(
            decision(c, p, Some(Decision::Revocation)),
            Err(Unsuited::Institution)
        );
        assert_eq!(decision(c, p, None), Err(Unsuited::Institution));
        assert_eq!(Unsuited::Institution.article(), ART_26);
    }

    #[test]
    fn an_employer_or_engineer_refusing_inspection_is_warned_or_ordered() {
        let c = Category::RefusedInspection;
        for p in [Party::Employer, Party::Engineer] {
            assert_eq!(decision(c, p, Some(Decision::Warning)), Ok(None));
            assert_eq!(decision(c, p, Some(Decision::RectificationOrder)), Ok(None));
            for k in [
                Decision::Suspension,
                Decision::Disqualification,
                Decision::Revocation,
            ] {
                assert_eq!(decision(c, p, Some(k)), Err(Unsuited::RefusedInspection));
            }
        }
        assert_eq!(Unsuited::RefusedInspection.article(), ART_24);
    }

    #[test]
    fn a_suspension_ends_by_itself_the_day_after_its_end() {
        let from = date!(2026 - 03 - 01);
        assert_eq!(
            standing_changes(Standing::Suspended, from, Some(date!(2026 - 05 - 31))),
            [
                Change {
                    effective: from,
                    standing: Standing::Suspended
                },
                Change {
                    effective: date!(2026 - 06 - 01),
                    standing: Standing::Active
                },
            ]
        );
        assert_eq!(standing_changes(Standing::Warned, from, None).len(), 1);
        assert!(not_before(from, from));
        assert!(!not_before(date!(2026 - 02 - 28), from));
    }

    #[test]
    fn an_order_is_overdue_the_day_after_its_deadline() {
        let deadline = date!(2026 - 06 - 30);
        assert!(!overdue(deadline, deadline));
        assert!(overdue(deadline, date!(2026 - 07 - 01)));
    }

    #[test]
    fn a_rectified_order_reinstates_unless_another_sanction_governs() {
        let today = date!(2026 - 06 - 01);
        let order = Decision::RectificationOrder;
        assert_eq!(reinstatement(order, None, today, &[]), Some(today));
        let later = date!(2026 - 07 - 01);
        assert_eq!(reinstatement(order, Some(later), today, &[]), Some(later));
        assert_eq!(
            reinstatement(order, Some(date!(2026 - 01 - 01)), today, &[]),
            Some(today)
        );
        assert_eq!(reinstatement(Decision::Warning, None, today, &[]), None);
        let other = |decision, suspension_end, in_force| OtherCase {
            decision: Some(decision),
            suspension_end,
            in_force,
        };
        let disqualified = other(Decision::Disqualification, None, false);
        assert_eq!(reinstatement(order, None, today, &[disqualified]), None);
        let suspended = other(Decision::Suspension, Some(today), false);
        assert_eq!(reinstatement(order, None, today, &[suspended]), None);
        let over = other(Decision::Suspension, Some(date!(2026 - 05 - 31)), false);
        assert_eq!(reinstatement(order, None, today, &[over]), Some(today));
        let warned = other(Decision::Warning, None, true);
        assert_eq!(reinstatement(order, None, today, &[warned]), None);
        let closed = other(Decision::Warning, None, false);
        assert_eq!(reinstatement(order, None, today, &[closed]), Some(today));
    }

    #[test]
    fn a_quality_result_raises_updates_withdraws_or_tells_the_decider() {
        use CaseState::*;
        use QualityAction as A;
        assert_eq!(on_quality_result(None, true, false), A::Raise);
        assert_eq!(on_quality_result(None, false, false), A::Nothing);
        assert_eq!(on_quality_result(Some(Withdrawn), true, true), A::Raise);
        assert_eq!(on_quality_result(Some(Withdrawn), false, false), A::Nothing);
        assert_eq!(on_quality_result(Some(Open), true, true), A::Nothing);
        assert_eq!(on_quality_result(Some(Open), true, false), A::Update);
        assert_eq!(on_quality_result(Some(Open), false, false), A::Withdraw);
        assert_eq!(
            on_quality_result(Some(Decided), false, false),
            A::NotifyDecider
        );
        assert_eq!(
            on_quality_result(Some(Closed), true, false),
            A::NotifyDecider
        );
        assert_eq!(on_quality_result(Some(Closed), true, true), A::Nothing);
    }

    #[test]
    fn an_inspection_draws_only_within_its_scope() {
        let national = Scope {
            province: None,
            field: None,
        };
        assert!(national.covers("44", Some(&[18])));
        let scope = Scope {
            province: Some("44"),
            field: Some(18),
        };
        assert!(scope.covers("44", Some(&[7, 18])));
        assert!(!scope.covers("44", Some(&[7])));
        assert!(!scope.covers("11", Some(&[18])));
        assert!(scope.covers("44", None), "an employer has no field");
    }

    fn names(n: usize, prefix: &str) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}/{i:04}")).collect()
    }

    #[test]
    fn a_draw_is_reproduced_from_its_seed_whatever_the_order_of_its_lists() {
        let population = names(500, "institutions");
        let roster = names(30, "inspector");
        let a = draw(42, &population, 20, &roster, 4);
        let mut shuffled = population.clone();
        shuffled.reverse();
        let b = draw(42, &shuffled, 20, &roster, 4);
        assert_eq!(a, b);
        assert_eq!(a.0.len(), 20);
        assert_eq!(a.1.len(), 4);
        let distinct: std::collections::BTreeSet<_> = a.0.iter().collect();
        assert_eq!(distinct.len(), 20, "no target twice");
        assert_ne!(
            draw(43, &population, 20, &roster, 4),
            a,
            "another seed, another draw"
        );
    }

    #[test]
    fn splitmix64_matches_its_reference_output() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut r = SplitMix64(0);
        assert_eq!(r.next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn asking_for_more_than_there_is_draws_everyone() {
        let (t, i) = draw(7, &names(3, "e"), 10, &names(2, "i"), 5);
        assert_eq!((t.len(), i.len()), (3, 2));
    }
}
