//! Resource names (AIP-122): `engineers/{id}` and friends. Ids are UUIDv7,
//! so id order is registration order and names carry no personal data.

pub const ENGINEERS: &str = "engineers";
pub const EMPLOYERS: &str = "employers";
pub const INSTITUTIONS: &str = "institutions";
pub const ACTIVITIES: &str = "activities";

pub use ce_server::names::{name, new_id, not_found, parse};
