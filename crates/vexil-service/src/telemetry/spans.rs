//! The server spans every service opens alike: one per HTTP request (from
//! `metrics::track`) and one per gRPC call (`Server::builder().trace_fn(grpc_server_span)`),
//! each continuing the caller's trace from its `traceparent` header. Named and attributed
//! after OpenTelemetry's HTTP and RPC conventions; nothing is opened when the service does
//! not export traces.

use axum::http::{HeaderMap, Request, StatusCode};
use tracing::field::Empty;
use tracing::Span;

use super::propagation::set_parent_from_http;

/// The span of one HTTP request, named `<METHOD> <route pattern>`.
pub(crate) fn http_server_span(method: &str, route: &str, headers: &HeaderMap) -> Span {
    if !super::is_exporting() {
        return Span::none();
    }
    let span = tracing::info_span!(
        "http request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = Empty,
    );
    set_parent_from_http(&span, headers);
    span
}

/// Records the answer's status on an [`http_server_span`]; a 5xx marks the span failed.
pub(crate) fn record_http_status(span: &Span, status: StatusCode) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
}

/// The span of one gRPC call a server answers, named `<package.Service>/<Method>`: give it
/// to tonic with `Server::builder().trace_fn(vexil_service::telemetry::grpc_server_span)`.
///
/// Interceptors (`service_auth::ServiceAuth`) run inside this span, after it started, so
/// they cannot give it a parent: the remote parent is taken here, where tonic creates it.
pub fn grpc_server_span(request: &Request<()>) -> Span {
    if !super::is_exporting() {
        return Span::none();
    }
    let path = request.uri().path().trim_start_matches('/');
    let (service, method) = path.split_once('/').unwrap_or((path, ""));
    let span = tracing::info_span!(
        "grpc request",
        otel.name = %path,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    set_parent_from_http(&span, request.headers());
    span
}
