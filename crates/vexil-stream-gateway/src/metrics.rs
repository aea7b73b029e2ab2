//! The gateway's Prometheus series besides the per-route request metrics of
//! `vexil_service::metrics`: open SSE streams by credential kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use vexil_service::metrics::Metrics;

use crate::store::CredentialKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    credential: &'static str,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct GatewayMetrics {
    pub registry: Metrics,
    open_streams: Family<StreamLabels, Gauge>,
}

impl GatewayMetrics {
    pub fn new() -> GatewayMetrics {
        let registry = Metrics::new("stream-gateway");
        let open_streams = Family::<StreamLabels, Gauge>::default();
        registry.register(
            "sse_streams_open",
            "SSE streams open now (/all, /eval, /meval, /ping), by credential kind",
            open_streams.clone(),
        );
        GatewayMetrics {
            registry,
            open_streams,
        }
    }

    /// Counts a stream as open until the returned guard is dropped.
    pub fn stream_opened(&self, kind: CredentialKind) -> OpenStream {
        let gauge = self
            .open_streams
            .get_or_create(&StreamLabels {
                credential: credential_label(kind),
            })
            .clone();
        gauge.inc();
        OpenStream(gauge)
    }
}

impl Default for GatewayMetrics {
    fn default() -> GatewayMetrics {
        GatewayMetrics::new()
    }
}

fn credential_label(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::ServerSdkKey => "server_sdk_key",
        CredentialKind::MobileKey => "mobile_key",
        CredentialKind::ClientSideId => "client_side_id",
    }
}

/// One open stream in the gauge; dropping it closes it there.
pub struct OpenStream(Gauge);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.dec();
    }
}
