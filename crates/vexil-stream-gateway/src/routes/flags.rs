//! The PHP SDK's polling endpoints (spec 5.7): `GET /sdk/flags`, `GET /sdk/flags/{key}`,
//! `GET /sdk/segments/{key}`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::Bytes;

use super::sdk_key::ServerSdkKey;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{json_map, Authenticated, EnvironmentData};

/// Every live flag, `{"key": {...flag...}}`.
pub async fn all_flags(
    State(state): State<AppState>,
    ServerSdkKey(authenticated): ServerSdkKey,
) -> Result<Response, ApiError> {
    let data = environment(&state, &authenticated)?;
    Ok(json(json_map(
        data.flags().map(|(key, item)| (key, item.json().as_ref())),
    )))
}

pub async fn flag(
    State(state): State<AppState>,
    ServerSdkKey(authenticated): ServerSdkKey,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let data = environment(&state, &authenticated)?;
    let item = data
        .flag_item(&key)
        .ok_or_else(|| ApiError::not_found("no such flag"))?;
    Ok(json(item.json().clone()))
}

pub async fn segment(
    State(state): State<AppState>,
    ServerSdkKey(authenticated): ServerSdkKey,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let data = environment(&state, &authenticated)?;
    let item = data
        .segment_item(&key)
        .ok_or_else(|| ApiError::not_found("no such segment"))?;
    Ok(json(item.json().clone()))
}

fn environment(
    state: &AppState,
    authenticated: &Authenticated,
) -> Result<std::sync::Arc<EnvironmentData>, ApiError> {
    state
        .store
        .environment(&authenticated.environment_id)
        .ok_or_else(ApiError::not_loaded)
}

fn json(body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
