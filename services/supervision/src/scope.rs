//! Who may read and act on what in supervision (`docs/product.md`, "Roles
//! and scope"). Every handler asks here; nothing else decides access.
//!
//! | resource | read | act |
//! |---|---|---|
//! | violation | service; a department covering its subject's province and fields; the institution, engineer or employer it is about | record, decide, close: a department covering its subject; appeal: whom it is about |
//! | audit trail | departments and services that may read the violation | - |
//! | quality result | - | ministry, service; the institution's provincial HRSS |
//! | notification | ministry, service; provincial HRSS of its province; the employer | acknowledge: the employer; a department's: that department, its province, the ministry |
//! | inspection | published: everyone; else a department covering its province and field | a department covering its province and field |
//! | institution record | service; a department covering the institution; the institution | - |
//! | referral (Art. 28) | the ministry; a provincial HRSS for HRSS bureaus below it | the same |

use ce_proto::common::Role;
use ce_server::ApiError;
use ce_server::auth::Caller;
use ce_server::scope::{deny, department_covers, narrow};

use crate::store::{NotificationFilter, NotificationRow, ViolationFilter, ViolationRow};

/// Who may record and decide violations of a subject in `province` whose
/// fields are `fields`: the ministry, the province's HRSS department, the
/// field's regulator (of the province, if it has one).
pub fn may_act(caller: &Caller, province: &str, fields: &[i32]) -> Result<(), ApiError> {
    if department_covers(caller, province, fields) {
        Ok(())
    } else {
        Err(deny("acting on violations of this subject"))
    }
}

/// Whether the violation is about the caller: its institution, engineer
/// or employer.
fn about(caller: &Caller, row: &ViolationRow) -> bool {
    match caller.role {
        Role::Institution => row
            .institution_id
            .as_deref()
            .is_some_and(|i| caller.org.as_deref() == Some(&format!("institutions/{i}"))),
        Role::Engineer => row
            .engineer_id
            .as_deref()
            .is_some_and(|e| caller.subject == format!("engineers/{e}")),
        Role::Employer => row
            .employer_id
            .as_deref()
            .is_some_and(|e| caller.org.as_deref() == Some(&format!("employers/{e}"))),
        _ => false,
    }
}

pub fn may_read(caller: &Caller, row: &ViolationRow) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Service => true,
        Role::Ministry | Role::ProvincialHrss | Role::IndustryRegulator => {
            department_covers(caller, &row.province, &row.subject_fields())
        }
        _ => about(caller, row),
    };
    if ok {
        Ok(())
    } else {
        Err(deny("reading this violation"))
    }
}

/// Whom a violation is about may appeal it.
pub fn may_appeal(caller: &Caller, row: &ViolationRow) -> Result<(), ApiError> {
    if about(caller, row) {
        Ok(())
    } else {
        Err(deny("appealing a violation that is not about you"))
    }
}

/// Departments and services read a violation's audit trail (and only a
/// violation they may read).
pub fn may_read_audit(caller: &Caller) -> Result<(), ApiError> {
    if matches!(
        caller.role,
        Role::Ministry | Role::Service | Role::ProvincialHrss | Role::IndustryRegulator
    ) {
        Ok(())
    } else {
        Err(deny("reading the audit trail"))
    }
}

/// Who reports an institution's quality results: the ministry, a service
/// (quality monitoring), the institution's provincial HRSS department.
pub fn may_report_quality(caller: &Caller, province: &str) -> Result<(), ApiError> {
    let allowed = match caller.role {
        Role::Ministry | Role::Service => true,
        Role::ProvincialHrss => caller.province.as_deref() == Some(province),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(deny("reporting quality results"))
    }
}

/// Narrows a list of violations to what the caller may read.
pub fn narrow_violations(
    caller: &Caller,
    f: &mut ViolationFilter,
    asked_province: Option<String>,
    asked_field: Option<i32>,
) -> Result<(), ApiError> {
    let c = caller;
    match c.role {
        Role::Ministry | Role::Service => {}
        Role::ProvincialHrss => {
            f.province = narrow(asked_province, c.province.clone(), "province")?
        }
        Role::IndustryRegulator => {
            f.field = narrow(asked_field, c.field.map(|x| x as i32), "field")?;
            f.province = narrow(asked_province, c.province.clone(), "province")?;
        }
        Role::Institution => {
            let own = own_org(c, "institutions/");
            f.institution_id = narrow(f.institution_id.take(), own, "institution")?;
            f.institutions_only = Some(true);
        }
        Role::Engineer => {
            let own = c.subject.strip_prefix("engineers/").map(str::to_owned);
            f.engineer_id = narrow(f.engineer_id.take(), own, "engineer")?;
            f.institutions_only = Some(false);
        }
        Role::Employer => {
            let own = own_org(c, "employers/");
            f.employer_id = narrow(f.employer_id.take(), own, "employer")?;
        }
        _ => return Err(deny("listing violations")),
    }
    Ok(())
}

