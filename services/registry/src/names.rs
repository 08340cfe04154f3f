//! Resource names (AIP-122): `engineers/{id}` and friends. Ids are UUIDv7,
//! so id order is registration order and names carry no personal data.

pub const ENGINEERS: &str = "engineers";
pub const EMPLOYERS: &str = "employers";
pub const INSTITUTIONS: &str = "institutions";
pub const ACTIVITIES: &str = "activities";

pub use ce_server::names::{name, new_id, not_found, parse};

use ce_server::{ApiError, Violations};

/// Up to this many names in one batch get (AIP-231).
pub const BATCH_LIMIT: usize = 1000;

/// The ids of a batch get's `names`, each `{collection}/{id}`: at most
/// [`BATCH_LIMIT`], and every malformed one refused by its index.
pub fn batch_ids(collection: &str, names: &[String]) -> Result<Vec<String>, ApiError> {
    if names.len() > BATCH_LIMIT {
        return Err(ApiError::invalid(
            "names",
            format!("at most {BATCH_LIMIT} names at once"),
        ));
    }
    let mut v = Violations::new();
    let ids = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match parse("names", collection, n) {
            Ok(id) => Some(id.to_owned()),
            Err(_) => {
                v.add(
                    format!("names[{i}]"),
                    format!("must be `{collection}/{{id}}`"),
                );
                None
            }
        })
        .collect();
    v.finish()?;
    Ok(ids)
}
