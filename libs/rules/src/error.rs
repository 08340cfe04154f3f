//! Errors: impossible input, and rule sets that break the regulation. Each
//! names the field (or key) and the rule.

use crate::article::Article;

/// A record the rules cannot credit because it cannot be true, or a year
/// they cannot assess. Not a cap: caps cut hours, these refuse the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {record}: {field}: {message} ({article})")]
pub struct InputError {
    /// The record's id; empty when the error is about the whole year.
    pub record: String,
    /// The field at fault, for example `hours_per_day`.
    pub field: &'static str,
    pub message: String,
    /// The rule the input breaks.
    pub article: Article,
}

impl InputError {
    pub(crate) fn new(
        record: &str,
        field: &'static str,
        article: Article,
        message: impl Into<String>,
    ) -> InputError {
        InputError {
            record: record.to_owned(),
            field,
            message: message.into(),
            article,
        }
    }
}

/// A rule set that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    /// The overlay raises a national maximum, which only the State may set.
    #[error(
        "province {province}: {key} = {value} raises the national maximum of {national} ({article}); \
         a province may lower a maximum, never raise it"
    )]
    RaisesMaximum {
        province: String,
        key: String,
        value: String,
        national: String,
        article: Article,
    },
    /// The file is not a valid rule set.
    #[error("{source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
    /// Two overlays for one province take effect on the same day.
    #[error("province {province}: two rule sets take effect on {date}")]
    Conflict { province: String, date: String },
}
