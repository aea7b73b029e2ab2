//! One port for every SDK path: event paths go to event ingest's routes, everything else
//! (streaming, polling, client-side evaluation, OFREP and health) to the stream gateway's. A
//! LaunchDarkly SDK then needs one URL for its base, stream and events URIs, as behind the
//! Kubernetes Ingress.
//!
//! `GET /metrics` there is the whole process's: the expositions of all four services merged
//! into one (`vexil_service::metrics::merge`), so `vexil up` is a single scrape target.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;
use vexil_service::metrics::merge::merge;
use vexil_service::metrics::CONTENT_TYPE_OPENMETRICS;

/// How long one service's exposition may take; a scrape answers with the others after it.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest exposition read from an in-process router.
const EXPOSITION_LIMIT: usize = 16 * 1024 * 1024;

/// The `/metrics` URLs of the services that are not behind this port: config-api's admin
/// listener and the analytics worker's HTTP listener.
pub struct ScrapedServices {
    pub config_api: String,
    pub analytics_worker: String,
}

/// The two routers behind the port, and where the other services' metrics are.
#[derive(Clone)]
struct Routes {
    gateway: Router,
    ingest: Router,
    scraped: Arc<ScrapedServices>,
    client: reqwest::Client,
}

/// A router that sends each request to the gateway's or ingest's routes by its path, and
/// answers `GET /metrics` with every service's metrics.
pub fn router(gateway: Router, ingest: Router, scraped: ScrapedServices) -> anyhow::Result<Router> {
    let client = reqwest::Client::builder()
        .timeout(SCRAPE_TIMEOUT)
        .build()
        .context("building the HTTP client for /metrics")?;
    let routes = Routes {
        gateway,
        ingest,
        scraped: Arc::new(scraped),
        client,
    };
    Ok(Router::new()
        .route("/metrics", get(metrics))
        .fallback(dispatch)
        .with_state(routes))
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

/// The four services' expositions merged. A service that does not answer in time, or
/// answers with an error, is left out with a warning: the others are still worth a scrape,
/// and its absence shows in Prometheus as missing series rather than a failed target.
async fn metrics(State(routes): State<Routes>) -> Response {
    let (gateway, ingest, config_api, worker) = tokio::join!(
        in_process(&routes.gateway),
        in_process(&routes.ingest),
        scrape(&routes.client, &routes.scraped.config_api),
        scrape(&routes.client, &routes.scraped.analytics_worker),
    );
    let mut expositions = Vec::with_capacity(4);
    for (service, exposition) in [
        ("config-api", config_api),
        ("stream-gateway", gateway),
        ("event-ingest", ingest),
        ("analytics-worker", worker),
    ] {
        match exposition.and_then(complete) {
            Ok(text) => expositions.push(text),
            Err(error) => tracing::warn!(
                service,
                error = format!("{error:#}"),
                "service's metrics left out of /metrics"
            ),
        }
    }
    let merged = merge(expositions.iter().map(String::as_str));
    for family in &merged.conflicts {
        tracing::warn!(
            family,
            "metric family declared differently by two services; the later one's samples left out"
        );
    }
    (
        [(CONTENT_TYPE, CONTENT_TYPE_OPENMETRICS)],
        merged.exposition,
    )
        .into_response()
}

/// `GET /metrics` of a router running in this process.
async fn in_process(router: &Router) -> anyhow::Result<String> {
    let request = Request::get("/metrics")
        .body(Body::empty())
        .context("building a /metrics request")?;
    let answer = async {
        let response: Result<Response, Infallible> = router.clone().oneshot(request).await;
        let response = match response {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if response.status() != StatusCode::OK {
            bail!("/metrics answered {}", response.status());
        }
        let body = axum::body::to_bytes(response.into_body(), EXPOSITION_LIMIT)
            .await
            .context("reading /metrics")?;
        String::from_utf8(body.to_vec()).context("/metrics is not UTF-8")
    };
    tokio::time::timeout(SCRAPE_TIMEOUT, answer)
        .await
        .context("/metrics timed out")?
}

/// `GET url` of a service listening on loopback. reqwest's errors name the URL.
async fn scrape(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.text().await?)
}

/// An exposition that ends with its `# EOF`: a truncated one would lose samples unnoticed.
fn complete(exposition: String) -> anyhow::Result<String> {
    if exposition.ends_with("# EOF\n") {
        Ok(exposition)
    } else {
        bail!("the exposition does not end with # EOF")
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::any;

    use super::*;

    fn named(name: &'static str) -> Router {
        Router::new().fallback(any(move || async move { name }))
    }

    fn nowhere() -> ScrapedServices {
        ScrapedServices {
            config_api: "http://127.0.0.1:9/metrics".to_owned(),
            analytics_worker: "http://127.0.0.1:9/metrics".to_owned(),
        }
    }

    async fn served_by(path: &str) -> String {
        let response = router(named("gateway"), named("ingest"), nowhere())
            .unwrap()
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
            "/bulkier",
            "/mobiles",
        ] {
            assert_eq!(served_by(path).await, "gateway", "{path}");
        }
    }

    /// A service's `/metrics`: the family every service declares, with its own label.
    fn service(name: &str) -> Router {
        let exposition = format!(
            "# HELP vexil_jobs Jobs done.\n# TYPE vexil_jobs counter\n\
             vexil_jobs_total{{service=\"{name}\"}} 1\n# EOF\n"
        );
        Router::new().route("/metrics", get(move || async move { exposition }))
    }

    /// `router` served on a loopback port, as platform.rs serves config-api and the worker.
    async fn listening(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}/metrics")
    }

    #[tokio::test]
    async fn metrics_merge_every_service_that_answers() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_url = format!("http://{}/metrics", closed.local_addr().unwrap());
        drop(closed);
        let scraped = ScrapedServices {
            config_api: listening(service("config-api")).await,
            analytics_worker: closed_url,
        };
        let port = router(service("stream-gateway"), service("event-ingest"), scraped).unwrap();
        let response = port
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], CONTENT_TYPE_OPENMETRICS);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert_eq!(
            text,
            "# HELP vexil_jobs Jobs done.\n# TYPE vexil_jobs counter\n\
             vexil_jobs_total{service=\"config-api\"} 1\n\
             vexil_jobs_total{service=\"stream-gateway\"} 1\n\
             vexil_jobs_total{service=\"event-ingest\"} 1\n# EOF\n"
        );
    }

    #[test]
    fn an_exposition_without_its_eof_is_refused() {
        assert!(complete("# TYPE a gauge\na 1\n# EOF\n".to_owned()).is_ok());
        assert!(complete("# TYPE a gauge\na 1\n".to_owned()).is_err());
    }
}
