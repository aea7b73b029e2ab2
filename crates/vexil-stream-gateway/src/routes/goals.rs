//! `GET /sdk/goals/{env_id}`: the browser SDK's click and page-view goals. Vexil has none,
//! so a known client-side ID gets `[]` (spec 7.6).

use axum::http::{header, HeaderValue};
use axum::response::Response;

use super::client_auth::ClientSideId;

pub async fn goals(_: ClientSideId) -> Response {
    let mut response = Response::new("[]".into());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
