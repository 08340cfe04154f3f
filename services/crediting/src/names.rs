//! Resource names: `hourRecords/{id}` (UUIDv7, so id order is registration
//! order) and `engineers/{engineer}/annualStatuses/{year}`.

use ce_server::ApiError;

pub const HOUR_RECORDS: &str = "hourRecords";

pub fn record_name(id: &str) -> String {
    format!("{HOUR_RECORDS}/{id}")
}

pub fn record_id<'a>(field: &str, name: &'a str) -> Result<&'a str, ApiError> {
    ce_server::names::parse(field, HOUR_RECORDS, name)
}

/// The id in `engineers/{id}`.
pub fn engineer_id<'a>(field: &str, name: &'a str) -> Result<&'a str, ApiError> {
    ce_server::names::parse(field, "engineers", name)
}

pub fn engineer_name(id: &str) -> String {
    format!("engineers/{id}")
}

/// `employers/{id}`, as the registry and callers' tokens name an employer.
pub fn employer_name(id: &str) -> String {
    format!("employers/{id}")
}

pub fn status_name(engineer_id: &str, year: i32) -> String {
    format!("engineers/{engineer_id}/annualStatuses/{year}")
}

/// (engineer id, year) from `engineers/{engineer}/annualStatuses/{year}`.
pub fn parse_status(name: &str) -> Result<(String, i32), ApiError> {
    let bad = || {
        ApiError::invalid(
            "name",
            "must be `engineers/{engineer}/annualStatuses/{year}`",
        )
    };
    let rest = name.strip_prefix("engineers/").ok_or_else(bad)?;
    let (engineer, year) = rest.split_once("/annualStatuses/").ok_or_else(bad)?;
    if engineer.is_empty() || engineer.contains('/') {
        return Err(bad());
    }
    Ok((engineer.to_owned(), year.parse().map_err(|_| bad())?))
}

pub use ce_server::names::{new_id, not_found};
