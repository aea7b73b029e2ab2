//! JSON request bodies (`REPORT` contexts, OFREP requests): the `Content-Type` must be JSON
//! when given, and the body at most `http.body_limit_bytes` long.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::error::{ApiError, ErrorCode};

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("Content-Type `{0}` is not JSON: send application/json")]
    NotJson(String),
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("request body could not be read: {0}")]
    Unreadable(String),
}

impl BodyError {
    /// The HTTP status: 415, 413 or 400.
    pub fn code(&self) -> ErrorCode {
        match self {
            BodyError::NotJson(_) => ErrorCode::UnsupportedMediaType,
            BodyError::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            BodyError::Unreadable(_) => ErrorCode::InvalidArgument,
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> ApiError {
        ApiError::new(error.code(), error.to_string())
    }
}

/// Reads a JSON body of at most `limit` bytes. A missing `Content-Type` is accepted (as
/// `curl -d` users and some SDKs send none); any other must be `application/json` or a
/// `+json` type.
pub async fn read_json_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let text = content_type.to_str().unwrap_or("");
        if !is_json(text) {
            return Err(BodyError::NotJson(text.to_owned()));
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut stream = body.into_data_stream();
    let mut bytes = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| BodyError::Unreadable(error.to_string()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// `application/json`, `application/json; charset=utf-8`, `application/merge+json`, ...
fn is_json(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = media_type.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(content_type: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(content_type) = content_type {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).unwrap(),
            );
        }
        headers
    }

    #[tokio::test]
    async fn json_bodies_within_the_limit_are_read() {
        for content_type in [
            None,
            Some("application/json"),
            Some("Application/JSON; charset=utf-8"),
        ] {
            let body = read_json_body(&headers(content_type), Body::from("{}"), 1024).await;
            assert_eq!(body.unwrap().as_ref(), b"{}", "{content_type:?}");
        }
    }

    #[tokio::test]
    async fn other_types_and_large_bodies_are_refused() {
        let error = read_json_body(&headers(Some("text/plain")), Body::from("{}"), 1024)
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::UnsupportedMediaType);
        assert_eq!(
            error.to_string(),
            "Content-Type `text/plain` is not JSON: send application/json"
        );
        let error = read_json_body(&headers(None), Body::from(vec![b' '; 1025]), 1024)
            .await
            .unwrap_err();
        assert_eq!(error, BodyError::TooLarge { limit: 1024 });
    }
}
