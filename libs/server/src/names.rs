//! Resource names (AIP-122) every service uses: `{collection}/{id}` with
//! UUIDv7 ids, so id order is creation order and names carry no personal
//! data.

use crate::ApiError;

/// A new id for a row.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `{collection}/{id}`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_parses_only_in_its_own_collection() {
        assert_eq!(parse("f", "engineers", "engineers/abc").ok(), Some("abc"));
        for bad in [
            "employers/abc",
            "engineers/",
            "engineers/a/b",
            "engineersabc",
        ] {
            assert!(parse("f", "engineers", bad).is_err(), "{bad}");
        }
    }
}
