//! The source of the consumer loop, on Kafka and on `vexil up`'s embedded queue alike: a
//! `vexil_queue` subscription joined to the group `kafka.group_id`, whose partitions start
//! at the store's offsets (`StoredStarts`), dead letters appended to the dead-letter topic
//! (of Kafka, or of the same embedded queue), committed offsets released (the embedded log
//! may delete what is behind them; Kafka shows them in the group's committed offsets, for
//! tooling only), and the consumer-lag gauge set from the subscription.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vexil_queue::kafka::{KafkaConsumer, KafkaProducer};
use vexil_queue::{Assignments, Consumer, Position, Producer, StoredRecord, Subscription};

use super::batch::{consume_with, Batcher, Incoming, Positions, RecordSource, Written};
use super::dead_letter::QueueDeadLetters;
use crate::config::KafkaConfig;
use crate::metrics::WorkerMetrics;
use crate::store::AnalyticsStore;

/// How long to wait before reading again after the queue failed a read.
const READ_RETRY_BACKOFF: Duration = Duration::from_secs(1);

/// Consumes `kafka.topic` from the brokers `kafka.*` names (`KafkaConfig::consumer_options`),
/// dead letters going to `kafka.dead_letter_topic` there, until `shutdown` fires; then
/// writes what it has read and returns.
pub async fn consume(
    kafka: &KafkaConfig,
    store: Arc<dyn AnalyticsStore>,
    metrics: WorkerMetrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let consumer = Arc::new(KafkaConsumer::new(kafka.consumer_options()));
    let dead_letters = Arc::new(
        KafkaProducer::new(&kafka.dead_letter_options())
            .context("creating the dead-letter producer")?,
    );
    consume_queue(kafka, store, consumer, dead_letters, metrics, shutdown).await
}

/// Consumes `kafka.topic` of `consumer` in the group `kafka.group_id` until `shutdown`
/// fires, then writes what it has read and returns. Dead letters go to
/// `kafka.dead_letter_topic` through `dead_letters`.
pub async fn consume_queue(
    kafka: &KafkaConfig,
    store: Arc<dyn AnalyticsStore>,
    consumer: Arc<dyn Consumer>,
    dead_letters: Arc<dyn Producer>,
    metrics: WorkerMetrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut batcher = Batcher::load(kafka, store, metrics.clone()).await?;
    let starts = Arc::new(StoredStarts {
        positions: batcher.positions(),
    });
    let subscription = consumer
        .join(&kafka.topic, &kafka.group_id, starts)
        .await
        .with_context(|| {
            format!(
                "joining consumer group {} of topic {}",
                kafka.group_id, kafka.topic
            )
        })?;
    let mut source = QueueSource {
        subscription,
        max_records: kafka.batch_max_records,
        lag_refresh: tokio::time::interval(kafka.statistics_interval),
        dead_letters: QueueDeadLetters {
            producer: dead_letters,
            topic: kafka.dead_letter_topic.clone(),
        },
        metrics,
    };
    // Before the first batch, so records queued while the worker was down show at once
    // (where partitions are assigned on joining, as on the embedded queue).
    source.report_lag();
    tracing::info!(topic = %kafka.topic, group_id = %kafka.group_id, "consuming");
    consume_with(&mut source, &mut batcher, &shutdown).await
}

/// Where the group's partitions start: the offsets this process committed to the store
/// (loaded at startup, updated after each commit). A partition another replica advanced
/// meanwhile is fenced by the store's offset guard on its first commit, and the source
/// then seeks to the stored offset.
struct StoredStarts {
    positions: Positions,
}

impl Assignments for StoredStarts {
    /// The queue logs the assignment (topic, group, partitions); nothing to add here.
    fn assigned(&self, _topic: &str, partitions: &[u32]) -> Vec<Position> {
        let positions = self
            .positions
            .lock()
            .expect("positions lock is never poisoned");
        partitions
            .iter()
            .filter_map(|&partition| {
                let offset = *positions.get(&i32::try_from(partition).ok()?)?;
                Some(Position {
                    partition,
                    offset: u64::try_from(offset).ok()?,
                })
            })
            .collect()
    }

    /// Records of these partitions already read are still written: the store fences them
    /// if the new holder committed first. The queue logs the revocation.
    fn revoked(&self, _topic: &str, _partitions: &[u32]) {}
}

