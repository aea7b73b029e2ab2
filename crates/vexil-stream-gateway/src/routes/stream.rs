//! `GET /all`: the server-side SSE stream (spec 5.3).

use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;

use super::sdk_key::ServerSdkKey;
use crate::error::ApiError;
use crate::state::AppState;
use crate::streaming::Connection;

/// Response header names the stream sets besides the standard ones.
pub const X_ACCEL_BUFFERING: &str = "x-accel-buffering";

pub async fn all(
    State(state): State<AppState>,
    ServerSdkKey(authenticated): ServerSdkKey,
) -> Result<Response, ApiError> {
    let (data, events) = state
        .store
        .subscribe(&authenticated.environment_id)
        .ok_or_else(ApiError::not_loaded)?;
    // Checked again after subscribing, so a revocation in between is not missed.
    let expires_at = state
        .store
        .recheck(&authenticated, SystemTime::now())
        .ok_or_else(ApiError::unauthenticated)?;
    tracing::debug!(environment_id = %authenticated.environment_id, sequence = data.sequence(), "stream opened");
    let connection = Connection::new(
        state.store.clone(),
        authenticated,
        &data,
        events,
        expires_at,
        state.heartbeat_interval,
        state.shutdown.clone(),
    );
    let mut response = Response::new(Body::from_stream(connection.into_stream()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    Ok(response)
}
