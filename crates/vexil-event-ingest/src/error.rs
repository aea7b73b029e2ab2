//! How a request fails: one small `ErrorCode` mapped once to an HTTP status, a message
//! naming the problem, and a stable `reason` for the rejection metric.
//!
//! SDKs act on the status alone (spec 5.6): 401/403/404 make them stop sending events,
//! 400 and 5xx make them retry once, 413 drops only that payload.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
pub use vexil_service::error::error_chain;
use vexil_service::error::json_error;

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not an array of objects, not valid gzip: 400.
    BadRequest,
    /// Missing, unknown, revoked or expired SDK or mobile key: 401.
    Unauthenticated,
    /// Unknown client-side id (browsers get 404, as from LaunchDarkly and Relay): 404.
    NotFound,
    /// The body, as received or decompressed, exceeds the limit: 413.
    PayloadTooLarge,
    /// A `Content-Encoding` other than gzip or identity: 415.
    UnsupportedMediaType,
    /// Kafka or config-api cannot take the request now; retrying helps: 503.
    Unavailable,
}

impl ErrorCode {
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A rejected request as the client sees it: the status and `{code, message}`.
#[derive(Debug, Serialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The `reason` label of `vexil_event_ingest_payloads_rejected_total`.
    #[serde(skip)]
    pub reason: &'static str,
}

impl ApiError {
    pub fn new(code: ErrorCode, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            reason,
        }
    }

    pub fn bad_request(reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::BadRequest, reason, message)
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "unauthenticated",
            "missing, unknown, revoked or expired SDK key",
        )
    }

    pub fn unknown_client_side_id() -> ApiError {
        ApiError::new(
            ErrorCode::NotFound,
            "unknown_client_side_id",
            "unknown client-side id",
        )
    }

    pub fn too_large(limit: usize, what: &str) -> ApiError {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "too_large",
            format!("request body {what} exceeds the limit of {limit} bytes"),
        )
    }

    pub fn unavailable(reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Unavailable, reason, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_error(self.code.http_status(), &self)
    }
}
