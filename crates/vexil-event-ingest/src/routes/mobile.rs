//! `POST /mobile/events/bulk` (also `/mobile/events`, `/mobile`) and
//! `POST /mobile/events/diagnostic`: mobile SDKs, mobile key in `Authorization`.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::auth::Presented;
use crate::ingest::{ingest, PayloadKind};
use crate::sdk_request::Source;
use crate::state::AppState;

pub async fn bulk(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let presented = Presented::Header(&headers);
    ingest(
        &state,
        Source::Mobile,
        PayloadKind::Analytics,
        presented,
        &headers,
        body,
    )
    .await
}

pub async fn diagnostic(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let presented = Presented::Header(&headers);
    ingest(
        &state,
        Source::Mobile,
        PayloadKind::Diagnostic,
        presented,
        &headers,
        body,
    )
    .await
}
