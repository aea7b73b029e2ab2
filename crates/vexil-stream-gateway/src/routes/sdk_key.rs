//! Authentication by server-side SDK key (spec 5.2): `Authorization: <key>` or
//! `Authorization: api_key <key>`, parsed by `vexil_service::sdk_auth`.

use std::time::SystemTime;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use vexil_service::sdk_auth::authorization_key;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Authenticated, CredentialKind};

/// The request carried an active server-side SDK key.
pub struct ServerSdkKey(pub Authenticated);

impl FromRequestParts<AppState> for ServerSdkKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = authorization_key(&parts.headers);
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