struct QueueSource {
    subscription: Box<dyn Subscription>,
    max_records: usize,
    /// How often the lag gauge is renewed while every record read is written.
    lag_refresh: tokio::time::Interval,
    dead_letters: QueueDeadLetters,
    metrics: WorkerMetrics,
}

impl QueueSource {
    /// Sets `analytics_worker_consumer_lag_records` of every partition held from the
    /// subscription (dropping those of partitions no longer held). Called only when every
    /// record read is written (committed, or sought back to the stored offset when
    /// fenced), so the subscription's position is the store's and the gauge counts the
    /// records not yet committed.
    fn report_lag(&self) {
        let lags = self.subscription.lag().into_iter().filter_map(|partition| {
            // No real log has partitions beyond the store's `i32`.
            let number = i32::try_from(partition.partition).ok()?;
            Some((
                number,
                i64::try_from(partition.records()).unwrap_or(i64::MAX),
            ))
        });
        self.metrics.set_lags(lags);
    }
}

#[async_trait::async_trait]
impl RecordSource for QueueSource {
    async fn receive(&mut self, batcher: &mut Batcher) {
        let idle = batcher.is_idle();
        let received = tokio::select! {
            received = self.subscription.next_batch(self.max_records.max(1)) => received,
            _ = self.lag_refresh.tick(), if idle => {
                self.report_lag();
                return;
            }
        };
        match received {
            Ok(records) => {
                for stored in &records {
                    match incoming(stored) {
                        Some(record) => batcher.take(record),
                        None => tracing::error!(
                            topic = batcher.topic(),
                            partition = stored.position.partition,
                            offset = stored.position.offset,
                            "record position out of the store's range; skipped"
                        ),
                    }
                }
            }
            Err(error) => {
                tracing::warn!(
                    error = format!("{:#}", anyhow::Error::new(error)),
                    topic = batcher.topic(),
                    "reading the queue failed; retrying"
                );
                tokio::time::sleep(READ_RETRY_BACKOFF).await;
            }
        }
    }

    fn dead_letters(&self) -> &QueueDeadLetters {
        &self.dead_letters
    }

    async fn written(&mut self, written: &[Written]) {
        for outcome in written {
            match *outcome {
                Written::Committed {
                    partition,
                    next_offset,
                } => {
                    let Some(position) = queue_position(partition, next_offset) else {
                        continue;
                    };
                    // Lets the log delete segments, or shows progress to Kafka's tooling;
                    // a failure costs disk or a stale display, not data.
                    if let Err(error) = self.subscription.release(position).await {
                        tracing::warn!(error = %error, partition, "releasing committed records failed");
                    }
                }
                Written::Fenced {
                    partition,
                    first_offset,
                    stored_next_offset,
                } => {
                    tracing::warn!(
                        partition,
                        first_offset,
                        stored_next_offset,
                        "batch already committed elsewhere; resuming at the stored offset"
                    );
                    // No stored offset: from the earliest retained record. A partition
                    // revoked meanwhile is its new holder's to read.
                    let Some(position) = queue_position(partition, stored_next_offset.unwrap_or(0))
                    else {
                        continue;
                    };
                    if let Err(error) = self.subscription.seek(position) {
                        tracing::warn!(error = %error, partition, "seeking to the stored offset failed");
                    }
                }
            }
        }
        self.report_lag();
    }
}

/// The record as the batcher reads it; `None` for a position the store's `i32`
/// partitions and `i64` offsets cannot hold (no real log reaches them).
fn incoming(stored: &StoredRecord) -> Option<Incoming<'_>> {
    let record = &stored.record;
    Some(Incoming {
        partition: i32::try_from(stored.position.partition).ok()?,
        offset: i64::try_from(stored.position.offset).ok()?,
        key: Some(&record.key),
        value: Some(&record.value),
        traceparent: record
            .headers
            .iter()
            .find(|header| header.name == vexil_service::telemetry::TRACEPARENT)
            .and_then(|header| std::str::from_utf8(&header.value).ok()),
    })
}

fn queue_position(partition: i32, offset: i64) -> Option<Position> {
    Some(Position {
        partition: u32::try_from(partition).ok()?,
        offset: u64::try_from(offset).ok()?,
    })
}
