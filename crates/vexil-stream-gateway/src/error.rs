//! How requests fail: one small `ErrorCode` per failure, mapped once to an HTTP status.
//! SDKs act on the status alone (spec 5.6): 401 stops them, 503 makes them retry.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::AuthError;

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    /// Missing, unknown, revoked or expired SDK key.
    Unauthenticated,
    /// Data is not loaded yet; retrying helps.
    Unavailable,
}

impl ErrorCode {
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A request failure as the client sees it: the status and a short JSON body.
#[derive(Debug, Serialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: &'static str,
}

impl ApiError {
    pub fn not_found(message: &'static str) -> ApiError {
        ApiError {
            code: ErrorCode::NotFound,
            message,
        }
    }

    pub fn unauthenticated() -> ApiError {
        ApiError {
            code: ErrorCode::Unauthenticated,
            message: "missing, unknown, revoked or expired SDK key",
        }
    }

    pub fn not_loaded() -> ApiError {
        ApiError {
            code: ErrorCode::Unavailable,
            message: "flag data is not loaded yet, retry later",
        }
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
        let body = serde_json::to_vec(&self).expect("an error body always serializes");
        let mut response = (
            self.code.http_status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if self.code == ErrorCode::Unavailable {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// An error and its sources on one line, for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
