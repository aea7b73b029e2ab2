//! CORS for the browser routes (spec 7.6): preflight answered with 200 and no body,
//! every response allowed to the requesting origin, without credentials.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::CorsConfig;

/// The request headers browsers may send (spec 7.6).
pub const ALLOWED_HEADERS: &str = "Cache-Control, Content-Type, Content-Length, Accept-Encoding, \
     X-LaunchDarkly-User-Agent, X-LaunchDarkly-Payload-ID, X-LaunchDarkly-Wrapper, \
     X-LaunchDarkly-Event-Schema, X-LaunchDarkly-Tags";
pub const ALLOWED_METHODS: &str = "POST, OPTIONS";
pub const MAX_AGE_SECONDS: &str = "300";

/// The fixed CORS header values, built once from the configuration.
#[derive(Debug, Clone)]
pub struct Cors {
    allowed_headers: HeaderValue,
}

impl Cors {
    /// Extra headers that are not valid header text are left out (and logged).
    pub fn new(config: &CorsConfig) -> Cors {
        let mut allowed = ALLOWED_HEADERS.to_owned();
        for extra in &config.extra_allowed_headers {
            allowed.push_str(", ");
            allowed.push_str(extra.trim());
        }
        let allowed_headers = HeaderValue::from_str(&allowed).unwrap_or_else(|_| {
            tracing::warn!("cors.extra_allowed_headers is not valid header text; ignored");
            HeaderValue::from_static(ALLOWED_HEADERS)
        });
        Cors { allowed_headers }
    }

    fn apply(&self, request_origin: Option<HeaderValue>, headers: &mut HeaderMap) {
        let origin = request_origin.unwrap_or_else(|| HeaderValue::from_static("*"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            self.allowed_headers.clone(),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("false"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECONDS),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Date"),
        );
        // The allowed origin echoes the request's, so caches must key on it.
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// `OPTIONS` on a browser route: 200, no body; [`add_headers`] adds the CORS headers.
pub async fn preflight() -> StatusCode {
    StatusCode::OK
}

/// Middleware adding the CORS headers to every response of the browser routes, errors
/// included, so a browser can read the status.
pub async fn add_headers(State(cors): State<Arc<Cors>>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    cors.apply(origin, response.headers_mut());
    response
}
