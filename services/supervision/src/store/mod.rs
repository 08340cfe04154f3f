//! Supervision's SQL, one module per resource; nothing outside `store/`
//! queries the database. Functions take a connection so callers compose
//! them in one transaction.

pub mod inspections;
pub mod notifications;
pub mod quality_results;
pub mod referrals;
pub mod violations;

pub use inspections::*;
pub use notifications::*;
pub use quality_results::*;
pub use referrals::*;
pub use violations::*;

/// A set of fields as stored: `,a,b,`, so one is found with `LIKE '%,a,%'`.
pub fn encode_fields(fields: &[i32]) -> String {
    let mut v = fields.to_vec();
    v.sort_unstable();
    v.dedup();
    let inner: Vec<String> = v.iter().map(i32::to_string).collect();
    format!(",{},", inner.join(","))
}

pub fn decode_fields(s: &str) -> Vec<i32> {
    s.split(',').filter_map(|p| p.parse().ok()).collect()
}
