//! The HTTP port: `/health/live`, `/health/ready` and `/metrics`.

use axum::Router;
use vexil_service::health::Readiness;
use vexil_service::metrics::Metrics;

pub fn router(readiness: Readiness, metrics: Metrics) -> Router {
    Router::new()
        .merge(vexil_service::health::router(readiness))
        .merge(vexil_service::metrics::router(metrics))
}
