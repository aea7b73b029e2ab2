//! Request bodies: JSON decoded with errors that name the field (400), within the body
//! size limit (413), always answered with the API's JSON error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, FieldError};

/// A JSON request body of type `T`.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        decode(&bytes).map(JsonBody)
    }
}

/// An optional JSON body: `None` when the request has no body.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(OptionalJsonBody(None))
        } else {
            decode(&bytes).map(|value| OptionalJsonBody(Some(value)))
        }
    }
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "request body is larger than the configured limit (http.body_limit_bytes)",
                )
            } else {
                ApiError::bad_request(format!("cannot read request body: {rejection}"))
            }
        })
}

/// Decodes JSON, naming the path of the first problem.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let reason = error.inner().to_string();
        let path = if path == "." { String::new() } else { path };
        let message = if path.is_empty() {
            format!("invalid JSON body: {reason}")
        } else {
            format!("invalid JSON body at {path}: {reason}")
        };
        ApiError::bad_request(message).with_errors(vec![FieldError { path, reason }])
    })
}
