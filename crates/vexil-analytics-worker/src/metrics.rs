//! The worker's own Prometheus metrics, registered in the service registry
//! (`vexil_service::metrics`): events by outcome, batches by outcome, consumer lag.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use vexil_service::metrics::Metrics;

/// What happened to a record: `counted`, `duplicate` (a retried payload), `ignored` (a
/// kind without aggregates), `dead_lettered`, `skipped` (already committed).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    pub partition: i32,
}

#[derive(Clone)]
pub struct WorkerMetrics {
    pub registry: Metrics,
    events: Family<OutcomeLabels, Counter>,
    batches: Family<OutcomeLabels, Counter>,
    lag: Family<PartitionLabels, Gauge>,
}

impl WorkerMetrics {
    pub fn new() -> WorkerMetrics {
        let registry = Metrics::new("analytics-worker");
        let events = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "analytics_worker_events",
            "Records consumed, by outcome (counted, duplicate, ignored, dead_lettered, skipped)",
            events.clone(),
        );
        let batches = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "analytics_worker_batches",
            "Partition batches written to PostgreSQL, by outcome (committed, fenced, failed)",
            batches.clone(),
        );
        let lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "analytics_worker_consumer_lag_records",
            "Records behind the partition's high watermark, per assigned partition (from the queue subscription, after each batch and every kafka.statistics_interval while idle)",
            lag.clone(),
        );
        WorkerMetrics {
            registry,
            events,
            batches,
            lag,
        }
    }

    pub fn events(&self, outcome: &'static str, count: u64) {
        if count > 0 {
            self.events
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(count);
        }
    }

    pub fn batch(&self, outcome: &'static str) {
        self.batches.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Records behind in each partition held, from the subscription (`consumer/queue.rs`);
    /// partitions not listed (revoked from this replica) lose their gauge.
    pub fn set_lags(&self, lags: impl IntoIterator<Item = (i32, i64)>) {
        self.lag.clear();
        for (partition, lag) in lags {
            self.lag
                .get_or_create(&PartitionLabels { partition })
                .set(lag);
        }
    }
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics::new()
    }
}
