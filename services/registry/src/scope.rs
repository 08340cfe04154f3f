//! Who may see and change what in the registry (`docs/product.md`, "Roles and
//! scope"). Every handler asks here; nothing else decides access.
//!
//! | resource | read | write |
//! |---|---|---|
//! | engineer | ministry, service; provincial HRSS of its province; regulator of its field (and province, if the regulator has one); its employer; the engineer | ministry; provincial HRSS of its province; its employer |
//! | employer | ministry, service; provincial HRSS of its province; regulators (of its province, if they have one); the employer | ministry; provincial HRSS of its province; the employer itself (update) |
//! | institution | everyone (its disclosure is public, Art. 15) | create: ministry, provincial HRSS of its province; update: those and the institution itself |
//! | standing | everyone | ministry; provincial HRSS of its province; regulator of a field it serves (and province); the supervision and quality services |
//! | activity | everyone | its organiser: the institution itself, or the department that runs it (Art. 12, 21); ministry |

use ce_proto::common::Role;
use ce_server::scope::{deny, narrow};
use ce_server::{ApiError, Caller};

fn same_province(caller: &Caller, province: &str) -> bool {
    caller.province.as_deref() == Some(province)
}

/// A regulator with a province is bound to it; one without is national.
fn regulator_province_ok(caller: &Caller, province: &str) -> bool {
    caller.province.as_deref().is_none_or(|p| p == province)
}

/// What identifies an engineer for scope.
pub struct EngineerScope<'a> {
    pub name: &'a str,
    pub province: &'a str,
    pub field: i32,
    pub employer: Option<&'a str>,
}

pub fn read_engineer(caller: &Caller, e: &EngineerScope) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry | Role::Service => true,
        Role::ProvincialHrss => same_province(caller, e.province),
        Role::IndustryRegulator => {
            caller.field.map(|f| f as i32) == Some(e.field)
                && regulator_province_ok(caller, e.province)
        }
        Role::Employer => e.employer.is_some() && caller.org.as_deref() == e.employer,
        Role::Engineer => caller.subject == e.name,
        Role::Institution | Role::Unspecified => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("reading this engineer"))
    }
}

pub fn write_engineer(caller: &Caller, e: &EngineerScope) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry => true,
        Role::ProvincialHrss => same_province(caller, e.province),
        Role::Employer => e.employer.is_some() && caller.org.as_deref() == e.employer,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("registering or changing this engineer"))
    }
}

/// The filters a caller's scope adds to a list of engineers. A request that
/// asks for something outside the scope is refused rather than answered
/// with an empty page, so the caller learns why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EngineerFilter {
    pub province: Option<String>,
    pub field: Option<i32>,
    pub employer: Option<String>,
    pub name: Option<String>,
}

pub fn list_engineers(
    caller: &Caller,
    requested: EngineerFilter,
) -> Result<EngineerFilter, ApiError> {
    let mut f = requested;
    match caller.role {
        Role::Ministry | Role::Service => {}
        Role::ProvincialHrss => {
            f.province = narrow(f.province, caller.province.clone(), "province")?
        }
        Role::IndustryRegulator => {
            f.field = narrow(f.field, caller.field.map(|x| x as i32), "field")?;
            f.province = narrow(f.province, caller.province.clone(), "province")?;
        }
        Role::Employer => f.employer = narrow(f.employer, caller.org.clone(), "employer's staff")?,
        Role::Engineer => f.name = Some(caller.subject.clone()),
        Role::Institution | Role::Unspecified => return Err(deny("listing engineers")),
    }
    Ok(f)
}

pub fn read_employer(caller: &Caller, name: &str, province: &str) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry | Role::Service => true,
        Role::ProvincialHrss => same_province(caller, province),
        Role::IndustryRegulator => regulator_province_ok(caller, province),
        Role::Employer => caller.org.as_deref() == Some(name),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("reading this employer"))
    }
}

pub fn create_employer(caller: &Caller, province: &str) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry => true,
        Role::ProvincialHrss => same_province(caller, province),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("registering an employer here"))
    }
}

pub fn update_employer(caller: &Caller, name: &str, province: &str) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry => true,
        Role::ProvincialHrss => same_province(caller, province),
        Role::Employer => caller.org.as_deref() == Some(name),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("changing this employer"))
    }
}

/// Filters a caller's scope adds to a list of employers: (province, only
/// this employer).
pub fn list_employers(
    caller: &Caller,
    province: Option<String>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    match caller.role {
        Role::Ministry | Role::Service => Ok((province, None)),
        Role::ProvincialHrss => Ok((narrow(province, caller.province.clone(), "province")?, None)),
        Role::IndustryRegulator => {
            Ok((narrow(province, caller.province.clone(), "province")?, None))
        }
        Role::Employer => Ok((province, caller.org.clone())),
        _ => Err(deny("listing employers")),
    }
}

pub fn create_institution(caller: &Caller, province: &str) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry => true,
        Role::ProvincialHrss => same_province(caller, province),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("registering an institution here"))
    }
}

pub fn update_institution(caller: &Caller, name: &str, province: &str) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry => true,
        Role::ProvincialHrss => same_province(caller, province),
        Role::Institution => caller.org.as_deref() == Some(name),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("changing this institution"))
    }
}

pub fn change_standing(caller: &Caller, province: &str, fields: &[i32]) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry | Role::Service => true,
        Role::ProvincialHrss => same_province(caller, province),
        Role::IndustryRegulator => {
            caller.field.is_some_and(|f| fields.contains(&(f as i32)))
                && regulator_province_ok(caller, province)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("changing this institution's standing"))
    }
}

/// The feed of engineer changes spans every province: the ministry and the
/// suite's services (crediting follows it) read it.
pub fn read_engineer_changes(caller: &Caller) -> Result<(), ApiError> {
    match caller.role {
        Role::Ministry | Role::Service => Ok(()),
        _ => Err(deny("reading the changes of engineers across provinces")),
    }
}

/// Who organises an activity the caller publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organiser {
    pub kind: ce_proto::registry::OrganiserKind,
    /// `institutions/{id}` or the department's id.
    pub id: String,
}

/// The organiser a caller publishes as: an institution as itself, a
/// department as itself (Art. 12, 21). Other roles publish nothing.
pub fn organiser_of(caller: &Caller) -> Result<Organiser, ApiError> {
    use ce_proto::registry::OrganiserKind as K;
    let kind = match caller.role {
        Role::Institution => K::Institution,
        Role::Ministry | Role::ProvincialHrss => K::HrssDepartment,
        Role::IndustryRegulator => K::IndustryRegulator,
        _ => return Err(deny("publishing activities")),
    };
    Ok(Organiser {
        kind,
        id: caller.organisation(),
    })
}

/// Where a department may hold its activity: a province its scope covers,
/// and for a regulator, its own field.
pub fn place_activity(caller: &Caller, province: &str, field: i32) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Ministry | Role::Institution => true,
        Role::ProvincialHrss => same_province(caller, province),
        Role::IndustryRegulator => {
            caller.field.map(|f| f as i32) == Some(field) && regulator_province_ok(caller, province)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("holding an activity in this province or field"))
    }
}

/// Only the organiser (or the ministry) changes an activity.
pub fn update_activity(caller: &Caller, organiser: &str) -> Result<(), ApiError> {
    if caller.role == Role::Ministry || organiser_of(caller).is_ok_and(|o| o.id == organiser) {
        Ok(())
    } else {
        Err(deny("changing another organiser's activity"))
    }
}
