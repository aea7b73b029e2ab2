//! Credentials of the client-side and mobile endpoints (spec 7.1): the client-side ID in
//! the path (browsers; unknown -> 404, as LaunchDarkly and Relay answer), the mobile key in
//! `Authorization` (mobile SDKs; unknown -> 401), or a server-side SDK key (the Relay
//! extension `/sdk/evalx/contexts/...`; 401). Each decides which flags are served.

use std::time::SystemTime;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use vexil_service::sdk_auth::authorization_key;

use super::sdk_key::ServerSdkKey;
use crate::error::{ApiError, ErrorCode};
use crate::evaluation::FlagVisibility;
use crate::state::AppState;
use crate::store::{AuthError, Authenticated, CredentialKind};

/// The path parameter holding the client-side ID.
pub const ENVIRONMENT_ID_PARAM: &str = "env_id";

/// A credential a client-side or mobile endpoint accepts.
pub trait ClientCredential: FromRequestParts<AppState, Rejection = ApiError> + Send {
    /// The flags it sees.
    const VISIBILITY: FlagVisibility;

    fn into_authenticated(self) -> Authenticated;

    /// The error once the credential stopped working (a stream opened just as it did).
    fn unauthenticated() -> ApiError;
}

/// A browser's client-side ID, from the `{env_id}` path segment.
pub struct ClientSideId(pub Authenticated);

/// A mobile key, from `Authorization` (raw or `api_key <key>`).
pub struct MobileKey(pub Authenticated);

impl FromRequestParts<AppState> for ClientSideId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let id = path_param(parts, ENVIRONMENT_ID_PARAM).await?;
        match state
            .store
            .authenticate(&id, CredentialKind::ClientSideId, SystemTime::now())
        {
            Ok(authenticated) => Ok(ClientSideId(authenticated)),
            Err(AuthError::NotLoaded) => Err(ApiError::not_loaded()),
            Err(AuthError::Unknown) => Err(ClientSideId::unauthenticated()),
        }
    }
}

impl ClientCredential for ClientSideId {
    const VISIBILITY: FlagVisibility = FlagVisibility::ClientSideId;

    fn into_authenticated(self) -> Authenticated {
        self.0
    }

    fn unauthenticated() -> ApiError {
        ApiError::new(ErrorCode::NotFound, "unknown client-side ID")
    }
}

impl FromRequestParts<AppState> for MobileKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = authorization_key(&parts.headers);
        let Some(key) = key else {
            return Err(if state.store.is_loaded() {
                MobileKey::unauthenticated()
            } else {
                ApiError::not_loaded()
            });
        };
        match state
            .store
            .authenticate(key, CredentialKind::MobileKey, SystemTime::now())
        {
            Ok(authenticated) => Ok(MobileKey(authenticated)),
            Err(AuthError::NotLoaded) => Err(ApiError::not_loaded()),
            Err(AuthError::Unknown) => Err(MobileKey::unauthenticated()),
        }
    }
}

impl ClientCredential for MobileKey {
    const VISIBILITY: FlagVisibility = FlagVisibility::MobileKey;

    fn into_authenticated(self) -> Authenticated {
        self.0
    }

    fn unauthenticated() -> ApiError {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "missing, unknown, revoked or expired mobile key",
        )
    }
}

impl ClientCredential for ServerSdkKey {
    const VISIBILITY: FlagVisibility = FlagVisibility::AllFlags;

    fn into_authenticated(self) -> Authenticated {
        self.0
    }

    fn unauthenticated() -> ApiError {
        ApiError::unauthenticated()
    }
}

/// A percent-decoded path parameter; 400 naming it when it is not UTF-8.
pub async fn path_param(parts: &mut Parts, name: &str) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|rejection| ApiError::invalid_argument(rejection.body_text()))?;
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| ApiError::invalid_argument(format!("missing path parameter `{name}`")))
}
