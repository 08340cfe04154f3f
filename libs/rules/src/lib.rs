//! The regulation as rules a program can apply: the draft *Regulations on
//! Continuing Education for Engineering and Technical Personnel*
//! (工程技术人员继续教育规定), read interpretation by interpretation in `docs/rules.md`.
//!
//! Pure functions, no I/O: every service that computes or checks hours
//! calls this crate, and nothing else re-implements a rule.
//!
//! | concern | module |
//! |---|---|
//! | what engineers do: the nine forms (Art. 11) | [`activity`] |
//! | crediting one record: Art. 18 items 1-11 | [`credit`](mod@credit) |
//! | online-training evidence: xAPI statements (Art. 13, 18(2)) | [`xapi`] |
//! | assessing a year: Art. 18-20 | [`assessment`] |
//! | closing a year: the state of open years once a year ends (Art. 18-20) | [`close`] |
//! | rule sets: national baseline, provincial overlays (Art. 10, 17, 18(11)) | [`ruleset`] |
//! | impossible input and bad rule sets | [`error`] |
//! | fraud signals (Art. 13, 27) | [`signals`] |
//! | an institution's standing on a day (Art. 26) | [`standing`] |
//! | registering hours: routes, who submits, deadlines (Art. 17, 19, 21) | [`registration`] |
//! | deferral and make-up: who certifies, which year makes up (Art. 20) | [`deferral`] |
//! | sanctions: which article, which decision for which party, reinstatement (Art. 24, 26, 27) | [`sanction`] |
//! | quality monitoring: periods, poor grades (Art. 25) | [`quality`] |
//! | revocations by a decided case (Art. 27) | [`revocation`] |
//! | exact hours, article references | [`hours`], [`article`] |
//! | China Standard Time, the regulation's clock | [`dates`] |
//!
//! ```
//! use ce_rules::*;
//! use time::macros::date;
//!
//! // docs/rules.md, worked example 3: a sole research project (40) and a sole
//! // book (30) convert to 70, capped at 60; with 30 public online hours the
//! // year has 90, 60 professional: compliant.
//! let records = [
//!     Record::new("project", Activity::Research {
//!         role: ResearchRole::Sole, project: "MOHURD-2026-017".into(), date: date!(2026-06-30) }),
//!     Record::new("book", Activity::Book {
//!         authorship: BookAuthorship::Sole, isbn: "978-7-111-00000-1".into(), date: date!(2026-09-01) }),
//!     Record::new("online", Activity::Online { category: Category::Public,
//!         start: date!(2026-10-01), end: date!(2026-10-31), hours: 30.0, sessions: vec![] }),
//! ];
//! let rules = RuleBook::national();
//! let a = assess(&YearInput { year: 2026, records: &records, make_up: &[], used_for_make_up: &[], deferral: None,
//!     as_of: date!(2026-12-31) }, rules.for_year("44", 2026).unwrap()).unwrap();
//! assert_eq!(a.status, Status::Compliant);
//! assert_eq!(a.totals.converted, Hours::whole(60));
//! assert_eq!((a.totals.public, a.totals.professional), (Hours::whole(30), Hours::whole(60)));
//! assert!(a.explanations[1].to_string().contains("converted hours reached 60"));
//! ```

pub mod activity;
pub mod article;
pub mod assessment;
pub mod close;
pub mod credit;
pub mod dates;
pub mod deferral;
pub mod error;
pub mod hours;
pub mod quality;
pub mod registration;
pub mod revocation;
pub mod ruleset;
pub mod sanction;
pub mod signals;
pub mod standing;
pub mod xapi;

pub use activity::*;
pub use article::{Article, cite};
pub use assessment::{
    Assessment, DeemedReason, Deferral, Explanation, Shortfall, Status, Totals, YearInput, assess,
    make_up_chain_start,
};
pub use credit::{Credit, Cut, credit};
pub use error::{InputError, RuleSetError};
pub use hours::Hours;
pub use ruleset::{Channel, RuleBook, RuleSet};
pub use signals::Signal;
