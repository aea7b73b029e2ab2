//! Trace context round trips: what one service writes into HTTP headers, gRPC metadata or a
//! Kafka record header, the next continues, as the exported spans show.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tonic::service::Interceptor;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

use super::propagation::{inject_grpc, inject_http, set_parent_from_http};
use super::*;
use crate::service_auth::BearerToken;

/// Keeps every span it is given, in the order they ended.
#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collected {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// Runs `f` under a subscriber exporting to memory, then returns what it ended.
fn traced(f: impl FnOnce()) -> Vec<SpanData> {
    let collected = Collected::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(collected.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, f);
    let spans = collected.0.lock().unwrap().clone();
    spans
}

fn ids(span: &Span) -> (TraceId, SpanId) {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    (span_context.trace_id(), span_context.span_id())
}

#[track_caller]
fn exported<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:?}"))
}

#[test]
fn http_headers_carry_the_trace_to_the_server_span() {
    let mut client_ids = None;
    let spans = traced(|| {
        let client = tracing::info_span!("client");
        let _entered = client.enter();
        client_ids = Some(ids(&client));
        let mut headers = HeaderMap::new();
        inject_http(&mut headers);
        let traceparent = headers[TRACEPARENT].to_str().unwrap();
        let (trace_id, span_id) = client_ids.unwrap();
        assert_eq!(traceparent, format!("00-{trace_id}-{span_id}-01"));

        let server = tracing::info_span!(parent: None, "server");
        set_parent_from_http(&server, &headers);
        server.in_scope(|| {});
    });
    let (trace_id, span_id) = client_ids.unwrap();
    let server = exported(&spans, "server");
    assert_eq!(server.span_context.trace_id(), trace_id);
    assert_eq!(server.parent_span_id, span_id);
    assert!(server.parent_span_is_remote);
}

#[test]
fn the_bearer_token_interceptor_carries_the_trace_in_grpc_metadata() {
    let mut client_ids = None;
    let spans = traced(|| {
        let client = tracing::info_span!("client");
        let _entered = client.enter();
        client_ids = Some(ids(&client));
        let request = BearerToken::new(Some("s3cret"))
            .unwrap()
            .call(tonic::Request::new(()))
            .unwrap();
        // On the wire the metadata is the HTTP/2 request's headers, which the server's
        // `trace_fn` reads.
        let headers = request.into_parts().0.into_headers();
        assert!(headers.contains_key(TRACEPARENT));

        let server = tracing::info_span!(parent: None, "server");
        set_parent_from_http(&server, &headers);
        server.in_scope(|| {});
    });
    let (trace_id, span_id) = client_ids.unwrap();
    let server = exported(&spans, "server");
    assert_eq!(server.span_context.trace_id(), trace_id);
    assert_eq!(server.parent_span_id, span_id);
}

#[test]
fn grpc_metadata_gets_the_trace_only_inside_a_span() {
    traced(|| {
        let mut metadata = tonic::metadata::MetadataMap::new();
        inject_grpc(&mut metadata);
        assert!(metadata.get(TRACEPARENT).is_none());
        tracing::info_span!("client").in_scope(|| inject_grpc(&mut metadata));
        assert!(metadata.get(TRACEPARENT).is_some());
    });
}

#[test]
fn a_kafka_header_carries_the_trace_to_the_consumer_span() {
    let mut producer_ids = None;
    let spans = traced(|| {
        assert_eq!(current_traceparent(), None, "no span, no trace context");
        let traceparent = tracing::info_span!("produce").in_scope(|| {
            producer_ids = Some(ids(&Span::current()));
            current_traceparent().unwrap()
        });
        let consumer = tracing::info_span!("consume record");
        set_remote_parent(&consumer, Some(&traceparent));
        consumer.in_scope(|| {});
        let batch = tracing::info_span!("write batch");
        add_remote_link(&batch, &traceparent);
        add_remote_link(&batch, "not a traceparent");
        batch.in_scope(|| {});
    });
    let (trace_id, span_id) = producer_ids.unwrap();
    let consumer = exported(&spans, "consume record");
    assert_eq!(consumer.span_context.trace_id(), trace_id);
    assert_eq!(consumer.parent_span_id, span_id);
    let batch = exported(&spans, "write batch");
    assert_ne!(batch.span_context.trace_id(), trace_id);
    let links: Vec<_> = batch
        .links
        .links
        .iter()
        .map(|link| (link.span_context.trace_id(), link.span_context.span_id()))
        .collect();
    assert_eq!(links, [(trace_id, span_id)]);
}

