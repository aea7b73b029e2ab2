//! `POST /events/bulk/{clientSideId}` and `POST /events/diagnostic/{clientSideId}`:
//! browser SDKs, the public client-side id in the path, CORS headers from `cors.rs`.

use axum::extract::{Path, Request, State};
use axum::response::Response;

use crate::auth::Presented;
use crate::ingest::{ingest, PayloadKind};
use crate::sdk_request::Source;
use crate::state::AppState;

pub async fn bulk(
    State(state): State<AppState>,
    Path(client_side_id): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let presented = Presented::ClientSideId(&client_side_id);
    ingest(
        &state,
        Source::ClientSide,
        PayloadKind::Analytics,
        presented,
        &parts.headers,
        body,
    )
    .await
}

pub async fn diagnostic(
    State(state): State<AppState>,
    Path(client_side_id): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let presented = Presented::ClientSideId(&client_side_id);
    ingest(
        &state,
        Source::ClientSide,
        PayloadKind::Diagnostic,
        presented,
        &parts.headers,
        body,
    )
    .await
}
