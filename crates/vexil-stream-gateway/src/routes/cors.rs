//! CORS for the browser endpoints and OFREP (spec 7.6), by `vexil_service::cors`'s policy
//! (the `cors.*` keys, origin matching, preflight and response headers). What is the
//! gateway's own: which routes, their methods and headers, and where the environment comes
//! from: the client-side ID in the path (browser routes) or the OFREP credential. A
//! preflight carries no credential, so OFREP preflights use the default list.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use vexil_service::cors::CorsRoutes;

use super::client_auth::{path_param, ENVIRONMENT_ID_PARAM};
use super::ofrep_credential;
use crate::state::AppState;
use crate::store::{CredentialKind, EnvironmentData};

/// The browser endpoints: client-side evaluation, streams, ping and goals.
const BROWSER: CorsRoutes = CorsRoutes {
    methods: "GET, REPORT, OPTIONS",
    extra_request_headers: None,
    exposed_headers: "Date",
};
/// OFREP, whose providers also send credentials and ETags.
const OFREP: CorsRoutes = CorsRoutes {
    methods: "POST, OPTIONS",
    extra_request_headers: Some("Authorization, X-API-Key, If-None-Match"),
    exposed_headers: "Date, ETag",
};

/// Middleware of the browser routes (`{env_id}` in the path is the client-side ID).
pub async fn browser_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let environment = match path_param(&mut parts, ENVIRONMENT_ID_PARAM).await {
        Ok(id) => state
            .store
            .authenticate(&id, CredentialKind::ClientSideId, SystemTime::now())
            .ok()
            .and_then(|authenticated| state.store.environment(&authenticated.environment_id)),
        Err(_) => None,
    };
    let request = Request::from_parts(parts, body);
    apply(&state, &BROWSER, environment, request, next).await
}

/// Middleware of the OFREP routes (the environment of the credential, when there is one).
pub async fn ofrep_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let environment = ofrep_credential::authenticate(&state.store, request.headers())
        .ok()
        .and_then(|authenticated| state.store.environment(&authenticated.environment_id));
    apply(&state, &OFREP, environment, request, next).await
}

async fn apply(
    state: &AppState,
    routes: &CorsRoutes,
    environment: Option<Arc<EnvironmentData>>,
    request: Request,
    next: Next,
) -> Response {
    let scope = environment
        .as_deref()
        .map(|data| (data.project_key(), data.environment_key()));
    state.cors.respond(routes, scope, request, next).await
}
