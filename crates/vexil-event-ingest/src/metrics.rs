//! Event ingest's own metrics, registered in the service's `vexil_service::metrics`
//! registry: events accepted and dropped, payloads refused, Kafka produce latency.
//! Every label comes from a small fixed set; counters move once per request, not per event.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use vexil_service::metrics::Metrics;

use crate::events::{DropReason, EventKind};
use crate::sdk_request::Source;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    source: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    source: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type DurationFamily = Family<OutcomeLabels, Histogram, fn() -> Histogram>;

/// Cheap to clone; every clone counts into the same registry.
#[derive(Clone)]
pub struct IngestMetrics {
    pub registry: Metrics,
    accepted: Family<KindLabels, Counter>,
    rejected: Family<ReasonLabels, Counter>,
    payloads_rejected: Family<ReasonLabels, Counter>,
    produce_duration: DurationFamily,
}

impl IngestMetrics {
    pub fn new() -> IngestMetrics {
        let registry = Metrics::new("event-ingest");
        let accepted = Family::<KindLabels, Counter>::default();
        registry.register(
            "event_ingest_events_accepted",
            "Events acknowledged by Kafka and answered with 202, by source and kind",
            accepted.clone(),
        );
        let rejected = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "event_ingest_events_rejected",
            "Events dropped from an accepted payload because they were malformed, by source and reason",
            rejected.clone(),
        );
        let payloads_rejected = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "event_ingest_payloads_rejected",
            "Requests refused as a whole (4xx or 503), by source and reason",
            payloads_rejected.clone(),
        );
        // 1 ms to about 32 s: a healthy broker acknowledges within linger + a round trip.
        let produce_duration: DurationFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 16)));
        registry.register(
            "event_ingest_kafka_produce_duration_seconds",
            "Time from a request's first record enqueued to its last acknowledged, by outcome",
            produce_duration.clone(),
        );
        IngestMetrics {
            registry,
            accepted,
            rejected,
            payloads_rejected,
            produce_duration,
        }
    }

    pub fn accepted(&self, source: Source, kind: EventKind, count: u64) {
        self.accepted
            .get_or_create(&KindLabels {
                source: source.as_str(),
                kind: kind.as_str(),
            })
            .inc_by(count);
    }

    pub fn rejected(&self, source: Source, reason: DropReason, count: u64) {
        self.rejected
            .get_or_create(&ReasonLabels {
                source: source.as_str(),
                reason: reason.as_str(),
            })
            .inc_by(count);
    }

    pub fn payload_rejected(&self, source: Source, reason: &'static str) {
        self.payloads_rejected
            .get_or_create(&ReasonLabels {
                source: source.as_str(),
                reason,
            })
            .inc();
    }

    /// `outcome` is `acknowledged` or `failed`.
    pub fn produce_duration(&self, outcome: &'static str, seconds: f64) {
        self.produce_duration
            .get_or_create(&OutcomeLabels { outcome })
            .observe(seconds);
    }
}

impl Default for IngestMetrics {
    fn default() -> Self {
        IngestMetrics::new()
    }
}
