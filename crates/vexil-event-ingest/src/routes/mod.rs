//! The HTTP routes: the event endpoints of server-side, mobile and browser SDKs (spec
//! 6.1), health and metrics.

pub mod client_side;
pub mod cors;
pub mod mobile;
pub mod server;

use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::post;
use axum::Router;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Every route of event ingest.
pub fn router(state: AppState) -> Router {
    let client_side = Router::new()
        .route(
            "/events/bulk/{client_side_id}",
            post(client_side::bulk).options(preflight),
        )
        .route(
            "/events/diagnostic/{client_side_id}",
            post(client_side::diagnostic).options(preflight),
        )
        .layer(from_fn_with_state(state.clone(), cors::browser_cors));
    Router::new()
        .route("/bulk", post(server::bulk))
        .route("/diagnostic", post(server::diagnostic))
        // Mobile SDKs have used all three analytics paths over the years (spec 6.1).
        .route("/mobile/events/bulk", post(mobile::bulk))
        .route("/mobile/events", post(mobile::bulk))
        .route("/mobile", post(mobile::bulk))
        .route("/mobile/events/diagnostic", post(mobile::diagnostic))
        .merge(client_side)
        .fallback(no_route)
        .with_state(state.clone())
        .layer(from_fn_with_state(
            state.metrics.registry.clone(),
            vexil_service::metrics::track,
        ))
        .merge(vexil_service::health::router(state.readiness.clone()))
        .merge(vexil_service::metrics::router(
            state.metrics.registry.clone(),
        ))
        .layer(vexil_service::http_trace::layer())
}

/// `OPTIONS` on a browser route; `cors::browser_cors` answers it before it gets here.
async fn preflight() -> StatusCode {
    StatusCode::OK
}

async fn no_route() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no_route", "no such endpoint")
}
