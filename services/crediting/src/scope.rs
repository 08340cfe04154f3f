//! Who may see and confirm what in crediting (Art. 21; `docs/product.md`,
//! section Roles and scope).
//!
//! | what | read | confirm or reject |
//! |---|---|---|
//! | a record | ministry, service; provincial HRSS of the province it was registered in; regulator of its field (and province); the engineer's employer; the engineer; the institution that uploaded it | an institution's upload: the engineer's employer or the field's regulator; a self-submission: the provincial HRSS of the province; anything: the ministry. Never the institution that uploaded it. |
//! | an annual status | as records, but institutions see none | — |

use ce_proto::common::Role;
use ce_proto::crediting::Route;
use ce_rules::article::cite;
use ce_rules::registration::{self, Decider};
use ce_server::scope::{deny, narrow};
use ce_server::{ApiError, Caller};

use crate::registration::rules_route;

/// What decides who may see a record or a year.
pub struct Subject<'a> {
    pub engineer: &'a str,
    pub province: &'a str,
    pub field: i32,
    pub employer: Option<&'a str>,
    pub institution: Option<&'a str>,
}

fn regulator_covers(caller: &Caller, s: &Subject) -> bool {
    caller.field.map(|f| f as i32) == Some(s.field)
        && caller.province.as_deref().is_none_or(|p| p == s.province)
}

/// Who may work on a whole province's years (close them, reassess them)
/// or read its change feed: the ministry and the suite's services in the
/// province `asked` (empty: every province), a provincial department only
/// in its own; anyone else is refused `what`. The province to work in, or
/// None for every one.
pub fn province_wide(caller: &Caller, asked: &str, what: &str) -> Result<Option<String>, ApiError> {
    let asked = (!asked.is_empty()).then(|| asked.to_owned());
    match caller.role {
        Role::Ministry | Role::Service => Ok(asked),
        Role::ProvincialHrss => narrow(asked, caller.province.clone(), "province"),
        _ => Err(deny(what)),
    }
}

pub fn read(caller: &Caller, s: &Subject, what: &str) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry | Role::Service => true,
        Role::ProvincialHrss => caller.province.as_deref() == Some(s.province),
        Role::IndustryRegulator => regulator_covers(caller, s),
        Role::Employer => s.employer.is_some() && caller.org.as_deref() == s.employer,
        Role::Engineer => caller.subject == s.engineer,
        Role::Institution => s.institution.is_some() && caller.org.as_deref() == s.institution,
        Role::Unspecified => false,
    };
    if ok { Ok(()) } else { Err(deny(what)) }
}

/// Art. 21: who confirms which route, decided by
/// [`ce_rules::registration::may_decide`] from what the caller's scope says
/// of the record.
pub fn decide(caller: &Caller, route: Route, s: &Subject) -> Result<(), ApiError> {
    let decider = match caller.role {
        Role::Ministry => Decider::Ministry,
        Role::Employer => Decider::Employer {
            of_engineer: s.employer.is_some() && caller.org.as_deref() == s.employer,
        },
        Role::IndustryRegulator => Decider::Regulator {
            covers: regulator_covers(caller, s),
        },
        Role::ProvincialHrss => Decider::ProvincialHrss {
            of_province: caller.province.as_deref() == Some(s.province),
        },
        _ => Decider::Other,
    };
    registration::may_decide(decider, rules_route(route)).map_err(|refused| {
        deny(&format!(
            "deciding this record: an institution's upload is confirmed by the engineer's employer or the \
             field's regulator, a self-submission by the provincial HRSS department ({})",
            cite(refused.articles())
        ))
    })
}

/// The filters a caller's scope forces on a list, refusing a request for
/// something outside it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Narrowed {
    pub province: Option<String>,
    pub field: Option<i32>,
    pub employer: Option<String>,
    pub engineer: Option<String>,
    pub institution: Option<String>,
}

pub fn narrow_list(caller: &Caller, mut n: Narrowed, statuses: bool) -> Result<Narrowed, ApiError> {
    match caller.role {
        Role::Ministry | Role::Service => {}
        Role::ProvincialHrss => {
            n.province = narrow(n.province, caller.province.clone(), "province")?
        }
        Role::IndustryRegulator => {
            n.field = narrow(n.field, caller.field.map(|f| f as i32), "field")?;
            n.province = narrow(n.province, caller.province.clone(), "province")?;
        }
        Role::Employer => n.employer = narrow(n.employer, caller.org.clone(), "employer's staff")?,
        Role::Engineer => {
            n.engineer = narrow(n.engineer, Some(caller.subject.clone()), "engineer")?
        }
        Role::Institution if !statuses => {
            n.institution = narrow(n.institution, caller.org.clone(), "institution's uploads")?;
        }
        _ => {
            return Err(deny(if statuses {
                "listing annual statuses"
            } else {
                "listing records"
            }));
        }
    }
    Ok(n)
}
