//! Client-side and mobile polling (spec 7.2, 7.3): every flag the credential sees,
//! evaluated for the context in the path (`GET .../contexts/{context}`) or the body
//! (`REPORT .../context`). The same handlers serve browsers, mobile SDKs and SDK keys; the
//! credential type decides which flags are included.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use vexil_eval::Context;

use super::client_auth::ClientCredential;
use super::client_request::{BodyContext, PathContext, WithReasons};
use super::poll::CACHE_CONTROL;
use super::report::Report;
use crate::error::ApiError;
use crate::evaluation::{evaluate_client_flags, ClientRequest, FlagVisibility};
use crate::state::AppState;
use crate::store::Authenticated;

/// `GET .../contexts/{context}` (and the legacy `.../users/{user}`).
pub async fn get_flags<C: ClientCredential>(
    State(state): State<AppState>,
    credential: C,
    WithReasons(with_reasons): WithReasons,
    PathContext(context): PathContext,
) -> Result<Response, ApiError> {
    let authenticated = credential.into_authenticated();
    evaluation_response(
        &state,
        &authenticated,
        C::VISIBILITY,
        &context,
        with_reasons,
    )
}

/// `REPORT .../context` (and the legacy `.../user`).
pub async fn report_flags<C: ClientCredential>(
    State(state): State<AppState>,
    _: Report,
    credential: C,
    WithReasons(with_reasons): WithReasons,
    BodyContext(context): BodyContext,
) -> Result<Response, ApiError> {
    let authenticated = credential.into_authenticated();
    evaluation_response(
        &state,
        &authenticated,
        C::VISIBILITY,
        &context,
        with_reasons,
    )
}

fn evaluation_response(
    state: &AppState,
    authenticated: &Authenticated,
    visibility: FlagVisibility,
    context: &Context,
    with_reasons: bool,
) -> Result<Response, ApiError> {
    let data = state
        .store
        .environment(&authenticated.environment_id)
        .ok_or_else(ApiError::not_loaded)?;
    let request = ClientRequest {
        visibility,
        with_reasons,
        environment_revision: data.sequence(),
    };
    let body = evaluate_client_flags(data.as_ref(), context, &request).to_json();
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(response)
}