#[test]
fn a_missing_or_malformed_traceparent_leaves_the_span_its_own_trace() {
    let spans = traced(|| {
        for (name, traceparent) in [
            ("missing", None),
            ("malformed", Some("00-zz-1-01")),
            (
                "all zero",
                Some("00-00000000000000000000000000000000-0000000000000000-01"),
            ),
        ] {
            let span = tracing::info_span!("consume record", case = name);
            set_remote_parent(&span, traceparent);
            span.in_scope(|| {});
        }
    });
    assert_eq!(spans.len(), 3);
    for span in spans {
        assert_eq!(span.parent_span_id, SpanId::INVALID, "{span:?}");
        assert!(span.span_context.is_valid());
    }
}

#[test]
fn without_an_exporter_nothing_is_propagated() {
    let subscriber = tracing_subscriber::registry();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("client").in_scope(|| {
            assert_eq!(current_traceparent(), None);
            let mut headers = HeaderMap::new();
            inject_http(&mut headers);
            assert!(headers.is_empty());
        });
    });
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error
fn telemetry_settings_load_from_the_environment_and_otel_variables_stand_in() {
    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Service {
        telemetry: TelemetryConfig,
    }
    figment::Jail::expect_with(|jail| {
        let loaded: Service = crate::config::load().map_err(|error| error.to_string())?;
        assert_eq!(loaded.telemetry.otlp_endpoint, None);
        assert_eq!(loaded.telemetry.sample_ratio, SampleRatio::default());

        jail.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        jail.set_env("OTEL_SERVICE_NAME", "flags");
        let loaded: Service = crate::config::load().map_err(|error| error.to_string())?;
        assert_eq!(
            loaded.telemetry.otlp_endpoint.unwrap().traces_url(),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(loaded.telemetry.service_name.as_deref(), Some("flags"));

        jail.set_env("VEXIL_TELEMETRY__OTLP_ENDPOINT", "http://127.0.0.1:4318");
        jail.set_env("VEXIL_TELEMETRY__SAMPLE_RATIO", "0.25");
        let loaded: Service = crate::config::load().map_err(|error| error.to_string())?;
        assert_eq!(
            loaded.telemetry.otlp_endpoint.unwrap().as_str(),
            "http://127.0.0.1:4318"
        );
        assert_eq!(loaded.telemetry.sample_ratio.get(), 0.25);
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error
fn a_bad_endpoint_stops_loading_naming_the_key() {
    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Service {
        telemetry: TelemetryConfig,
    }
    figment::Jail::expect_with(|jail| {
        jail.set_env("VEXIL_TELEMETRY__OTLP_ENDPOINT", "collector:4318");
        let error = crate::config::load::<Service>().unwrap_err().to_string();
        assert!(error.contains("telemetry.otlp_endpoint must be"), "{error}");
        jail.set_env("VEXIL_TELEMETRY__OTLP_ENDPOINT", "http://collector:4318");
        jail.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318");
        crate::config::load::<Service>().map_err(|error| error.to_string())?;
        jail.set_env("VEXIL_TELEMETRY__SAMPLE_RATIO", "2");
        let error = crate::config::load::<Service>().unwrap_err().to_string();
        assert!(error.contains("telemetry.sample_ratio"), "{error}");
        Ok(())
    });
}

#[test]
fn init_twice_keeps_the_first_installation() {
    let first = init("first", &TelemetryConfig::default());
    assert!(!is_exporting());
    let config = TelemetryConfig {
        otlp_endpoint: Some(OtlpEndpoint::parse("http://127.0.0.1:9").unwrap()),
        ..TelemetryConfig::default()
    };
    let second = init("second", &config);
    assert!(!is_exporting(), "the second call changes nothing");
    second.flush();
    drop(second);
    drop(first);
}
