//! Prometheus metrics: one registry per service, HTTP request counts and latencies for
//! every route, and `GET /metrics` in the OpenMetrics text format.
//!
//! Routes are labelled by their pattern (`/api/v1/projects/{project}`), never by the
//! requested path, so the number of series stays bounded whatever clients send.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};
use tracing::Instrument;

use crate::telemetry;

pub mod merge;

/// The `Content-Type` of an OpenMetrics text exposition.
pub const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// A service's metrics. Cheap to clone (one `Arc`: the request middleware gets a clone
/// per request); every clone shares the registry.
#[derive(Clone)]
pub struct Metrics(Arc<Shared>);

struct Shared {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    durations: DurationFamily,
}

impl Metrics {
    /// A registry whose metrics are all named `vexil_…` and labelled `service="<service>"`.
    pub fn new(service: &str) -> Metrics {
        let mut registry = Registry::with_prefix_and_labels(
            "vexil",
            [("service".into(), service.to_owned().into())].into_iter(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        // 0.5 ms to about 16 s: answers from memory up to long polls.
        let durations: DurationFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register(
            "http_request_duration_seconds",
            "Time until the response head, by method and route pattern",
            durations.clone(),
        );
        Metrics(Arc::new(Shared {
            registry: Mutex::new(registry),
            requests,
            durations,
        }))
    }

    /// Registers a service's own metric (at start-up; names get the `vexil_` prefix).
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.0
            .registry
            .lock()
            .expect("the metrics registry lock is never poisoned: encoding does not panic")
            .register(name, help, metric);
    }

    /// Everything registered, in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let registry = self
            .0
            .registry
            .lock()
            .expect("the metrics registry lock is never poisoned: encoding does not panic");
        encode(&mut text, &registry).expect("writing to a String does not fail");
        text
    }
}

/// `GET /metrics`, to merge into a service's router.
pub fn router<S>(metrics: Metrics) -> Router<S> {
    Router::new()
        .route("/metrics", get(serve))
        .with_state(metrics)
}

async fn serve(State(metrics): State<Metrics>) -> Response {
    ([(CONTENT_TYPE, CONTENT_TYPE_OPENMETRICS)], metrics.encode()).into_response()
}

/// Middleware counting and timing every request and, when the service exports traces,
/// running it in a server span that continues the caller's `traceparent`
/// (`telemetry::propagation`); add it with
/// `.layer(axum::middleware::from_fn_with_state(metrics, vexil_service::metrics::track))`
/// after the routes and the fallback (axum applies a layer only to what is there).
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let span = telemetry::http_server_span(&method, &route, request.headers());
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    telemetry::record_http_status(&span, response.status());
    let labels = RouteLabels { method, route };
    metrics
        .0
        .durations
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    metrics
        .0
        .requests
        .get_or_create(&RequestLabels {
            method: labels.method,
            route: labels.route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get_text(app: &Router, uri: &str) -> (StatusCode, String) {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn requests_are_counted_by_route_pattern_and_status() {
        let metrics = Metrics::new("test");
        let app = Router::new()
            .route("/items/{key}", get(|| async { "item" }))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(axum::middleware::from_fn_with_state(metrics.clone(), track))
            .merge(router(metrics.clone()));
        for key in ["a", "b"] {
            assert_eq!(
                get_text(&app, &format!("/items/{key}")).await.0,
                StatusCode::OK
            );
        }
        assert_eq!(get_text(&app, "/nowhere").await.0, StatusCode::NOT_FOUND);

        let (status, text) = get_text(&app, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            text.contains(
                r#"vexil_http_requests_total{service="test",method="GET",route="/items/{key}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"route="unmatched",status="404"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"vexil_http_request_duration_seconds_count{service="test",method="GET",route="/items/{key}"} 2"#),
            "{text}"
        );
    }
}
