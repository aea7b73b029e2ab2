//! The HTTP routes: LaunchDarkly server-side SDK endpoints and health.

mod flags;
mod poll;
mod sdk_key;
mod stream;

use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

pub use sdk_key::{presented_key, ServerSdkKey};

/// Every route of the gateway.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/all", get(stream::all))
        .route("/sdk/latest-all", get(poll::latest_all))
        .route("/sdk/flags", get(flags::all_flags))
        .route("/sdk/flags/{key}", get(flags::flag))
        .route("/sdk/segments/{key}", get(flags::segment))
        .with_state(state.clone())
        .merge(vexil_service::health::router(state.readiness))
        .layer(TraceLayer::new_for_http())
}
