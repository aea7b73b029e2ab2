//! Opening an SSE response for any stream (`/all`, `/eval`, `/meval`, `/ping`): subscribe,
//! re-check the credential, and wrap the [`Connection`] in a response with the headers
//! every SDK expects (spec 5.3).

use std::convert::Infallible;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::error::ApiError;
use crate::fanout::{Handed, Handoff};
use crate::metrics::OpenStream;
use crate::state::AppState;
use crate::store::Authenticated;
use crate::streaming::{Connection, Opening, Renderer, ServerFrames};

/// Response header names the stream sets besides the standard ones.
pub const X_ACCEL_BUFFERING: &str = "x-accel-buffering";

/// A stream for `authenticated`'s environment whose frames `renderer` writes; `503` when
/// the environment is not loaded, `unauthenticated` when the credential stopped working
/// meanwhile.
pub fn open_stream<R: Renderer>(
    state: &AppState,
    authenticated: Authenticated,
    renderer: R,
    unauthenticated: fn() -> ApiError,
) -> Result<Response, ApiError> {
    let (connection, open) = prepare(state, authenticated, renderer, unauthenticated)?;
    Ok(event_stream_response(Body::from_stream(counted(
        connection, open,
    ))))
}

/// The `/all` stream: as [`open_stream`], and also handed over in a [`Handoff`] response
/// extension, so the connection writer can serve it on the fan-out path (`fanout/`).
/// Whoever takes it first serves it: the body yields nothing once it is taken.
pub fn open_server_stream(
    state: &AppState,
    authenticated: Authenticated,
) -> Result<Response, ApiError> {
    let (connection, open) = prepare(
        state,
        authenticated,
        ServerFrames,
        ApiError::unauthenticated,
    )?;
    let handoff = Handoff::new(Handed { connection, open });
    let taken_by_body = handoff.clone();
    let frames = futures_util::stream::once(async move { taken_by_body.take() })
        .filter_map(std::future::ready)
        .flat_map(|Handed { connection, open }| counted(connection, open));
    let mut response = event_stream_response(Body::from_stream(frames));
    response.extensions_mut().insert(handoff);
    Ok(response)
}

/// The stream's frames, keeping it in the open-streams gauge until they are dropped.
fn counted<R: Renderer>(
    connection: Connection<R>,
    open: OpenStream,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    connection.into_stream().map(move |frame| {
        let _counted_until_dropped = &open;
        frame
    })
}

/// Subscribes, re-checks the credential and counts the stream as open.
fn prepare<R: Renderer>(
    state: &AppState,
    authenticated: Authenticated,
    renderer: R,
    unauthenticated: fn() -> ApiError,
) -> Result<(Connection<R>, OpenStream), ApiError> {
    let (data, events) = state
        .store
        .subscribe(&authenticated.environment_id)
        .ok_or_else(ApiError::not_loaded)?;
    // Checked again after subscribing, so a revocation in between is not missed.
    let expires_at = state
        .store
        .recheck(&authenticated, SystemTime::now())
        .ok_or_else(unauthenticated)?;
    tracing::debug!(environment_id = %authenticated.environment_id, sequence = data.sequence(), "stream opened");
    let opening = Opening {
        store: state.store.clone(),
        authenticated,
        events,
        expires_at,
        heartbeat_interval: state.heartbeat_interval,
        shutdown: state.shutdown.clone(),
    };
    let open = state.metrics.stream_opened(opening.authenticated.kind);
    Ok((Connection::with_renderer(renderer, opening, &data), open))
}

/// `200` with `body` and the SSE headers: `text/event-stream`, no caching, no proxy
/// buffering.
pub fn event_stream_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    response
}