/// The id of the caller's own organisation of a kind (`employers/`…).
fn own_org(c: &Caller, prefix: &str) -> Option<String> {
    c.org
        .as_deref()
        .and_then(|o| o.strip_prefix(prefix))
        .map(str::to_owned)
}

/// Narrows a list of notifications to what the caller may read.
pub fn narrow_notifications(
    caller: &Caller,
    f: &mut NotificationFilter,
    asked_province: Option<String>,
) -> Result<(), ApiError> {
    let c = caller;
    match c.role {
        Role::Ministry | Role::Service => {}
        Role::ProvincialHrss => {
            f.province = narrow(asked_province, c.province.clone(), "province")?
        }
        Role::Employer => {
            let own = own_org(c, "employers/");
            f.employer_id = narrow(f.employer_id.take(), own, "employer")?;
        }
        _ => return Err(deny("listing notifications")),
    }
    Ok(())
}

/// Who acknowledges a notification: the employer it is addressed to; a
/// department's, that department, its province or the ministry.
pub fn may_acknowledge(caller: &Caller, row: &NotificationRow) -> Result<(), ApiError> {
    let c = caller;
    let allowed = match &row.department {
        Some(department) => {
            c.subject == *department
                || c.role == Role::Ministry
                || (c.role == Role::ProvincialHrss
                    && c.province.as_deref() == Some(row.province.as_str()))
        }
        None => {
            c.role == Role::Employer
                && c.org.as_deref() == Some(&format!("employers/{}", row.employer_id))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(deny(
            "acknowledging a notification addressed to someone else",
        ))
    }
}

/// Who may plan and run inspections in a province and field.
pub fn may_inspect(caller: &Caller, province: &str, field: i32) -> Result<(), ApiError> {
    if department_covers(caller, province, &[field]) {
        Ok(())
    } else {
        Err(deny("inspecting in this scope"))
    }
}

/// Which inspections a caller lists: (province, field, published only).
/// Departments see their scope's in progress; everyone else the published
/// results ("public results").
pub fn inspections_listed(
    caller: &Caller,
    asked: Option<String>,
    published_only: bool,
) -> Result<(Option<String>, Option<i32>, bool), ApiError> {
    let c = caller;
    Ok(match c.role {
        Role::Ministry => (asked, None, published_only),
        Role::ProvincialHrss if !published_only => {
            (narrow(asked, c.province.clone(), "province")?, None, false)
        }
        Role::IndustryRegulator if !published_only => (
            narrow(asked, c.province.clone(), "province")?,
            c.field.map(|f| f as i32),
            false,
        ),
        _ => (asked, None, true),
    })
}

/// Whether the caller sees inspections in progress in a scope: a service,
/// or whoever may inspect it.
pub fn inspector(caller: &Caller, province: &str, field: i32) -> bool {
    caller.role == Role::Service || may_inspect(caller, province, field).is_ok()
}

/// Who reads an institution's supervision record: a service, a department
/// covering the institution, the institution itself.
pub fn may_read_record(
    caller: &Caller,
    institution: &str,
    province: &str,
    fields: &[i32],
) -> Result<(), ApiError> {
    let c = caller;
    let department = c.role == Role::Service || department_covers(c, province, fields);
    let own = c.role == Role::Institution && c.org.as_deref() == Some(institution);
    if department || own {
        Ok(())
    } else {
        Err(deny("reading this institution's record"))
    }
}

/// Whether `caller` is above `department` (Art. 28). The ministry oversees
/// every department's CE work, its own officials' included (those go to
/// the discipline body: it has no superior in the suite). A province's HRSS
/// department is above the HRSS bureaus below it, not above itself, and
/// not above an industry regulator, which answers to its own line.
pub fn above(caller: &Caller, department: &str, province: &str) -> bool {
    match caller.role {
        Role::Ministry => true,
        Role::ProvincialHrss => {
            caller.province.as_deref() == Some(province)
                && department.starts_with("hrss/")
                && department != format!("hrss/{province}")
        }
        _ => false,
    }
}

/// Which province's referrals a caller lists (None: every province), or
/// why not (Art. 28).
pub fn referrals_listed(caller: &Caller, refusal: &str) -> Result<Option<String>, ApiError> {
    match caller.role {
        Role::Ministry => Ok(None),
        Role::ProvincialHrss => Ok(caller.province.clone()),
        _ => Err(deny(refusal)),
    }
}
