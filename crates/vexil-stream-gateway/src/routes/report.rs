//! The `REPORT` method (RFC 3253) client SDKs use to send a context in the body. axum has
//! no `MethodFilter` for it, so `REPORT` routes take every method and this extractor
//! refuses the others with 405.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::{ApiError, ErrorCode};

/// The method name.
pub const REPORT: &str = "REPORT";

/// The request's method is `REPORT`.
pub struct Report;

impl<S: Send + Sync> FromRequestParts<S> for Report {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if parts.method.as_str() == REPORT {
            Ok(Report)
        } else {
            Err(ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("method {} is not allowed here: use REPORT", parts.method),
            ))
        }
    }
}
