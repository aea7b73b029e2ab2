//! `/openapi.json`: the API's OpenAPI 3.1 description, public (no token needed).

use axum::http::header;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The hand-maintained document at the crate root. `tests/it/openapi.rs` checks that its
/// references resolve and that every operation it lists is routed; keep it in step with
/// the handlers when they change.
const DOCUMENT: &str = include_str!("../../openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
