//! OpenFeature Remote Evaluation Protocol (spec 8): `POST /ofrep/v1/evaluate/flags/{key}`
//! (one flag) and `POST /ofrep/v1/evaluate/flags` (every visible flag, with an ETag over the
//! environment revision, the credential's visibility and the normalised context, so an
//! unchanged `If-None-Match` gets 304 without evaluating anything).

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use vexil_eval::Context;

use super::body::read_json_body;
use super::ofrep_credential::OfrepCredential;
use super::ofrep_response::{details_response, json_response};
use super::poll::CACHE_CONTROL;
use crate::evaluation::ofrep::{
    evaluate_ofrep_bulk, evaluate_ofrep_flag, parse_ofrep_request, OfrepError, OfrepErrorCode,
};
use crate::evaluation::{evaluation_etag, if_none_match_matches};
use crate::state::AppState;

/// `POST /ofrep/v1/evaluate/flags/{key}`.
pub async fn evaluate_flag(
    State(state): State<AppState>,
    credential: OfrepCredential,
    key: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let key = match key {
        Ok(Path(key)) => key,
        Err(rejection) => return details_response(StatusCode::BAD_REQUEST, &rejection.body_text()),
    };
    let Some(data) = state
        .store
        .environment(&credential.authenticated.environment_id)
    else {
        return not_loaded();
    };
    let (parts, body) = request.into_parts();
    let context = match read_context(&state, &parts.headers, body, Some(&key)).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let result = evaluate_ofrep_flag(data.as_ref(), &key, &context, credential.visibility);
    let status = StatusCode::from_u16(result.http_status()).expect("OFREP statuses are valid");
    json_response(status, result.to_json())
}

/// `POST /ofrep/v1/evaluate/flags`.
pub async fn evaluate_flags(
    State(state): State<AppState>,
    credential: OfrepCredential,
    request: Request,
) -> Response {
    let Some(data) = state
        .store
        .environment(&credential.authenticated.environment_id)
    else {
        return not_loaded();
    };
    let (parts, body) = request.into_parts();
    let context = match read_context(&state, &parts.headers, body, None).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let revision = data.sequence();
    let etag = evaluation_etag(revision, credential.visibility, &context);
    let is_unchanged = parts
        .headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| if_none_match_matches(value, &etag));
    let mut response = if is_unchanged {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let bulk = evaluate_ofrep_bulk(data.as_ref(), &context, credential.visibility, revision);
        json_response(StatusCode::OK, bulk.to_json())
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("a hex ETag is a valid header value"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}

/// The request's context, or the error response: the body's own problems (413, 415) with
/// `PARSE_ERROR`, the context's as spec 8.4 says (400 with the flag key on the single-flag
/// endpoint, without on the bulk one).
async fn read_context(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    flag_key: Option<&str>,
) -> Result<Context, Response> {
    let json = read_json_body(headers, body, state.body_limit_bytes)
        .await
        .map_err(|error| {
            let body = OfrepError {
                key: flag_key,
                error_code: OfrepErrorCode::ParseError,
                error_details: error.to_string(),
            };
            json_response(error.code().http_status(), body.to_json())
        })?;
    parse_ofrep_request(&json).map_err(|error| {
        json_response(
            StatusCode::BAD_REQUEST,
            error.to_ofrep_error(flag_key).to_json(),
        )
    })
}

fn not_loaded() -> Response {
    details_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "flag data is not loaded yet, retry later",
    )
}
