//! Pieces every service's scope rules are built from. The rules themselves
//! (who may see and change what) stay in each service's `scope.rs`.

use ce_proto::common::Role;

use crate::ApiError;
use crate::auth::Caller;

/// PERMISSION_DENIED saying what the caller's role and scope do not allow.
pub fn deny(what: &str) -> ApiError {
    ApiError::denied(
        crate::reason::Reason::OutOfScope,
        "",
        format!("your role and scope do not allow {what}"),
    )
}

/// Combines a List filter the caller asked for with the one its scope
/// forces: asking for something outside the scope is refused rather than
/// answered with an empty page, so the caller learns why.
pub fn narrow<T: PartialEq + Clone>(
    requested: Option<T>,
    forced: Option<T>,
    what: &str,
) -> Result<Option<T>, ApiError> {
    match (requested, forced) {
        (Some(r), Some(f)) if r != f => Err(deny(&format!("listing another {what}"))),
        (r, None) => Ok(r),
        (_, f) => Ok(f),
    }
}

/// Whether a department's caller covers a subject in `province` with any
/// of `fields`: the ministry everything, a provincial HRSS department its
/// province, an industry regulator its field (within its province, if it
/// has one). Every other role: no.
pub fn department_covers(caller: &Caller, province: &str, fields: &[i32]) -> bool {
    match caller.role {
        Role::Ministry => true,
        Role::ProvincialHrss => caller.province.as_deref() == Some(province),
        Role::IndustryRegulator => {
            caller.field.is_some_and(|f| fields.contains(&(f as i32)))
                && caller.province.as_deref().is_none_or(|p| p == province)
        }
        _ => false,
    }
}
