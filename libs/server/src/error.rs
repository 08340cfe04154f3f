//! Errors of the domain, mapped to gRPC status in one place.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::reason::Reason;

/// One bad field: its path in the request and what rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> FieldViolation {
        FieldViolation {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input: `INVALID_ARGUMENT` with a `google.rpc.BadRequest` naming
    /// each bad field.
    #[error("invalid request: {}", summary(.0))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// The request is well formed but the state does not allow it: why
    /// (the reason names the article), the resource whose state it is, and
    /// the particulars (the message cites the article too).
    #[error("{message}")]
    FailedPrecondition {
        reason: Reason,
        resource: String,
        message: String,
    },
    /// The caller may not do this: out of its scope, or not for its role.
    #[error("{message}")]
    PermissionDenied {
        reason: Reason,
        resource: String,
        message: String,
    },
    #[error("{0}")]
    Unavailable(String),
    /// Busy: retry with backoff (every database connection is at work).
    #[error("{0}")]
    ResourceExhausted(String),
    /// A concurrent change got there first; read again and retry.
    #[error("{0}")]
    Aborted(String),
    /// A fault of ours. The message is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(v: &[FieldViolation]) -> String {
    v.iter()
        .map(|f| format!("{}: {}", f.field, f.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> ApiError {
        ApiError::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    /// FAILED_PRECONDITION: `resource` (a resource name, or empty) is not
    /// in a state that allows the call, for `reason`.
    pub fn precondition(
        reason: Reason,
        resource: impl Into<String>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::FailedPrecondition {
            reason,
            resource: resource.into(),
            message: message.into(),
        }
    }

    /// PERMISSION_DENIED for `reason` (`OUT_OF_SCOPE` when the resource lies
    /// outside the caller's scope), about `resource` (or empty).
    pub fn denied(
        reason: Reason,
        resource: impl Into<String>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::PermissionDenied {
            reason,
            resource: resource.into(),
            message: message.into(),
        }
    }

    /// Why, as `ErrorInfo.reason` says it.
    pub fn reason(&self) -> Reason {
        match self {
            ApiError::FailedPrecondition { reason, .. }
            | ApiError::PermissionDenied { reason, .. } => *reason,
            other => Reason::of_code(other.code()),
        }
    }

    pub fn code(&self) -> Code {
        match self {
            ApiError::InvalidArgument(_) => Code::InvalidArgument,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::AlreadyExists(_) => Code::AlreadyExists,
            ApiError::FailedPrecondition { .. } => Code::FailedPrecondition,
            ApiError::PermissionDenied { .. } => Code::PermissionDenied,
            ApiError::Unavailable(_) => Code::Unavailable,
            ApiError::ResourceExhausted(_) => Code::ResourceExhausted,
            ApiError::Aborted(_) => Code::Aborted,
            ApiError::Internal(_) => Code::Internal,
        }
    }

    /// The canonical name of the status code, as audit rows record it.
    pub fn code_name(&self) -> &'static str {
        match self.code() {
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::Unavailable => "UNAVAILABLE",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::Aborted => "ABORTED",
            _ => "INTERNAL",
        }
    }

    /// Whether this refuses a request the caller made (as opposed to a
    /// fault of ours): refusals of mutations are audited.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            ApiError::Unavailable(_) | ApiError::ResourceExhausted(_) | ApiError::Internal(_)
        )
    }
}

impl From<ApiError> for Status {
    /// Every error with its `ErrorInfo` and a Chinese `LocalizedMessage`
    /// (docs/errors.md); bad fields with a `BadRequest`, a failed
    /// precondition with a `PreconditionFailure`. The service's request
    /// layer answers in English instead when the caller's `accept-language`
    /// asks for it (`context.rs`).
    fn from(e: ApiError) -> Status {
        let (reason, code) = (e.reason(), e.code());
        let mut details = ErrorDetails::new();
        let (message, resource) = match e {
            ApiError::InvalidArgument(violations) => {
                let message = format!("invalid request: {}", summary(&violations));
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                (message, String::new())
            }
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (
                    "internal error; the request id identifies it in the logs".to_owned(),
                    String::new(),
                )
            }
            ApiError::FailedPrecondition {
                reason,
                resource,
                message,
            } => {
                details.add_precondition_failure_violation(
                    reason.name(),
                    resource.clone(),
                    message.clone(),
                );
                (message, resource)
            }
            ApiError::PermissionDenied {
                resource, message, ..
            } => (message, resource),
            other => (other.to_string(), String::new()),
        };
        set_reason(&mut details, reason, &resource);
        Status::with_error_details(code, message, details)
    }
}

/// A status of `reason`'s code, with its `ErrorInfo` and Chinese
/// `LocalizedMessage`: for an error answered outside an [`ApiError`] (in a
/// stream's trailers).
pub fn status_for(reason: Reason, message: impl Into<String>) -> Status {
    let mut details = ErrorDetails::new();
    set_reason(&mut details, reason, "");
    Status::with_error_details(reason.code(), message, details)
}

/// Sets `ErrorInfo` (the reason, the suite's domain, the article and the
/// resource) and the Chinese `LocalizedMessage` on `details`.
pub fn set_reason(details: &mut ErrorDetails, reason: Reason, resource: &str) {
    let (info, localized) = reason_details(reason, resource);
    details.set_error_info(info.reason, info.domain, info.metadata);
    details.set_localized_message(localized.locale, localized.message);
}

/// The `ErrorInfo` of `reason` about `resource` (the reason, the suite's
/// domain, and metadata naming the article and the resource), and its
/// Chinese `LocalizedMessage`.
pub fn reason_details(
    reason: Reason,
    resource: &str,
) -> (tonic_types::ErrorInfo, tonic_types::LocalizedMessage) {
    let mut metadata = std::collections::HashMap::new();
    if let Some(article) = reason.article() {
        metadata.insert("article".to_owned(), article.to_string());
    }
    if !resource.is_empty() {
        metadata.insert("resource".to_owned(), resource.to_owned());
    }
    (
        tonic_types::ErrorInfo::new(reason.name(), crate::reason::DOMAIN, metadata),
        tonic_types::LocalizedMessage::new(
            crate::reason::ZH_CN,
            crate::reason::in_chinese(reason, resource),
        ),
    )
}

impl From<ce_db::DbError> for ApiError {
    /// Database faults reach clients as fixed words; the detail (hosts,
    /// users, constraint names) goes to the log with the request's span.
    fn from(e: ce_db::DbError) -> ApiError {
        use diesel::result::{DatabaseErrorKind, Error as Q};
        match &e {
            ce_db::DbError::Unavailable(_)
            | ce_db::DbError::Query(Q::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::Unavailable("the database is unavailable; retry later".into())
            }
            ce_db::DbError::Busy(_) => {
                tracing::warn!(error = %e, "database connections all busy");
                ApiError::ResourceExhausted(
                    "busy: every database connection is at work; retry with backoff".into(),
                )
            }
            e if e.is_unique_violation() => {
                tracing::info!(error = %e, "unique violation");
                ApiError::AlreadyExists("it exists already".into())
            }
            _ => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> ApiError {
        ApiError::from(ce_db::DbError::from(e))
    }
}

/// Collects field violations so a request reports all its bad fields at
/// once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Violations {
        Violations::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records `result`'s error, if any, against `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded, else `INVALID_ARGUMENT` with all of it.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidArgument(self.0))
        }
    }
}
