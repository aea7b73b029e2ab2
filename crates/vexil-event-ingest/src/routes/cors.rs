//! CORS for the browser routes (spec 7.6), as the stream gateway does it: preflight
//! `OPTIONS` answered with 200 and no body, and `Access-Control-Allow-Origin` on every
//! response, errors included, whose `Origin` the environment's allow-list accepts
//! (`cors.environments`, else `cors.allowed_origins`; an empty list accepts any origin, a
//! request without `Origin` gets `*`). The environment comes from the client-side id in
//! the path, resolved through the (cached) credential resolver; an id that cannot be
//! resolved gets the default list, and never a preflight failure.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use vexil_proto::config::v1::CredentialKind;

use crate::config::CorsConfig;
use crate::state::AppState;

/// The request headers LaunchDarkly's browser SDKs send (spec 7.6).
pub const BROWSER_HEADERS: &str = "Cache-Control, Content-Type, Content-Length, Accept-Encoding, \
     X-LaunchDarkly-User-Agent, X-LaunchDarkly-Payload-ID, X-LaunchDarkly-Wrapper, \
     X-LaunchDarkly-Event-Schema, X-LaunchDarkly-Tags";
pub const ALLOWED_METHODS: &str = "POST, OPTIONS";
/// Seconds a browser may cache a preflight.
pub const MAX_AGE_SECONDS: &str = "300";

/// The allowed origins per environment and the allowed headers, from the configuration.
#[derive(Debug)]
pub struct Cors {
    default: AllowList,
    /// Keyed by (project key, environment key).
    environments: HashMap<(String, String), AllowList>,
    allowed_headers: HeaderValue,
}

#[derive(Debug)]
enum AllowList {
    Any,
    Only(Vec<String>),
}

impl Cors {
    /// The policy of a validated configuration.
    pub fn new(config: &CorsConfig) -> Cors {
        let extras: String = config
            .allowed_headers
            .iter()
            .map(|header| format!(", {header}"))
            .collect();
        Cors {
            default: AllowList::new(&config.allowed_origins),
            environments: config
                .environments
                .iter()
                .map(|entry| {
                    let key = (entry.project.clone(), entry.environment.clone());
                    (key, AllowList::new(&entry.allowed_origins))
                })
                .collect(),
            allowed_headers: HeaderValue::from_str(&format!("{BROWSER_HEADERS}{extras}"))
                .expect("validated header names form a valid header value"),
        }
    }

    /// The `Access-Control-Allow-Origin` for a request from `origin` to `environment`
    /// (project key, environment key; `None` when unknown): `*` without an `Origin`, the
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
            AllowList::Only(origins.to_vec())
        }
    }
}

/// Middleware of the browser routes: answers preflight itself, adds the headers to the
/// rest. The client-side id is the last path segment.
pub async fn browser_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client_side_id = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let resolved = match state.resolver.resolve(&client_side_id).await {
        Ok(resolved) if resolved.kind == CredentialKind::ClientSideId => Some(resolved),
        _ => None,
    };
    let scope = resolved.as_deref().map(|resolved| {
        (
            resolved.project_key.as_str(),
            resolved.environment_key.as_str(),
        )
    });
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
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            state.cors.allowed_headers.clone(),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECONDS),
        );
    } else {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Date"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CorsEnvironment;

    fn cors() -> Cors {
        Cors::new(&CorsConfig {
            allowed_origins: vec![],
            allowed_headers: vec!["X-Custom".into()],
            environments: vec![CorsEnvironment {
                project: "shop".into(),
                environment: "production".into(),
                allowed_origins: vec!["https://shop.example".into()],
            }],
        })
    }

    fn allowed(environment: Option<(&str, &str)>, origin: Option<&str>) -> Option<String> {
        let origin = origin.map(|origin| HeaderValue::from_str(origin).unwrap());
        cors()
            .allowed_origin(environment, origin.as_ref())
            .map(|value| value.to_str().unwrap().to_owned())
    }

    #[test]
    fn listed_environments_allow_only_their_origins_others_reflect_any() {
        let production = Some(("shop", "production"));
        assert_eq!(
            allowed(production, Some("https://shop.example")).as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(allowed(production, Some("https://evil.example")), None);
        assert_eq!(allowed(production, None).as_deref(), Some("*"));
        assert_eq!(
            allowed(Some(("shop", "test")), Some("https://any.example")).as_deref(),
            Some("https://any.example")
        );
        assert_eq!(
            allowed(None, Some("https://any.example")).as_deref(),
            Some("https://any.example")
        );
    }

    #[test]
    fn extra_headers_are_appended() {
        let headers = cors().allowed_headers;
        assert!(headers
            .to_str()
            .unwrap()
            .ends_with("X-LaunchDarkly-Tags, X-Custom"));
    }
}
