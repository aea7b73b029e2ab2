//! The OTLP trace pipeline: a tracer provider whose batch processor posts spans as
//! OTLP/HTTP protobuf to the configured collector, sampling new traces by ratio and
//! following the caller's decision for continued ones.

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use super::{OtlpEndpoint, TelemetryConfig};

/// Builds the provider; its batch processor starts a thread that exports every few seconds
/// and when flushed. `service` names the resource unless `telemetry.service_name` does.
pub(super) fn tracer_provider(
    service: &str,
    config: &TelemetryConfig,
    endpoint: &OtlpEndpoint,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint.traces_url())
        .build()?;
    let service_name = config
        .service_name
        .clone()
        .unwrap_or_else(|| format!("vexil-{service}"));
    // `Resource::builder` also reads `OTEL_RESOURCE_ATTRIBUTES` (pod, node, region…).
    let resource = Resource::builder()
        .with_service_name(service_name)
        .with_attributes([
            KeyValue::new("service.namespace", "vexil"),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        ])
        .build();
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
        config.sample_ratio.get(),
    )));
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(resource)
        .build())
}
