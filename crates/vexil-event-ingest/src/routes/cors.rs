//! CORS for the browser routes (spec 7.6), by `vexil_service::cors`'s policy, the one the
//! stream gateway uses too (the `cors.*` keys, origin matching, preflight and response
//! headers). What is event ingest's own: the routes take `POST`, and the environment comes
//! from the client-side id in the path, resolved through the (cached) credential resolver;
//! an id that cannot be resolved gets the default list, and never a preflight failure.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use vexil_proto::config::v1::CredentialKind;
use vexil_service::cors::CorsRoutes;

use crate::state::AppState;

/// The browser event routes.
pub const BROWSER: CorsRoutes = CorsRoutes {
    methods: "POST, OPTIONS",
    extra_request_headers: None,
    exposed_headers: "Date",
};

/// Middleware of the browser routes: answers preflight itself, adds the headers to the
/// rest. The client-side id is the last path segment.
pub async fn browser_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client_side_id = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let resolved = match state.resolver.resolve(&client_side_id).await {
        Ok(resolved) if resolved.kind == CredentialKind::ClientSideId => Some(resolved),
        _ => None,
    };
    let scope = resolved.as_deref().map(|resolved| {
        (
            resolved.project_key.as_str(),
            resolved.environment_key.as_str(),
        )
    });
    state.cors.respond(&BROWSER, scope, request, next).await
}
