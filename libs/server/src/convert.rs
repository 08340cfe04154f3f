//! Conversions between wire types and the rules library that more than one
//! service needs.

use ce_proto::registry::Standing as Wire;
use ce_rules::standing::Standing;

/// The rules' standing for a wire standing; `None` for UNSPECIFIED or an
/// unknown number.
pub fn standing_from_wire(s: i32) -> Option<Standing> {
    Some(match Wire::try_from(s).ok()? {
        Wire::Unspecified => return None,
        Wire::Active => Standing::Active,
        Wire::Warned => Standing::Warned,
        Wire::RectificationOrdered => Standing::RectificationOrdered,
        Wire::Suspended => Standing::Suspended,
        Wire::Disqualified => Standing::Disqualified,
    })
}

/// The wire standing of a rules standing.
pub fn standing_to_wire(s: Standing) -> Wire {
    match s {
        Standing::Active => Wire::Active,
        Standing::Warned => Wire::Warned,
        Standing::RectificationOrdered => Wire::RectificationOrdered,
        Standing::Suspended => Wire::Suspended,
        Standing::Disqualified => Wire::Disqualified,
    }
}
