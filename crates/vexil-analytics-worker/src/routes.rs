//! The HTTP port: `/health/live`, `/health/ready` and `/metrics`, each request counted,
//! timed and (when traces are exported) traced like every service's.

use axum::middleware::from_fn_with_state;
use axum::Router;
use vexil_service::health::Readiness;
use vexil_service::metrics::Metrics;

pub fn router(readiness: Readiness, metrics: Metrics) -> Router {
    Router::new()
        .merge(vexil_service::health::router(readiness))
        .merge(vexil_service::metrics::router(metrics.clone()))
        .layer(from_fn_with_state(metrics, vexil_service::metrics::track))
}
