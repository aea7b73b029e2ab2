//! The HTTP routes: LaunchDarkly server-side, client-side and mobile SDK endpoints, OFREP,
//! health and metrics.

mod body;
mod client_auth;
mod client_request;
mod cors;
mod eval_stream;
mod evalx;
mod flags;
mod goals;
mod ofrep;
mod ofrep_credential;
mod ofrep_response;
mod poll;
mod report;
mod sdk_key;
mod sse;
mod stream;

use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use axum::Router;

use crate::state::AppState;

pub use client_auth::{ClientSideId, MobileKey};
pub use report::REPORT;
pub use sdk_key::ServerSdkKey;

/// Every route of the gateway.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/all", get(stream::all))
        .route("/sdk/latest-all", get(poll::latest_all))
        .route("/sdk/flags", get(flags::all_flags))
        .route("/sdk/flags/{key}", get(flags::flag))
        .route("/sdk/segments/{key}", get(flags::segment))
        .merge(mobile_and_server_evaluation())
        .merge(browser(state.clone()))
        .merge(ofrep(state.clone()))
        .with_state(state.clone())
        .merge(vexil_service::health::router(state.readiness))
        .merge(vexil_service::metrics::router(
            state.metrics.registry.clone(),
        ))
        .layer(from_fn_with_state(
            state.metrics.registry.clone(),
            vexil_service::metrics::track,
        ))
        .layer(vexil_service::http_trace::layer())
}

/// Client-side evaluation with a mobile key or a server-side SDK key (spec 7.2, 7.4): no
/// CORS, credentials in `Authorization`. `REPORT` routes take any method and refuse all
/// but `REPORT` (axum has no filter for it).
fn mobile_and_server_evaluation() -> Router<AppState> {
    use eval_stream::{get_stream, ping_stream, report_stream};
    use evalx::{get_flags, report_flags};
    Router::new()
        .route(
            "/msdk/evalx/contexts/{context}",
            get(get_flags::<MobileKey>),
        )
        .route("/msdk/evalx/users/{context}", get(get_flags::<MobileKey>))
        .route("/msdk/evalx/context", any(report_flags::<MobileKey>))
        .route("/msdk/evalx/user", any(report_flags::<MobileKey>))
        .route(
            "/sdk/evalx/contexts/{context}",
            get(get_flags::<ServerSdkKey>),
        )
        .route("/sdk/evalx/users/{context}", get(get_flags::<ServerSdkKey>))
        .route("/sdk/evalx/context", any(report_flags::<ServerSdkKey>))
        .route("/sdk/evalx/user", any(report_flags::<ServerSdkKey>))
        .route("/meval/{context}", get(get_stream::<MobileKey>))
        .route("/meval", any(report_stream::<MobileKey>))
        .route("/mping", get(ping_stream::<MobileKey>))
}

/// Browser endpoints, the client-side ID in the path, behind CORS (spec 7.2, 7.4, 7.6).
fn browser(state: AppState) -> Router<AppState> {
    use eval_stream::{get_stream, ping_stream, report_stream};
    use evalx::{get_flags, report_flags};
    Router::new()
        .route(
            "/sdk/evalx/{env_id}/contexts/{context}",
            get(get_flags::<ClientSideId>),
        )
        .route(
            "/sdk/evalx/{env_id}/users/{context}",
            get(get_flags::<ClientSideId>),
        )
        .route(
            "/sdk/evalx/{env_id}/context",
            any(report_flags::<ClientSideId>),
        )
        .route(
            "/sdk/evalx/{env_id}/user",
            any(report_flags::<ClientSideId>),
        )
        .route("/eval/{env_id}/{context}", get(get_stream::<ClientSideId>))
        .route("/eval/{env_id}", any(report_stream::<ClientSideId>))
        .route("/ping/{env_id}", get(ping_stream::<ClientSideId>))
        .route("/sdk/goals/{env_id}", get(goals::goals))
        .route_layer(from_fn_with_state(state, cors::browser_cors))
}

/// OFREP (spec 8), behind CORS.
fn ofrep(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep::evaluate_flag))
        .route("/ofrep/v1/evaluate/flags", post(ofrep::evaluate_flags))
        .route_layer(from_fn_with_state(state, cors::ofrep_cors))
}
