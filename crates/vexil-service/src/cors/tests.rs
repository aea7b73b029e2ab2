//! Origin matching, header lists, and the middleware on a small router.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{from_fn, Next};
use axum::routing::post;
use axum::Router;
use tower::ServiceExt;

use super::*;

const BROWSER: CorsRoutes = CorsRoutes {
    methods: "GET, REPORT, OPTIONS",
    extra_request_headers: None,
    exposed_headers: "Date",
};
const OFREP: CorsRoutes = CorsRoutes {
    methods: "POST, OPTIONS",
    extra_request_headers: Some("Authorization, X-API-Key, If-None-Match"),
    exposed_headers: "Date, ETag",
};

fn policy() -> CorsPolicy {
    CorsPolicy::new(&CorsConfig {
        allowed_origins: vec![],
        allowed_headers: vec!["X-Request-Id".into()],
        environments: vec![CorsEnvironment {
            project: "shop".into(),
            environment: "production".into(),
            allowed_origins: vec!["https://shop.example.com/".into()],
        }],
    })
}

fn allowed(environment: Option<(&str, &str)>, origin: Option<&str>) -> Option<String> {
    let origin = origin.map(|origin| HeaderValue::from_str(origin).unwrap());
    policy()
        .allowed_origin(environment, origin.as_ref())
        .map(|value| value.to_str().unwrap().to_owned())
}

#[test]
fn listed_environments_allow_only_their_origins_others_reflect_any() {
    let production = Some(("shop", "production"));
    let shop = "https://shop.example.com";
    assert_eq!(allowed(production, Some(shop)).as_deref(), Some(shop));
    assert_eq!(allowed(production, Some("https://evil.example")), None);
    assert_eq!(allowed(production, None).as_deref(), Some("*"));
    let other = "https://other.example";
    assert_eq!(
        allowed(Some(("shop", "test")), Some(other)).as_deref(),
        Some(other)
    );
    assert_eq!(allowed(None, Some(other)).as_deref(), Some(other));
}

#[test]
fn a_wildcard_in_a_list_allows_any_origin() {
    let policy = CorsPolicy::new(&CorsConfig {
        allowed_origins: vec!["https://app.example.com".into(), "*".into()],
        ..CorsConfig::default()
    });
    let origin = HeaderValue::from_static("https://anything.example");
    assert_eq!(
        policy.allowed_origin(None, Some(&origin)),
        Some(origin.clone())
    );
}

#[test]
fn a_default_list_refuses_unlisted_origins() {
    let policy = CorsPolicy::new(&CorsConfig {
        allowed_origins: vec!["https://app.example.com".into()],
        ..CorsConfig::default()
    });
    let listed = HeaderValue::from_static("https://app.example.com");
    let unlisted = HeaderValue::from_static("https://evil.example");
    assert_eq!(
        policy.allowed_origin(Some(("shop", "test")), Some(&listed)),
        Some(listed.clone())
    );
    assert_eq!(policy.allowed_origin(None, Some(&unlisted)), None);
}

#[test]
fn extra_headers_are_appended() {
    let policy = policy();
    let browser = policy.allowed_headers(&BROWSER);
    assert!(browser
        .to_str()
        .unwrap()
        .starts_with(BROWSER_REQUEST_HEADERS));
    assert!(browser
        .to_str()
        .unwrap()
        .ends_with("X-LaunchDarkly-Tags, X-Request-Id"));
    assert!(policy
        .allowed_headers(&OFREP)
        .to_str()
        .unwrap()
        .ends_with("X-LaunchDarkly-Tags, Authorization, X-API-Key, If-None-Match, X-Request-Id"));
    let without_extras = CorsPolicy::new(&CorsConfig::default()).allowed_headers(&BROWSER);
    assert_eq!(without_extras, BROWSER_REQUEST_HEADERS);
}

/// `POST /{project}/{environment}` behind the policy, the environment taken from the path;
/// the route answers 418 so a test sees whether it ran.
fn router(routes: CorsRoutes) -> Router {
    let policy = Arc::new(policy());
    Router::new()
        .route(
            "/{project}/{environment}",
            post(|| async { StatusCode::IM_A_TEAPOT }),
        )
        .layer(from_fn(move |request: Request<Body>, next: Next| {
            let policy = policy.clone();
            async move {
                let path = request.uri().path().to_owned();
                let environment = path.trim_start_matches('/').split_once('/');
                policy.respond(&routes, environment, request, next).await
            }
        }))
}

async fn send(routes: CorsRoutes, method: Method, origin: &str) -> axum::response::Response {
    let request = Request::builder()
        .method(method)
        .uri("/shop/production")
        .header(header::ORIGIN, origin)
        .body(Body::empty())
        .unwrap();
    router(routes).oneshot(request).await.unwrap()
}

fn header(response: &axum::response::Response, name: header::HeaderName) -> Option<&str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap())
}

#[tokio::test]
async fn preflight_is_answered_without_the_route_whatever_the_origin() {
    let response = send(OFREP, Method::OPTIONS, "https://evil.example").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN), None);
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_ALLOW_METHODS),
        Some("POST, OPTIONS")
    );
    assert!(header(&response, header::ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap()
        .ends_with("If-None-Match, X-Request-Id"));
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_MAX_AGE),
        Some("300")
    );
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("false")
    );
    assert_eq!(header(&response, header::VARY), Some("Origin"));
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_EXPOSE_HEADERS),
        None
    );
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert!(body.is_empty());
}

#[tokio::test]
async fn other_responses_carry_the_allowed_origin_and_exposed_headers() {
    let response = send(BROWSER, Method::POST, "https://shop.example.com").await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("https://shop.example.com")
    );
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_EXPOSE_HEADERS),
        Some("Date")
    );
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("false")
    );
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_ALLOW_METHODS),
        None
    );

    let refused = send(BROWSER, Method::POST, "https://evil.example").await;
    assert_eq!(refused.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(header(&refused, header::ACCESS_CONTROL_ALLOW_ORIGIN), None);
}
