//! The registry's SQL, one module per table group. Functions take a
//! connection so callers compose them inside one transaction.

pub mod activities;
pub mod employers;
pub mod engineers;
pub mod institutions;

/// `,7,18,` for a set of enum numbers, so `LIKE '%,18,%'` finds a member.
pub fn encode_set(values: &[i32]) -> String {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    let inner: Vec<String> = v.iter().map(i32::to_string).collect();
    format!(",{},", inner.join(","))
}

pub fn decode_set(s: &str) -> Vec<i32> {
    s.split(',').filter_map(|p| p.parse().ok()).collect()
}

/// The `LIKE` pattern that finds `value` in an encoded set.
pub fn set_member_pattern(value: i32) -> String {
    format!("%,{value},%")
}
