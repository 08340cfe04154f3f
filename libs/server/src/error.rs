//! Errors of the domain, mapped to gRPC status in one place.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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
    /// The request is well formed but the state does not allow it; the
    /// message cites the article.
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    PermissionDenied(String),
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

    pub fn code(&self) -> Code {
        match self {
            ApiError::InvalidArgument(_) => Code::InvalidArgument,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::AlreadyExists(_) => Code::AlreadyExists,
            ApiError::FailedPrecondition(_) => Code::FailedPrecondition,
            ApiError::PermissionDenied(_) => Code::PermissionDenied,
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
    fn from(e: ApiError) -> Status {
        match e {
            ApiError::InvalidArgument(violations) => {
                let message = format!("invalid request: {}", summary(&violations));
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Status::internal("internal error; the request id identifies it in the logs")
            }
            other => Status::new(other.code(), other.to_string()),
        }
    }
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
