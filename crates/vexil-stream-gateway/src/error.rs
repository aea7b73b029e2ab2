//! How requests fail: one small `ErrorCode` per failure, mapped once to an HTTP status.
//! SDKs act on the status alone (spec 5.6): 401 stops them, 503 makes them retry.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
pub use vexil_service::error::error_chain;
use vexil_service::error::json_error;

use crate::store::AuthError;

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (bad base64, bad context JSON, ...); the message says why.
    InvalidArgument,
    NotFound,
    /// Missing, unknown, revoked or expired SDK key.
    Unauthenticated,
    /// Data is not loaded yet; retrying helps.
    Unavailable,
    /// The body is larger than `http.body_limit_bytes`.
    PayloadTooLarge,
    /// The body is not JSON by its `Content-Type`.
    UnsupportedMediaType,
    /// The route exists, the method does not.
    MethodNotAllowed,
}

impl ErrorCode {
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidArgument => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

/// A request failure as the client sees it: the status and a short JSON body.
#[derive(Debug, Serialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_argument(message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::new(ErrorCode::InvalidArgument, message)
    }

    pub fn not_found(message: &'static str) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "missing, unknown, revoked or expired SDK key",
        )
    }

    pub fn not_loaded() -> ApiError {
        ApiError::new(
            ErrorCode::Unavailable,
            "flag data is not loaded yet, retry later",
        )
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::NotLoaded => ApiError::not_loaded(),
            AuthError::Unknown => ApiError::unauthenticated(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_error(self.code.http_status(), &self)
    }
}
