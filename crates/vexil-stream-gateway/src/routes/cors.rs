//! CORS for the browser endpoints and OFREP (spec 7.6): preflight `OPTIONS` answered with
//! `200`, and `Access-Control-Allow-Origin` on every response whose `Origin` the
//! environment's allow-list accepts (`cors.environments`, else `cors.allowed_origins`;
//! an empty list accepts any origin, a request without `Origin` gets `*`).
//!
//! The environment comes from the client-side ID in the path (browser routes) or the
//! OFREP credential; a preflight carries no credential, so OFREP preflights use the
//! default list.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

use super::client_auth::{path_param, ENVIRONMENT_ID_PARAM};
use super::ofrep_credential;
use crate::config::CorsConfig;
use crate::state::AppState;
use crate::store::{CredentialKind, EnvironmentData};

/// Request headers LaunchDarkly's browser SDKs send (spec 7.6).
const BROWSER_HEADERS: &str = "Cache-Control, Content-Type, Content-Length, Accept-Encoding, \
     X-LaunchDarkly-User-Agent, X-LaunchDarkly-Payload-ID, X-LaunchDarkly-Wrapper, \
     X-LaunchDarkly-Event-Schema, X-LaunchDarkly-Tags";
/// What OFREP providers send besides.
const OFREP_HEADERS: &str = "Authorization, X-API-Key, If-None-Match";
/// Seconds a browser may cache a preflight.
const MAX_AGE: &str = "300";

/// The allowed origins, per environment, from the configuration.
#[derive(Debug)]
pub struct CorsPolicy {
    default: AllowList,
    /// Keyed by (project key, environment key).
    environments: HashMap<(String, String), AllowList>,
    browser_headers: HeaderValue,
    ofrep_headers: HeaderValue,
}

#[derive(Debug)]
enum AllowList {
    Any,
    Only(Vec<String>),
}

/// Which group of routes a response belongs to: it decides the methods and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorsRoutes {
    Browser,
    Ofrep,
}

impl CorsPolicy {
    /// The policy of a validated configuration.
    pub fn new(config: &CorsConfig) -> CorsPolicy {
        let extras: String = config
            .allowed_headers
            .iter()
            .map(|header| format!(", {header}"))
            .collect();
        let header_list = |base: String| {
            HeaderValue::from_str(&format!("{base}{extras}"))
                .expect("validated header names form a valid header value")
        };
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
            browser_headers: header_list(BROWSER_HEADERS.to_owned()),
            ofrep_headers: header_list(format!("{BROWSER_HEADERS}, {OFREP_HEADERS}")),
        }
    }

    /// The `Access-Control-Allow-Origin` for a request from `origin` to `environment`
    /// (project key, environment key; `None` when not known): `*` without an `Origin`, the
    /// origin itself when the list accepts it, nothing otherwise.
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
}

impl AllowList {
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

impl CorsRoutes {
    fn methods(self) -> &'static str {
        match self {
            CorsRoutes::Browser => "GET, REPORT, OPTIONS",
            CorsRoutes::Ofrep => "POST, OPTIONS",
        }
    }

    fn exposed_headers(self) -> &'static str {
        match self {
            CorsRoutes::Browser => "Date",
            CorsRoutes::Ofrep => "Date, ETag",
        }
    }
}

/// Middleware of the browser routes (`{env_id}` in the path is the client-side ID).
pub async fn browser_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let environment = match path_param(&mut parts, ENVIRONMENT_ID_PARAM).await {
        Ok(id) => state
            .store
            .authenticate(&id, CredentialKind::ClientSideId, SystemTime::now())
            .ok()
            .and_then(|authenticated| state.store.environment(&authenticated.environment_id)),
        Err(_) => None,
    };
    let request = Request::from_parts(parts, body);
    apply(&state, CorsRoutes::Browser, environment, request, next).await
}

/// Middleware of the OFREP routes (the environment of the credential, when there is one).
pub async fn ofrep_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let environment = ofrep_credential::authenticate(&state.store, request.headers())
        .ok()
        .and_then(|authenticated| state.store.environment(&authenticated.environment_id));
    apply(&state, CorsRoutes::Ofrep, environment, request, next).await
}

async fn apply(
    state: &AppState,
    routes: CorsRoutes,
    environment: Option<Arc<EnvironmentData>>,
    request: Request,
    next: Next,
) -> Response {
    let scope = environment
        .as_deref()
        .map(|data| (data.project_key(), data.environment_key()));
    let allowed = state
        .cors
        .allowed_origin(scope, request.headers().get(header::ORIGIN));
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
        let allowed_headers = match routes {
            CorsRoutes::Browser => state.cors.browser_headers.clone(),
            CorsRoutes::Ofrep => state.cors.ofrep_headers.clone(),
        };
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(routes.methods()),
        );
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed_headers);
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
    } else {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(routes.exposed_headers()),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CorsEnvironment;

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
    fn extra_headers_are_appended() {
        let policy = policy();
        assert!(policy
            .browser_headers
            .to_str()
            .unwrap()
            .ends_with("X-LaunchDarkly-Tags, X-Request-Id"));
        assert!(policy
            .ofrep_headers
            .to_str()
            .unwrap()
            .ends_with("Authorization, X-API-Key, If-None-Match, X-Request-Id"));
    }
}
