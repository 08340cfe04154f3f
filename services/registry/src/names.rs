//! Resource names (AIP-122): `engineers/{id}` and friends. Ids are UUIDv7,
//! so id order is registration order and names carry no personal data.

use ce_server::ApiError;

pub const ENGINEERS: &str = "engineers";
pub const EMPLOYERS: &str = "employers";
pub const INSTITUTIONS: &str = "institutions";
pub const ACTIVITIES: &str = "activities";

/// A new id for a row.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn name(collection: &str, id: &str) -> String {
    format!("{collection}/{id}")
}

/// The id in `{collection}/{id}`, or INVALID_ARGUMENT naming `field`.
pub fn parse<'a>(field: &str, collection: &str, name: &'a str) -> Result<&'a str, ApiError> {
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| !id.is_empty() && !id.contains('/') && id.len() <= 64)
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("must be a resource name `{collection}/{{id}}`"),
            )
        })
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("{name} does not exist"))
}
