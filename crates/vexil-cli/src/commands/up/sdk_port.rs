//! One port for every SDK path: event paths go to event ingest's routes, everything else
//! (streaming, polling, client-side evaluation, OFREP, health and metrics) to the stream
//! gateway's. A LaunchDarkly SDK then needs one URL for its base, stream and events URIs, as
//! behind the Kubernetes Ingress.

use std::convert::Infallible;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use tower::ServiceExt;

/// The two routers behind the port.
#[derive(Clone)]
struct Routes {
    gateway: Router,
    ingest: Router,
}

/// A router that sends each request to the gateway's or ingest's routes by its path.
pub fn router(gateway: Router, ingest: Router) -> Router {
    Router::new()
        .fallback(dispatch)
        .with_state(Routes { gateway, ingest })
}

async fn dispatch(State(routes): State<Routes>, request: Request) -> Response {
    let target = if is_event_path(request.uri().path()) {
        routes.ingest
    } else {
        routes.gateway
    };
    let response: Result<Response, Infallible> = target.oneshot(request).await;
    match response {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The paths LaunchDarkly SDKs post events to (event ingest's routes).
fn is_event_path(path: &str) -> bool {
    matches!(path, "/bulk" | "/diagnostic" | "/mobile")
        || path.starts_with("/events/")
        || path.starts_with("/mobile/")
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::any;

    use super::*;

    fn named(name: &'static str) -> Router {
        Router::new().fallback(any(move || async move { name }))
    }

    async fn served_by(path: &str) -> String {
        let response = router(named("gateway"), named("ingest"))
            .oneshot(Request::post(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn event_paths_go_to_ingest_and_the_rest_to_the_gateway() {
        for path in [
            "/bulk",
            "/diagnostic",
            "/events/bulk/abc",
            "/events/diagnostic/abc",
            "/mobile",
            "/mobile/events",
            "/mobile/events/bulk",
            "/mobile/events/diagnostic",
        ] {
            assert_eq!(served_by(path).await, "ingest", "{path}");
        }
        for path in [
            "/all",
            "/sdk/latest-all",
            "/sdk/evalx/abc/contexts/e30",
            "/msdk/evalx/context",
            "/meval",
            "/eval/abc/e30",
            "/ofrep/v1/evaluate/flags",
            "/health/ready",
            "/metrics",
            "/bulkier",
            "/mobiles",
        ] {
            assert_eq!(served_by(path).await, "gateway", "{path}");
        }
    }
}
