//! Which environment a request's events belong to: the server-side SDK key or mobile key
//! in `Authorization` (raw or `api_key <key>`, spec 5.2, read by `vexil_service::sdk_auth`),
//! or the client-side id in a browser route's path (spec 6.1), resolved through
//! [`CredentialResolver`].

use std::sync::Arc;

use axum::http::HeaderMap;
use vexil_proto::config::v1::CredentialKind;
use vexil_service::sdk_auth::authorization_key;

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
            let key = authorization_key(headers).ok_or_else(ApiError::unauthenticated)?;
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
