//! OFREP authentication (spec 8.1): `Authorization: Bearer <token>`, `X-API-Key: <token>`,
//! or (Vexil choice) `Authorization: <sdk-key>` / `api_key <key>` as server SDKs send it.
//! The token is an SDK key (every flag), a mobile key or a client-side ID (the flags
//! available to that kind of client).

use std::time::SystemTime;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use vexil_service::sdk_auth::presented_key;

use super::ofrep_response::details_response;
use crate::evaluation::FlagVisibility;
use crate::state::AppState;
use crate::store::{AuthError, Authenticated, CredentialKind, Store};

/// The OpenFeature API-key header.
pub const X_API_KEY: &str = "x-api-key";

/// An authenticated OFREP request.
pub struct OfrepCredential {
    pub authenticated: Authenticated,
    pub visibility: FlagVisibility,
}

impl FromRequestParts<AppState> for OfrepCredential {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match authenticate(&state.store, &parts.headers) {
            Ok(authenticated) => Ok(OfrepCredential {
                visibility: visibility(authenticated.kind),
                authenticated,
            }),
            Err(AuthError::NotLoaded) => Err(details_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "flag data is not loaded yet, retry later",
            )),
            Err(AuthError::Unknown) => Err(details_response(
                StatusCode::UNAUTHORIZED,
                "missing, unknown, revoked or expired credential: send `Authorization: Bearer <key>` \
                 or `X-API-Key: <key>` with an SDK key, mobile key or client-side ID",
            )),
        }
    }
}

/// The credential the headers carry, checked against the store.
pub fn authenticate(store: &Store, headers: &HeaderMap) -> Result<Authenticated, AuthError> {
    match presented_credential(headers) {
        Some(token) => store.authenticate_any_kind(token, SystemTime::now()),
        None if store.is_loaded() => Err(AuthError::Unknown),
        None => Err(AuthError::NotLoaded),
    }
}

/// The token of `Authorization` (`Bearer`, `api_key` or raw), else of `X-API-Key`.
fn presented_credential(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            let value = value.trim();
            if value.eq_ignore_ascii_case("bearer") {
                return "";
            }
            match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
                _ => presented_key(value),
            }
        });
    let api_key = || {
        headers
            .get(X_API_KEY)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    authorization
        .filter(|token| !token.is_empty())
        .or_else(|| api_key().filter(|token| !token.is_empty()))
}

fn visibility(kind: CredentialKind) -> FlagVisibility {
    match kind {
        CredentialKind::ServerSdkKey => FlagVisibility::AllFlags,
        CredentialKind::MobileKey => FlagVisibility::MobileKey,
        CredentialKind::ClientSideId => FlagVisibility::ClientSideId,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn token(pairs: &[(&'static str, &str)]) -> Option<String> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        presented_credential(&headers).map(str::to_owned)
    }

    #[test]
    fn bearer_raw_api_key_scheme_and_x_api_key_are_accepted() {
        assert_eq!(
            token(&[("authorization", "Bearer sdk-1")]).as_deref(),
            Some("sdk-1")
        );
        assert_eq!(
            token(&[("authorization", "bearer  sdk-1 ")]).as_deref(),
            Some("sdk-1")
        );
        assert_eq!(
            token(&[("authorization", "sdk-1")]).as_deref(),
            Some("sdk-1")
        );
        assert_eq!(
            token(&[("authorization", "api_key sdk-1")]).as_deref(),
            Some("sdk-1")
        );
        assert_eq!(token(&[("x-api-key", "mob-1")]).as_deref(), Some("mob-1"));
        assert_eq!(
            token(&[("authorization", "Bearer "), ("x-api-key", "mob-1")]).as_deref(),
            Some("mob-1")
        );
        assert_eq!(token(&[]), None);
    }
}
