//! `GET /all`: the server-side SSE stream (spec 5.3).

use axum::extract::State;
use axum::response::Response;

use super::sdk_key::ServerSdkKey;
use super::sse::open_stream;
use crate::error::ApiError;
use crate::state::AppState;
use crate::streaming::ServerFrames;

pub async fn all(
    State(state): State<AppState>,
    ServerSdkKey(authenticated): ServerSdkKey,
) -> Result<Response, ApiError> {
    open_stream(
        &state,
        authenticated,
        ServerFrames,
        ApiError::unauthenticated,
    )
}
