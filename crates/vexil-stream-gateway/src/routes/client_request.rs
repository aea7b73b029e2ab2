//! What a client-side or mobile request says besides its credential: the context (base64url
//! in the path, or the `REPORT` body) and `withReasons=true` (spec 7.2). Bad input is a 400
//! naming the problem.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use vexil_eval::Context;

use super::body::read_json_body;
use super::client_auth::path_param;
use crate::error::ApiError;
use crate::evaluation::{decode_context_base64, decode_context_json};
use crate::state::AppState;

/// The path parameter holding the base64url context.
pub const CONTEXT_PARAM: &str = "context";

/// The context of a `GET`, from the `{context}` path segment.
pub struct PathContext(pub Context);

/// The context of a `REPORT`, from the JSON body.
pub struct BodyContext(pub Context);

/// Whether the query asks for every flag's reason (`withReasons=true`).
pub struct WithReasons(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for PathContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let segment = path_param(parts, CONTEXT_PARAM).await?;
        decode_context_base64(&segment)
            .map(PathContext)
            .map_err(|error| ApiError::invalid_argument(error.to_string()))
    }
}

impl FromRequest<AppState> for BodyContext {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let json = read_json_body(&parts.headers, body, state.body_limit_bytes).await?;
        decode_context_json(&json)
            .map(BodyContext)
            .map_err(|error| ApiError::invalid_argument(error.to_string()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WithReasons {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(WithReasons(query_flag(query, "withReasons")))
    }
}

/// Whether `name=true` is among the query's parameters (other values, or none, are false;
/// unknown parameters such as the secure-mode hash `h` are ignored).
fn query_flag(query: &str, name: &str) -> bool {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(key, value)| key == name && value.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_reasons_is_true_only_when_asked_for() {
        assert!(query_flag("withReasons=true", "withReasons"));
        assert!(query_flag("h=abc&withReasons=TRUE", "withReasons"));
        assert!(!query_flag("withReasons=false", "withReasons"));
        assert!(!query_flag("withReasons", "withReasons"));
        assert!(!query_flag("", "withReasons"));
    }
}
