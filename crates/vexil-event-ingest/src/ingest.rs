//! One request, from credential and body to 202: authenticate, read (and gunzip) the
//! body, split it into events, validate each (dropping and counting malformed ones),
//! produce the rest, and answer only once Kafka (or the embedded queue) has acknowledged
//! all of them.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::{authenticate, Presented};
use crate::body;
use crate::envelope::Batch;
use crate::error::{error_chain, ApiError};
use crate::events::{
    parse_diagnostic, read_analytics, validate_diagnostic, validate_event, DropReason, EventKind,
    Invalid, PayloadError, Valid,
};
use crate::records::Records;
use crate::sdk_request::{SdkRequest, Source};
use crate::state::AppState;

/// Analytics (a JSON array of events) or diagnostics (one JSON object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    Analytics,
    Diagnostic,
}

/// Handles one event post; the response is 202 with an empty body, or the error.
pub async fn ingest(
    state: &AppState,
    source: Source,
    payload_kind: PayloadKind,
    presented: Presented<'_>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    match accept(state, source, payload_kind, presented, headers, body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(error) => {
            state.metrics.payload_rejected(source, error.reason);
            tracing::debug!(
                source = source.as_str(),
                reason = error.reason,
                message = %error.message,
                "event payload refused"
            );
            error.into_response()
        }
    }
}

async fn accept(
    state: &AppState,
    source: Source,
    payload_kind: PayloadKind,
    presented: Presented<'_>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ApiError> {
    let credential = authenticate(&state.resolver, source, presented).await?;
    let body = body::read(headers, body, state.body_limit_bytes).await?;
    let mut request = SdkRequest::from_headers(headers);
    // While traces are exported, the records continue this request's span (a child of the
    // SDK's traceparent, if it sent one); otherwise the SDK's own header is passed on, so a
    // trace still reaches the worker through an ingest that does not export (and the
    // current span, which then has no trace context, is not looked up at all).
    if vexil_service::telemetry::is_exporting() {
        if let Some(traceparent) = vexil_service::telemetry::current_traceparent() {
            request.traceparent = Some(traceparent);
        }
    }
    let batch = Batch::new(&credential, &request, source, now_unix_ms());
    let sorted = match payload_kind {
        PayloadKind::Analytics => sort_analytics(&batch, &body)?,
        PayloadKind::Diagnostic => sort_diagnostic(&batch, &body)?,
    };
    for &(reason, count) in &sorted.dropped {
        state.metrics.rejected(source, reason, count);
    }
    if sorted.records.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let record_count = sorted.records.len();
    let produced = state.events.send(sorted.records, &batch).await;
    let outcome = if produced.is_ok() {
        "acknowledged"
    } else {
        "failed"
    };
    state
        .metrics
        .produce_duration(outcome, started.elapsed().as_secs_f64());
    if let Err(error) = produced {
        tracing::warn!(
            error = %error_chain(&error),
            environment_id = %credential.environment_id,
            records = record_count,
            "events not acknowledged by the queue"
        );
        // The reason keeps its name on the embedded queue: it is a stable metric label.
        return Err(ApiError::unavailable(
            "kafka_unavailable",
            "events could not be queued, retry later",
        ));
    }
    for &(kind, count) in &sorted.accepted {
        state.metrics.accepted(source, kind, count);
    }
    Ok(())
}

/// A payload's events split into records to produce and counts of what was dropped.
struct Sorted {
    records: Records,
    accepted: Counts<EventKind>,
    dropped: Counts<DropReason>,
    /// The dropped events, logged once the whole body is known to be accepted (it is read
    /// and sorted in one pass, and can still be refused after some events were sorted).
    drops: Vec<(usize, Invalid)>,
}

/// Counts per label, for the few labels a request has (a linear search beats hashing).
type Counts<T> = Vec<(T, u64)>;

/// About how many bytes of body an event takes, to size the records' buffers before the
/// events are counted: the bench's events take about 190, SDKs' 150-300. Fewer bytes per
/// event would only make the buffers grow once.
const BODY_BYTES_PER_EVENT: usize = 160;

fn sort_analytics(batch: &Batch<'_>, body: &[u8]) -> Result<Sorted, ApiError> {
    let events = body.len() / BODY_BYTES_PER_EVENT + 1;
    let mut sorted = Sorted::with_capacity(events, body.len() + events * batch.record_len(""));
    read_analytics(body, |index, event| {
        sorted.add(batch, index, event.json, validate_event(event));
    })
    .map_err(payload_error)?;
    sorted.log_drops();
    Ok(sorted)
}

fn sort_diagnostic(batch: &Batch<'_>, body: &[u8]) -> Result<Sorted, ApiError> {
    let event = parse_diagnostic(body).map_err(payload_error)?;
    let mut sorted = Sorted::with_capacity(1, batch.record_len(event.json));
    sorted.add(batch, 0, event.json, validate_diagnostic(&event));
    sorted.log_drops();
    Ok(sorted)
}

impl Sorted {
    fn with_capacity(records: usize, bytes: usize) -> Sorted {
        Sorted {
            records: Records::with_capacity(records, bytes),
            accepted: Vec::new(),
            dropped: Vec::new(),
            drops: Vec::new(),
        }
    }

    fn add(
        &mut self,
        batch: &Batch<'_>,
        index: usize,
        json: &str,
        validated: Result<Valid<'_>, Invalid>,
    ) {
        match validated {
            Ok(valid) => {
                batch.push_record(&mut self.records, index, json, &valid);
                count(&mut self.accepted, valid.kind);
            }
            Err(invalid) => {
                count(&mut self.dropped, invalid.reason);
                self.drops.push((index, invalid));
            }
        }
    }

    fn log_drops(&self) {
        for (index, invalid) in &self.drops {
            tracing::debug!(
                index,
                reason = invalid.reason.as_str(),
                detail = %invalid.detail,
                "event dropped"
            );
        }
    }
}

fn count<T: PartialEq>(counts: &mut Counts<T>, label: T) {
    match counts.iter_mut().find(|(seen, _)| *seen == label) {
        Some((_, count)) => *count += 1,
        None => counts.push((label, 1)),
    }
}

fn payload_error(error: PayloadError) -> ApiError {
    ApiError::bad_request(error.reason(), error.to_string())
}

fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
