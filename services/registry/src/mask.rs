//! Update masks (AIP-134).

use ce_server::ApiError;

/// The paths to update: those of `mask`, each checked against `mutable`, or
/// every mutable field when no mask is given.
pub fn paths(
    mask: Option<prost_types::FieldMask>,
    mutable: &[&str],
    resource: &str,
) -> Result<Vec<String>, ApiError> {
    let Some(mask) = mask.filter(|m| !m.paths.is_empty()) else {
        return Ok(mutable.iter().map(|s| (*s).to_owned()).collect());
    };
    let mut bad = Vec::new();
    for p in &mask.paths {
        if !mutable.contains(&p.as_str()) {
            bad.push(p.clone());
        }
    }
    if bad.is_empty() {
        Ok(mask.paths)
    } else {
        Err(ApiError::invalid(
            "update_mask",
            format!(
                "{} cannot be changed on {resource}; mutable fields: {}",
                bad.join(", "),
                mutable.join(", ")
            ),
        ))
    }
}
