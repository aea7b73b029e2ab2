//! `/health/live` and `/health/ready`: liveness is "the process answers"; readiness is a
//! flag the service raises once its dependencies are connected and lowers when draining.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

/// Whether the service should receive traffic. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// The service is ready to receive traffic.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// The service is starting or draining: load balancers should send traffic elsewhere.
    pub fn set_not_ready(&self) {
        self.0.store(false, Ordering::Release);
    }

    /// Whether [`Readiness::set_ready`] was the last call.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

#[derive(Serialize)]
struct HealthBody {
    status: &'static str,
}

/// The health routes, to merge into a service's router.
pub fn router<S>(readiness: Readiness) -> Router<S> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .with_state(readiness)
}

async fn live() -> Json<HealthBody> {
    Json(HealthBody { status: "live" })
}

async fn ready(State(readiness): State<Readiness>) -> (StatusCode, Json<HealthBody>) {
    if readiness.is_ready() {
        (StatusCode::OK, Json(HealthBody { status: "ready" }))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthBody {
                status: "not ready",
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn status_of(router: Router, path: &str) -> StatusCode {
        let request = Request::get(path).body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn readiness_follows_the_flag() {
        let readiness = Readiness::default();
        let app: Router = router(readiness.clone());
        assert_eq!(status_of(app.clone(), "/health/live").await, StatusCode::OK);
        assert_eq!(
            status_of(app.clone(), "/health/ready").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        readiness.set_ready();
        assert_eq!(
            status_of(app.clone(), "/health/ready").await,
            StatusCode::OK
        );
        readiness.set_not_ready();
        assert_eq!(
            status_of(app, "/health/ready").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
