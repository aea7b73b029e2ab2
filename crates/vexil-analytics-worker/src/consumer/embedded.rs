//! The `vexil_queue` source of the consumer loop (`vexil up`'s embedded queue): one
//! subscription to every partition of the topic from the store's offsets, dead letters
//! appended to the dead-letter topic of the same queue, committed offsets released so the
//! log may delete what is behind them, and the consumer-lag gauge set from the subscription
//! (Kafka's comes from librdkafka's statistics instead).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vexil_queue::{Consumer, Position, Producer, StoredRecord, Subscription};

use super::batch::{consume_with, Batcher, Incoming, RecordSource, Written};
use super::dead_letter::QueueDeadLetters;
use crate::config::KafkaConfig;
use crate::metrics::WorkerMetrics;
use crate::store::AnalyticsStore;

/// How long to wait before reading again after the queue failed a read.
const READ_RETRY_BACKOFF: Duration = Duration::from_secs(1);

/// Consumes `kafka.topic` of `consumer` until `shutdown` fires, then writes what it has
/// read and returns. Dead letters go to `kafka.dead_letter_topic` through `dead_letters`;
/// the batch keys (`kafka.batch_max_records`, `kafka.batch_linger`) apply as on Kafka, the
/// broker and group keys are not read.
pub async fn consume_queue(
    kafka: &KafkaConfig,
    store: Arc<dyn AnalyticsStore>,
    consumer: Arc<dyn Consumer>,
    dead_letters: Arc<dyn Producer>,
    metrics: WorkerMetrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut batcher = Batcher::load(kafka, store, metrics.clone()).await?;
    let start: Vec<Position> = batcher
        .positions()
        .lock()
        .expect("positions lock is never poisoned")
        .iter()
        .filter_map(|(&partition, &offset)| queue_position(partition, offset))
        .collect();
    let subscription = consumer
        .subscribe(&kafka.topic, &start)
        .await
        .with_context(|| format!("subscribing to topic {} of the embedded queue", kafka.topic))?;
    let mut source = QueueSource {
        subscription,
        max_records: kafka.batch_max_records,
        dead_letters: QueueDeadLetters {
            producer: dead_letters,
            topic: kafka.dead_letter_topic.clone(),
        },
        metrics,
    };
    // Before the first batch, so records queued while the worker was down show at once.
    source.report_lag();
    tracing::info!(topic = %kafka.topic, "consuming from the embedded queue");
    consume_with(&mut source, &mut batcher, &shutdown).await
}

struct QueueSource {
    subscription: Box<dyn Subscription>,
    max_records: usize,
    dead_letters: QueueDeadLetters,
    metrics: WorkerMetrics,
}

impl QueueSource {
    /// Sets `analytics_worker_consumer_lag_records` of every partition from the
    /// subscription. After a flush every record read is written (committed, or sought back
    /// to the stored offset when fenced), so the subscription's position is the store's
    /// and the gauge counts the records not yet committed, as librdkafka's does on Kafka.
    fn report_lag(&self) {
        for partition in self.subscription.lag() {
            // No real log has partitions beyond the store's `i32`.
            let Ok(number) = i32::try_from(partition.partition) else {
                continue;
            };
            let records = i64::try_from(partition.records()).unwrap_or(i64::MAX);
            self.metrics.set_lag(number, records);
        }
    }
}

#[async_trait::async_trait]
impl RecordSource for QueueSource {
    async fn receive(&mut self, batcher: &mut Batcher) {
        match self.subscription.next_batch(self.max_records.max(1)).await {
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
                    "reading the embedded queue failed; retrying"
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
                    // Only lets the log delete segments; a failure costs disk, not data.
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
                    // No stored offset: from the earliest retained record.
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
