//! Response bodies of the OFREP routes that are not evaluation results: whole-request
//! failures as `{"errorDetails": "..."}` (spec 8.4), and JSON responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;
use vexil_service::error::json_error;

/// `status` with `{"errorDetails": details}`; a 503 also says `Retry-After: 1`.
pub fn details_response(status: StatusCode, details: &str) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Details<'a> {
        error_details: &'a str,
    }
    json_error(
        status,
        &Details {
            error_details: details,
        },
    )
}

/// `status` with a JSON body.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
