//! `POST /bulk` and `POST /diagnostic`: server-side SDKs, SDK key in `Authorization`.

use axum::extract::{Request, State};
use axum::response::Response;

use crate::auth::Presented;
use crate::ingest::{ingest, PayloadKind};
use crate::sdk_request::Source;
use crate::state::AppState;

pub async fn bulk(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let presented = Presented::Header(&parts.headers);
    ingest(
        &state,
        Source::Server,
        PayloadKind::Analytics,
        presented,
        &parts.headers,
        body,
    )
    .await
}

pub async fn diagnostic(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let presented = Presented::Header(&parts.headers);
    ingest(
        &state,
        Source::Server,
        PayloadKind::Diagnostic,
        presented,
        &parts.headers,
        body,
    )
    .await
}
