//! CORS for browser routes (spec 7.6), the same in every service that has them: preflight
//! `OPTIONS` answered with 200 and no body, whatever the origin, and
//! `Access-Control-Allow-Origin` on every response, errors included, whose `Origin` the
//! environment's allow-list accepts (`cors.environments`, else `cors.allowed_origins`; an
//! empty list accepts any origin, a request without `Origin` gets `*`).
//!
//! Owns the `cors.*` configuration ([`CorsConfig`]), origin matching ([`CorsPolicy`]) and
//! the response headers ([`CorsPolicy::respond`]). A service keeps what is its own: which
//! routes sit behind CORS, their methods and extra headers ([`CorsRoutes`]), and how a
//! request names its environment.

mod config;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

pub use config::{CorsConfig, CorsConfigError, CorsEnvironment};

/// The request headers LaunchDarkly's browser SDKs send (spec 7.6), allowed on every
/// browser route.
pub const BROWSER_REQUEST_HEADERS: &str = "Cache-Control, Content-Type, Content-Length, \
     Accept-Encoding, X-LaunchDarkly-User-Agent, X-LaunchDarkly-Payload-ID, \
     X-LaunchDarkly-Wrapper, X-LaunchDarkly-Event-Schema, X-LaunchDarkly-Tags";
/// Seconds a browser may cache a preflight (`Access-Control-Max-Age`).
pub const MAX_AGE_SECONDS: &str = "300";

/// What a group of routes allows, fixed by the service that serves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorsRoutes {
    /// `Access-Control-Allow-Methods`: the routes' methods and `OPTIONS`.
    pub methods: &'static str,
    /// Request headers allowed after [`BROWSER_REQUEST_HEADERS`] and before
    /// `cors.allowed_headers` (OFREP: `Authorization, X-API-Key, If-None-Match`).
    pub extra_request_headers: Option<&'static str>,
    /// `Access-Control-Expose-Headers` on responses other than preflight.
    pub exposed_headers: &'static str,
}

/// The allowed origins per environment and the configured extra headers.
#[derive(Debug)]
pub struct CorsPolicy {
    default: AllowList,
    /// Keyed by (project key, environment key).
    environments: HashMap<(String, String), AllowList>,
    /// `, X-A, X-B` from `cors.allowed_headers`, appended to every allow-list of headers.
    configured_headers: String,
}

#[derive(Debug)]
enum AllowList {
    Any,
    Only(Vec<String>),
}

impl CorsPolicy {
    /// The policy of a validated configuration ([`CorsConfig::validate`]).
    pub fn new(config: &CorsConfig) -> CorsPolicy {
        let configured_headers: String = config
            .allowed_headers
            .iter()
            .map(|header| format!(", {header}"))
            .collect();
        HeaderValue::from_str(&configured_headers)
            .expect("validated header names form a valid header value");
        CorsPolicy {
            default: AllowList::new(&config.allowed_origins),
            environments: config
                .environments
                .iter()
                .map(|entry| {
                    let key = (entry.project.clone(), entry.environment.clone());
                    (key, AllowList::new(&entry.allowed_origins))
                })
                .collect(),
            configured_headers,
        }
    }

    /// The `Access-Control-Allow-Origin` for a request from `origin` to `environment`
    /// (project key, environment key; `None` when not known, which picks the default
    /// list): `*` without an `Origin`, the origin itself when the list accepts it, nothing
    /// otherwise.
    pub fn allowed_origin(
        &self,
        environment: Option<(&str, &str)>,
        origin: Option<&HeaderValue>,
    ) -> Option<HeaderValue> {
        let Some(origin) = origin else {
            return Some(HeaderValue::from_static("*"));
        };
        let list = environment
            .and_then(|(project, environment)| {
                self.environments
                    .get(&(project.to_owned(), environment.to_owned()))
            })
            .unwrap_or(&self.default);
        let is_allowed = match list {
            AllowList::Any => true,
            AllowList::Only(origins) => origin
                .to_str()
                .is_ok_and(|origin| origins.iter().any(|allowed| allowed == origin)),
        };
        is_allowed.then(|| origin.clone())
    }

    /// `Access-Control-Allow-Headers` of a preflight to `routes`: LaunchDarkly's browser
    /// headers, the routes' own, then `cors.allowed_headers`.
    pub fn allowed_headers(&self, routes: &CorsRoutes) -> HeaderValue {
        let own = routes
            .extra_request_headers
            .map(|headers| format!(", {headers}"))
            .unwrap_or_default();
        HeaderValue::try_from(format!(
            "{BROWSER_REQUEST_HEADERS}{own}{}",
            self.configured_headers
        ))
        .expect("header names form a valid header value")
    }

    /// Middleware body for `routes`: answers a preflight itself, runs `next` for anything
    /// else, and adds the CORS headers to the response. `environment` is the request's
    /// (project key, environment key) as the service found it, `None` when it cannot say.
    pub async fn respond(
        &self,
        routes: &CorsRoutes,
        environment: Option<(&str, &str)>,
        request: Request,
        next: Next,
    ) -> Response {
        let allowed = self.allowed_origin(environment, request.headers().get(header::ORIGIN));
        let is_preflight = request.method() == Method::OPTIONS;
        let mut response = if is_preflight {
            Response::new(Body::empty())
        } else {
            next.run(request).await
        };
        let headers = response.headers_mut();
        if let Some(allowed) = allowed {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("false"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if is_preflight {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(routes.methods),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                self.allowed_headers(routes),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECONDS),
            );
        } else {
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(routes.exposed_headers),
            );
        }
        response
    }
}

impl AllowList {
    /// A trailing `/` is dropped, and `*` anywhere in the list means any origin.
    fn new(origins: &[String]) -> AllowList {
        if origins.is_empty() || origins.iter().any(|origin| origin == "*") {
            AllowList::Any
        } else {
            AllowList::Only(
                origins
                    .iter()
                    .map(|origin| origin.trim_end_matches('/').to_owned())
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests;
