//! Authentication by server-side SDK key (spec 5.2): `Authorization: <key>` or
//! `Authorization: api_key <key>`.

use std::time::SystemTime;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Authenticated, CredentialKind};

/// The request carried an active server-side SDK key.
pub struct ServerSdkKey(pub Authenticated);

impl FromRequestParts<AppState> for ServerSdkKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(presented_key)
            .filter(|key| !key.is_empty());
        let Some(key) = key else {
            return Err(if state.store.is_loaded() {
                ApiError::unauthenticated()
            } else {
                ApiError::not_loaded()
            });
        };
        let authenticated =
            state
                .store
                .authenticate(key, CredentialKind::ServerSdkKey, SystemTime::now())?;
        Ok(ServerSdkKey(authenticated))
    }
}

/// The key in an `Authorization` value: raw, or after the `api_key` scheme older SDKs use.
pub fn presented_key(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("api_key") => rest.trim(),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_api_key_forms_are_accepted() {
        assert_eq!(presented_key("sdk-123"), "sdk-123");
        assert_eq!(presented_key(" api_key sdk-123 "), "sdk-123");
        assert_eq!(presented_key("API_KEY sdk-123"), "sdk-123");
        assert_eq!(presented_key("Bearer sdk-123"), "Bearer sdk-123");
    }
}
