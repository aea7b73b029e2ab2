//! W3C trace context (`traceparent`, `tracestate`) into and out of HTTP headers, gRPC
//! metadata and Kafka record headers, so one trace follows an SDK request from service to
//! service. Nothing is written or continued when the service does not export traces: a span
//! without an OpenTelemetry context has nothing to propagate.
//!
//! On a Kafka producer, put [`current_traceparent`] in a record header named
//! [`TRACEPARENT`]; on a consumer, give the span that processes the record its parent with
//! [`set_remote_parent`], or, for a span covering many records, a link to each with
//! [`add_remote_link`].

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header (HTTP, gRPC metadata, Kafka record header) carrying the trace and parent span.
pub const TRACEPARENT: &str = "traceparent";
/// The header carrying vendor-specific trace state, passed along with `traceparent`.
pub const TRACESTATE: &str = "tracestate";

/// The current span's trace context as a `traceparent` value
/// (`00-<trace id>-<span id>-<flags>`), for a Kafka record header named [`TRACEPARENT`];
/// `None` when the service does not export traces or no span is current.
pub fn current_traceparent() -> Option<String> {
    let mut carrier = TraceparentOut(None);
    propagator().inject_context(&Span::current().context(), &mut carrier);
    carrier.0
}

/// Makes `span` continue the trace of `traceparent` (the value of a [`TRACEPARENT`] header),
/// as a child of the remote span it names. Call it before the span is first entered; a
/// missing or malformed value leaves the span where it was.
pub fn set_remote_parent(span: &Span, traceparent: Option<&str>) {
    if let Some(traceparent) = traceparent {
        set_parent_if_valid(span, propagator().extract(&TraceparentIn(traceparent)));
    }
}

/// Links `span` to the remote span named by `traceparent`, for a span that works on many
/// records at once (a batch) and so cannot be the child of each. A malformed value is
/// ignored.
pub fn add_remote_link(span: &Span, traceparent: &str) {
    let remote = propagator().extract(&TraceparentIn(traceparent));
    let span_context = remote.span().span_context().clone();
    if span_context.is_valid() {
        span.add_link(span_context);
    }
}

/// Writes the current span's context into HTTP headers.
pub fn inject_http(headers: &mut HeaderMap) {
    propagator().inject_context(&Span::current().context(), &mut HttpHeaders(headers));
}

/// Makes `span` a child of the remote span named in HTTP (or gRPC, which is HTTP/2)
/// request headers, when they carry a valid `traceparent`.
pub fn set_parent_from_http(span: &Span, headers: &HeaderMap) {
    set_parent_if_valid(span, propagator().extract(&HttpHeadersRef(headers)));
}

/// Writes the current span's context into the metadata of an outgoing gRPC call.
pub fn inject_grpc(metadata: &mut MetadataMap) {
    propagator().inject_context(&Span::current().context(), &mut GrpcMetadata(metadata));
}

fn propagator() -> TraceContextPropagator {
    TraceContextPropagator::new()
}

fn set_parent_if_valid(span: &Span, remote: Context) {
    if remote.span().span_context().is_valid() {
        // Fails only when the span is disabled or already entered: then it keeps its parent.
        let _ = span.set_parent(remote);
    }
}

/// A lone `traceparent` value read from a Kafka record header.
struct TraceparentIn<'a>(&'a str);

impl Extractor for TraceparentIn<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT).then_some(self.0)
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

/// Keeps only the `traceparent` value of what the propagator writes.
struct TraceparentOut(Option<String>);

impl Injector for TraceparentOut {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.0 = Some(value);
        }
    }
}

struct HttpHeaders<'a>(&'a mut HeaderMap);

impl Injector for HttpHeaders<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HttpHeadersRef<'a>(&'a HeaderMap);

impl Extractor for HttpHeadersRef<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct GrpcMetadata<'a>(&'a mut MetadataMap);

impl Injector for GrpcMetadata<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}
