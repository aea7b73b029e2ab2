//! The REST API under `/api/v1`, one file per resource, plus `/health/*`.

mod analytics;
mod approvals;
mod audit_log;
mod environment_flags;
mod environments;
mod etag;
mod flags;
mod json;
mod lookup;
mod openapi;
mod projects;
mod scheduled_changes;
mod segments;
mod tokens;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::auth::REQUEST_ID_HEADER;
use crate::state::AppState;

pub use json::JsonBody;

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let api = Router::new()
        .merge(projects::routes())
        .merge(analytics::routes())
        .merge(approvals::routes())
        .merge(scheduled_changes::routes())
        .merge(environments::routes())
        .merge(flags::routes())
        .merge(environment_flags::routes())
        .merge(segments::routes())
        .merge(tokens::routes())
        .merge(audit_log::routes())
        .merge(openapi::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            flush_after_writes,
        ));
    Router::new()
        .nest("/api/v1", api)
        .layer(DefaultBodyLimit::max(state.config.http.body_limit_bytes))
        .with_state(state.clone())
        .merge(vexil_service::health::router(state.readiness.clone()))
        .merge(vexil_service::metrics::router(state.metrics.clone()))
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            vexil_service::metrics::track,
        ))
        .layer(vexil_service::http_trace::layer())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn no_route(request: Request) -> crate::error::ApiError {
    crate::error::ApiError::not_found(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
}

/// A write's response waits until its change is numbered for FlagSync and its audit
/// entry chained (`ConfigStore::flush`), so whoever reads after a write sees both.
async fn flush_after_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_write = !request.method().is_safe();
    let response = next.run(request).await;
    if is_write && response.status().is_success() {
        state.store.flush().await;
    }
    response
}

/// `?limit=` bounds shared by the list routes.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, crate::error::ApiError> {
    match limit {
        None => Ok(50),
        Some(limit) if (1..=1000).contains(&limit) => Ok(limit),
        Some(_) => Err(crate::error::ApiError::invalid_field(
            "limit",
            "must be between 1 and 1000",
        )),
    }
}
