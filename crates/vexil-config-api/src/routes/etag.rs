//! Versions as HTTP validators: responses carry `ETag: "<version>"`, writes may send
//! `If-Match` with the version they read.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// The version in `If-Match` (`"3"`, `3` or `W/"3"`); `None` without the header.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|text| text.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|text| text.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request("If-Match must be the version as returned in ETag, e.g. \"3\"")
        })
}

/// A JSON response with the version as its ETag.
pub fn respond(version: u64, body: &impl Serialize) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{version}\""))
        .expect("a quoted number is a valid header value");
    ([(header::ETAG, etag)], Json(body)).into_response()
}

/// 409 unless every version the client sent (`If-Match`, a `version` field) is `current`.
pub fn require_current(
    item: &str,
    current: u64,
    expected: impl IntoIterator<Item = Option<u64>>,
) -> ApiResult<()> {
    for expected in expected.into_iter().flatten() {
        if expected != current {
            return Err(ApiError::conflict(format!(
                "{item} is at version {current}, not {expected}: re-read it and apply your change again"
            )));
        }
    }
    Ok(())
}
