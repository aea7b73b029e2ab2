//! The one error type of the REST and gRPC APIs: a small `ErrorCode` that maps once to an
//! HTTP status and once to a `tonic::Code`, a message, and per-field details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::store::StoreError;

/// What went wrong, coarsely; decides the HTTP status and the gRPC code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (bad JSON, unknown field): 400.
    BadRequest,
    /// The request is well-formed but its content is invalid: 422.
    InvalidArgument,
    NotFound,
    /// Stale version or duplicate key: 409.
    Conflict,
    /// The body is larger than the configured limit: 413.
    PayloadTooLarge,
    /// No token, or an unknown or revoked one: 401.
    Unauthenticated,
    /// The token lacks the right: 403.
    PermissionDenied,
    /// A dependency is down; retrying may help: 503.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorCode::BadRequest | ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::Conflict => tonic::Code::Aborted,
            ErrorCode::PayloadTooLarge => tonic::Code::ResourceExhausted,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }
}

/// One problem with one part of the request, located by a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub path: String,
    pub reason: String,
}

/// An API failure as the client sees it.
#[derive(Debug, Serialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The cause, logged (once, when the error becomes a response), never sent.
    #[serde(skip)]
    source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            errors: Vec::new(),
            source: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::PermissionDenied, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Unauthenticated, message)
    }

    /// A dependency is down; retrying later may help: 503.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Unavailable, message)
    }

    /// A 422 listing every invalid field.
    pub fn invalid(message: impl Into<String>, errors: Vec<FieldError>) -> Self {
        ApiError {
            errors,
            ..ApiError::new(ErrorCode::InvalidArgument, message)
        }
    }

    /// A 422 about one field.
    pub fn invalid_field(path: impl Into<String>, reason: impl Into<String>) -> Self {
        let error = FieldError {
            path: path.into(),
            reason: reason.into(),
        };
        ApiError::invalid(format!("{}: {}", error.path, error.reason), vec![error])
    }

    /// Adds per-field details.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// A failure the client cannot fix; the message it sees is generic.
    pub fn internal(source: anyhow::Error) -> Self {
        ApiError {
            source: Some(source),
            ..ApiError::new(ErrorCode::Internal, "internal error")
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => ApiError {
                source: Some(error.into()),
                ..ApiError::new(ErrorCode::Unavailable, "database unavailable, retry later")
            },
            _ => ApiError::internal(anyhow::Error::new(error).context("database error")),
        }
    }
}

/// As a driver error directly, so both stores fail alike: an unreachable database is 503.
/// A corrupt value is 500, its table and column logged.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => ApiError::from(error),
            corrupt @ StoreError::Corrupt { .. } => ApiError::internal(corrupt.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match (&self.source, self.code) {
            (Some(source), ErrorCode::Internal) => {
                tracing::error!(error = format!("{source:#}"), "request failed")
            }
            (Some(source), _) => tracing::warn!(error = format!("{source:#}"), "request failed"),
            (None, _) => {}
        }
        (self.code.http_status(), Json(&self)).into_response()
    }
}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        if let Some(source) = &error.source {
            tracing::error!(error = format!("{source:#}"), "grpc call failed");
        }
        tonic::Status::new(error.code.grpc_code(), error.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_unavailable_from_either_error() {
        let direct = ApiError::from(sqlx::Error::PoolTimedOut);
        let through_store = ApiError::from(StoreError::from(sqlx::Error::PoolTimedOut));
        assert_eq!(direct.code, ErrorCode::Unavailable);
        assert_eq!(through_store.code, ErrorCode::Unavailable);
        assert_eq!(through_store.message, direct.message);
    }

    #[test]
    fn other_database_errors_are_internal() {
        let error = ApiError::from(StoreError::from(sqlx::Error::RowNotFound));
        assert_eq!(error.code, ErrorCode::Internal);
        assert_eq!(error.message, "internal error");
    }

    #[test]
    fn a_corrupt_value_is_internal_and_its_cause_names_the_column() {
        let error = ApiError::from(StoreError::Corrupt {
            table: "config.sdk_credentials",
            column: "kind",
        });
        assert_eq!(error.code, ErrorCode::Internal);
        assert_eq!(error.message, "internal error");
        let cause = format!("{:#}", error.source.expect("the cause is kept for the log"));
        assert!(cause.contains("config.sdk_credentials.kind"), "{cause}");
    }
}
