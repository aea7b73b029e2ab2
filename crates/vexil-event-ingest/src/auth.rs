//! Which environment a request's events belong to: the server-side SDK key or mobile key
//! in `Authorization` (raw or `api_key <key>`, spec 5.2), or the client-side id in a
//! browser route's path (spec 6.1), resolved through [`CredentialResolver`].

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use std::sync::Arc;
use vexil_proto::config::v1::CredentialKind;

use crate::credentials::{CredentialResolver, ResolveError, ResolvedCredential};
use crate::error::{error_chain, ApiError};
use crate::sdk_request::Source;

/// The credential a request presents.
pub enum Presented<'a> {
    /// `Authorization`, which must hold a key of the source's kind.
    Header(&'a HeaderMap),
    /// The client-side id from the path.
    ClientSideId(&'a str),
}

/// The environment the request may send events to; 401 (404 for an unknown client-side
/// id, as LaunchDarkly answers browsers) or 503 when config-api cannot say.
pub async fn authenticate(
    resolver: &CredentialResolver,
    source: Source,
    presented: Presented<'_>,
) -> Result<Arc<ResolvedCredential>, ApiError> {
    let (credential, expected, refusal): (&str, _, fn() -> ApiError) = match presented {
        Presented::Header(headers) => {
            let key = headers
                .get(AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .map(presented_key)
                .filter(|key| !key.is_empty())
                .ok_or_else(ApiError::unauthenticated)?;
            let expected = match source {
                Source::Mobile => CredentialKind::MobileKey,
                Source::Server | Source::ClientSide => CredentialKind::ServerSdkKey,
            };
            (key, expected, ApiError::unauthenticated)
        }
        Presented::ClientSideId(id) => (
            id,
            CredentialKind::ClientSideId,
            ApiError::unknown_client_side_id,
        ),
    };
    match resolver.resolve(credential).await {
        Ok(resolved) if resolved.kind == expected => Ok(resolved),
        Ok(_) | Err(ResolveError::Unknown) => Err(refusal()),
        Err(error @ ResolveError::Unavailable(_)) => {
            tracing::warn!(error = %error_chain(&error), "cannot resolve an SDK credential");
            Err(ApiError::unavailable(
                "config_api_unavailable",
                "credentials cannot be checked right now, retry later",
            ))
        }
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
        assert_eq!(presented_key("API_KEY mob-123"), "mob-123");
        assert_eq!(presented_key("Bearer sdk-123"), "Bearer sdk-123");
    }
}
