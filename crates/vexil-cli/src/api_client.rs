//! A small blocking client for config-api's REST API: the base URL, the token from
//! `VEXIL_API_TOKEN`, and errors that name the cause (the API's own message, the URL that
//! could not be reached, the variable that is not set).

use std::error::Error as _;
use std::io;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::InputError;

/// The environment variable holding the API token. The token is never a command-line flag:
/// shell history and process listings would show it.
pub const TOKEN_VARIABLE: &str = "VEXIL_API_TOKEN";

/// How long connecting may take before the API counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take (config-api gives analytics-worker 5 s by default).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a request to the API did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error status; `message` is the `message` of its JSON body.
    #[error("{status}: {message}{hint}", hint = refusal_hint(*status))]
    Refused {
        /// The HTTP status.
        status: StatusCode,
        /// What the API said, or the body's text when it was not the usual JSON.
        message: String,
    },
    /// Nothing accepted the connection (or it did not complete in time).
    #[error(
        "cannot connect to the Vexil API at {base_url} ({reason}); is config-api running there? \
         Set --api-url or VEXIL_API_URL"
    )]
    Unreachable {
        /// The base URL as given.
        base_url: String,
        /// The OS error, such as `connection refused`.
        reason: String,
    },
    /// The connection was made but no answer came within the request timeout.
    #[error("the Vexil API at {base_url} did not answer within {} s", REQUEST_TIMEOUT.as_secs())]
    TimedOut {
        /// The base URL as given.
        base_url: String,
    },
    /// The request failed in another way (the connection broke, the answer was not the JSON
    /// expected).
    #[error("request to {url} failed")]
    Failed {
        /// The full URL requested.
        url: String,
        /// What went wrong.
        #[source]
        source: reqwest::Error,
    },
}

/// A client for one API base URL with one token. Requests run on a private current-thread
/// tokio runtime, so callers stay synchronous.
pub struct ApiClient {
    base_url: Url,
    /// The base URL as given, for messages.
    base_url_text: String,
    token: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl ApiClient {
    /// A client for `base_url` (`--api-url`) using the token in `VEXIL_API_TOKEN`.
    pub fn from_environment(base_url: &str) -> anyhow::Result<Self> {
        let base_url_text = base_url.trim_end_matches('/').to_owned();
        let parsed = parse_base_url(base_url)?;
        let token = token_from_environment()?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("vexil-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(ApiClient {
            base_url: parsed,
            base_url_text,
            token,
            http,
            runtime,
        })
    }

    /// `GET {base}/api/v1/{path...}?{query}`, decoded from JSON. Each path segment is
    /// percent-encoded, so keys cannot change the route.
    pub fn get<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .expect("parse_base_url accepts only http URLs, which have a path")
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.runtime.block_on(self.send_get(url))
    }

    async fn send_get<T: DeserializeOwned>(&self, url: Url) -> Result<T, ApiError> {
        let response = self
            .http
            .get(url.clone())
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|source| self.request_error(&url, source))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(ApiError::Refused {
                status,
                message: error_message(status, &body),
            });
        }
        response
            .json()
            .await
            .map_err(|source| self.request_error(&url, source))
    }

    fn request_error(&self, url: &Url, source: reqwest::Error) -> ApiError {
        let base_url = self.base_url_text.clone();
        if source.is_connect() {
            ApiError::Unreachable {
                base_url,
                reason: connect_reason(&source),
            }
        } else if source.is_timeout() {
            ApiError::TimedOut { base_url }
        } else {
            ApiError::Failed {
                url: url.to_string(),
                source,
            }
        }
    }
}

/// Accepts `http://` URLs only: this build has no TLS backend, and reqwest's own error for an
/// `https://` URL would not say so.
fn parse_base_url(text: &str) -> Result<Url, InputError> {
    let problem = |problem: &str| InputError::ApiUrl {
        url: text.to_owned(),
        problem: problem.to_owned(),
    };
    if !text.contains("://") {
        return Err(problem("the URL must start with http://"));
    }
    let url = Url::parse(text).map_err(|error| problem(&format!("not a valid URL ({error})")))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(problem(
                "https is not supported yet (this build of vexil has no TLS); use an http:// URL, \
                 for example through a local proxy or a port-forward",
            ))
        }
        _ => return Err(problem("the URL must start with http://")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(problem("the URL has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(problem("the base URL cannot have a query or a fragment"));
    }
    Ok(url)
}

fn token_from_environment() -> Result<String, InputError> {
    match std::env::var(TOKEN_VARIABLE) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        _ => Err(InputError::MissingToken {
            variable: TOKEN_VARIABLE,
        }),
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// The `message` of config-api's JSON error body; otherwise the start of the body, or the
/// status's reason when the body is empty.
fn error_message(status: StatusCode, body: &str) -> String {
    if let Ok(error) = serde_json::from_str::<ErrorBody>(body) {
        return error.message;
    }
    let text: String = body.trim().chars().take(200).collect();
    if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("no message")
            .to_lowercase()
    } else {
        text
    }
}

fn refusal_hint(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => " (check the token in VEXIL_API_TOKEN)",
        StatusCode::FORBIDDEN => " (the token in VEXIL_API_TOKEN lacks the role or scope)",
        StatusCode::SERVICE_UNAVAILABLE => " (retry later)",
        _ => "",
    }
}

/// The OS error under a connection failure (`connection refused`), else reqwest's words.
fn connect_reason(error: &reqwest::Error) -> String {
    let mut cause = error.source();
    while let Some(error) = cause {
        if let Some(io_error) = error.downcast_ref::<io::Error>() {
            return match io_error.kind() {
                io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                io::ErrorKind::TimedOut => "connection timed out".to_owned(),
                _ => io_error.to_string(),
            };
        }
        cause = error.source();
    }
    if error.is_timeout() {
        "connection timed out".to_owned()
    } else {
        error.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_plain_http() {
        let cases = [
            ("http://127.0.0.1:8030", Ok("http://127.0.0.1:8030/")),
            ("http://vexil.internal/proxy/", Ok("http://vexil.internal/proxy/")),
            (
                "https://vexil.example.com",
                Err("--api-url (or VEXIL_API_URL) \"https://vexil.example.com\": https is not \
                     supported yet (this build of vexil has no TLS); use an http:// URL, for \
                     example through a local proxy or a port-forward"),
            ),
            (
                "127.0.0.1:8030",
                Err("--api-url (or VEXIL_API_URL) \"127.0.0.1:8030\": the URL must start with http://"),
            ),
            (
                "http://",
                Err("--api-url (or VEXIL_API_URL) \"http://\": not a valid URL (empty host)"),
            ),
            (
                "http://h/?a=b",
                Err("--api-url (or VEXIL_API_URL) \"http://h/?a=b\": the base URL cannot have a query or a fragment"),
            ),
        ];
        for (text, expected) in cases {
            let parsed = parse_base_url(text)
                .map(|url| url.to_string())
                .map_err(|error| error.to_string());
            assert_eq!(
                parsed.as_ref().map(String::as_str).map_err(String::as_str),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn error_messages_come_from_the_json_body_or_the_text() {
        let cases = [
            (
                StatusCode::NOT_FOUND,
                r#"{"code": "not_found", "message": "project `nope` not found"}"#,
                "project `nope` not found",
            ),
            (StatusCode::BAD_GATEWAY, "upstream down\n", "upstream down"),
            (StatusCode::BAD_GATEWAY, "", "bad gateway"),
        ];
        for (status, body, expected) in cases {
            assert_eq!(error_message(status, body), expected, "{body}");
        }
    }
}
