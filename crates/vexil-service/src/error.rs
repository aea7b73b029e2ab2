//! How a service's failures leave it: JSON error responses, with `Retry-After` when
//! retrying helps, and errors with their sources on one line for logs. The body's shape
//! (`{code, message}`, OFREP's `{errorDetails}`) stays with the service.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECONDS: &str = "1";

/// `status` with `body` as JSON (`Content-Type: application/json`); a 503 also says
/// `Retry-After: 1`, which SDKs and providers honour before retrying.
pub fn json_error(status: StatusCode, body: &impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    response
}

/// An error and its sources on one line, for logs: `outer: cause: root cause`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[derive(Serialize)]
    struct Body {
        code: &'static str,
        message: &'static str,
    }

    async fn parts(response: Response) -> (StatusCode, Option<String>, Option<String>, String) {
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|value: &HeaderValue| value.to_str().unwrap().to_owned())
        };
        let (status, content_type, retry_after) = (
            response.status(),
            header(header::CONTENT_TYPE),
            header(header::RETRY_AFTER),
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            retry_after,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn an_error_is_its_status_and_json_body() {
        let body = Body {
            code: "not_found",
            message: "unknown flag",
        };
        let (status, content_type, retry_after, text) =
            parts(json_error(StatusCode::NOT_FOUND, &body)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(retry_after, None);
        assert_eq!(text, r#"{"code":"not_found","message":"unknown flag"}"#);
    }

    #[tokio::test]
    async fn unavailable_asks_to_retry_after_a_second() {
        let body = Body {
            code: "unavailable",
            message: "retry later",
        };
        let (status, _, retry_after, _) =
            parts(json_error(StatusCode::SERVICE_UNAVAILABLE, &body)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after.as_deref(), Some("1"));
    }

    #[test]
    fn the_chain_names_every_source() {
        #[derive(Debug, thiserror::Error)]
        #[error("failed to publish event batch")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("broker refused"));
        assert_eq!(
            error_chain(&error),
            "failed to publish event batch: broker refused"
        );
    }
}
