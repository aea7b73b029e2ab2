//! Client-side and mobile streaming (spec 7.4): `GET /eval/{env_id}/{context}`,
//! `REPORT /eval/{env_id}`, `GET /meval/{context}`, `REPORT /meval`, and the ping-only
//! `GET /ping/{env_id}` and `GET /mping`. The SSE machinery is the one `/all` uses; only
//! the renderer differs.

use axum::extract::State;
use axum::response::Response;
use vexil_eval::Context;

use super::client_auth::ClientCredential;
use super::client_request::{BodyContext, PathContext, WithReasons};
use super::report::Report;
use super::sse::open_stream;
use crate::error::ApiError;
use crate::state::AppState;
use crate::streaming::{ClientFrames, PingFrames};

/// `GET /eval/{env_id}/{context}`, `GET /meval/{context}`.
pub async fn get_stream<C: ClientCredential>(
    State(state): State<AppState>,
    credential: C,
    WithReasons(with_reasons): WithReasons,
    PathContext(context): PathContext,
) -> Result<Response, ApiError> {
    evaluation_stream(&state, credential, context, with_reasons)
}

/// `REPORT /eval/{env_id}`, `REPORT /meval`.
pub async fn report_stream<C: ClientCredential>(
    State(state): State<AppState>,
    _: Report,
    credential: C,
    WithReasons(with_reasons): WithReasons,
    BodyContext(context): BodyContext,
) -> Result<Response, ApiError> {
    evaluation_stream(&state, credential, context, with_reasons)
}

/// `GET /ping/{env_id}`, `GET /mping`: `ping` events only.
pub async fn ping_stream<C: ClientCredential>(
    State(state): State<AppState>,
    credential: C,
) -> Result<Response, ApiError> {
    open_stream(
        &state,
        credential.into_authenticated(),
        PingFrames,
        C::unauthenticated,
    )
}

fn evaluation_stream<C: ClientCredential>(
    state: &AppState,
    credential: C,
    context: Context,
    with_reasons: bool,
) -> Result<Response, ApiError> {
    let authenticated = credential.into_authenticated();
    let renderer = ClientFrames::new(
        authenticated.environment_id.clone(),
        context,
        C::VISIBILITY,
        with_reasons,
    );
    open_stream(state, authenticated, renderer, C::unauthenticated)
}
