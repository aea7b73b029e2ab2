//! `POST /events/bulk/{clientSideId}` and `POST /events/diagnostic/{clientSideId}`:
//! browser SDKs, the public client-side id in the path, CORS headers from `cors.rs`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::auth::Presented;
use crate::ingest::{ingest, PayloadKind};
use crate::sdk_request::Source;
use crate::state::AppState;

pub async fn bulk(
    State(state): State<AppState>,
    Path(client_side_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let presented = Presented::ClientSideId(&client_side_id);
    ingest(
        &state,
        Source::ClientSide,
        PayloadKind::Analytics,
        presented,
        &headers,
        body,
    )
    .await
}

pub async fn diagnostic(
    State(state): State<AppState>,
    Path(client_side_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let presented = Presented::ClientSideId(&client_side_id);
    ingest(
        &state,
        Source::ClientSide,
        PayloadKind::Diagnostic,
        presented,
        &headers,
        body,
    )
    .await
}
