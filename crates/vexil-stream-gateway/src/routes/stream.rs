//! `GET /all`: the server-side SSE stream (spec 5.3).

use axum::extract::State;
use axum::response::Response;

use super::sdk_key::ServerSdkKey;
use super::sse::open_server_stream;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn all(
    State(state): State<AppState>,
    ServerSdkKey(authenticated): ServerSdkKey,
) -> Result<Response, ApiError> {
    open_server_stream(&state, authenticated)
}
