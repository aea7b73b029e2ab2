//! The Kafka source of the consumer loop: a consumer group (auto-commit off) whose
//! assigned partitions start at the store's offsets (`context.rs`), dead letters produced
//! to `kafka.dead_letter_topic`, and the group's Kafka offsets committed after the store's
//! for lag tooling only.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;
use vexil_queue::kafka::KafkaProducer;

use super::batch::{consume_with, Batcher, Incoming, RecordSource, Written};
use super::context::WorkerContext;
use super::dead_letter::QueueDeadLetters;
use crate::config::KafkaConfig;
use crate::metrics::WorkerMetrics;
use crate::store::AnalyticsStore;

/// Consumes until `shutdown` fires, then writes what it has read and returns.
pub async fn consume(
    kafka: &KafkaConfig,
    store: Arc<dyn AnalyticsStore>,
    metrics: WorkerMetrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut batcher = Batcher::load(kafka, store, metrics.clone()).await?;
    let context = WorkerContext::new(kafka.topic.clone(), batcher.positions(), metrics);
    let consumer: StreamConsumer<WorkerContext> = client_config(kafka)
        .set("group.id", &kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set(
            "statistics.interval.ms",
            kafka.statistics_interval.as_millis().to_string(),
        )
        .create_with_context(context)
        .context("creating the Kafka consumer")?;
    consumer
        .subscribe(&[&kafka.topic])
        .with_context(|| format!("subscribing to topic {}", kafka.topic))?;
    let mut source = KafkaSource {
        topic: kafka.topic.clone(),
        consumer,
        dead_letters: QueueDeadLetters {
            producer: Arc::new(
                KafkaProducer::new(&kafka.dead_letter_options())
                    .context("creating the dead-letter producer")?,
            ),
            topic: kafka.dead_letter_topic.clone(),
        },
    };
    tracing::info!(topic = %kafka.topic, group_id = %kafka.group_id, "consuming");
    consume_with(&mut source, &mut batcher, &shutdown).await
}

/// The consumer's base settings: the brokers, the client id and the operator's extra
/// properties (`KafkaConfig::dead_letter_options` gives the dead-letter producer the same).
pub(super) fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("client.id", crate::config::CLIENT_ID);
    for (name, value) in &kafka.properties {
        config.set(name, value);
    }
    config
}

struct KafkaSource {
    topic: String,
    consumer: StreamConsumer<WorkerContext>,
    dead_letters: QueueDeadLetters,
}

#[async_trait::async_trait]
impl RecordSource for KafkaSource {
    async fn receive(&mut self, batcher: &mut Batcher) {
        match self.consumer.recv().await {
            Ok(message) => batcher.take(incoming(&message)),
            Err(error) => tracing::warn!(error = %error, "consuming failed; retrying"),
        }
    }

    fn dead_letters(&self) -> &QueueDeadLetters {
        &self.dead_letters
    }

    async fn written(&mut self, written: &[Written]) {
        let mut committed = TopicPartitionList::new();
        for outcome in written {
            match *outcome {
                Written::Committed {
                    partition,
                    next_offset,
                } => {
                    if let Err(error) = committed.add_partition_offset(
                        &self.topic,
                        partition,
                        Offset::Offset(next_offset),
                    ) {
                        tracing::debug!(error = %error, partition, "listing a Kafka offset to commit failed");
                    }
                }
                Written::Fenced {
                    partition,
                    first_offset,
                    stored_next_offset,
                } => self.seek_fenced(partition, first_offset, stored_next_offset),
            }
        }
        if committed.count() > 0 {
            // Informational only (lag tooling); the store holds the offsets that count.
            if let Err(error) = self.consumer.commit(&committed, CommitMode::Async) {
                tracing::debug!(error = %error, "committing offsets to Kafka failed");
            }
        }
    }
}

impl KafkaSource {
    fn seek_fenced(&self, partition: i32, first_offset: i64, stored_next_offset: Option<i64>) {
        let offset = match stored_next_offset {
            // Records between the stored offset and this batch never arrived: the broker
            // skipped them. tansu 0.6 answers a fetch from inside a record batch with the
            // next batch, where Kafka returns the batch that holds the offset. Re-read the
            // partition from its beginning; `Batcher::take` passes over what is committed.
            Some(stored) if stored < first_offset => {
                tracing::warn!(
                    partition,
                    first_offset,
                    stored_next_offset = stored,
                    "the broker skipped records after the stored offset; re-reading the partition from its beginning"
                );
                Offset::Beginning
            }
            _ => {
                tracing::warn!(
                    partition,
                    first_offset,
                    stored_next_offset,
                    "batch already committed elsewhere; resuming at the stored offset"
                );
                stored_next_offset.map_or(Offset::Beginning, Offset::Offset)
            }
        };
        if let Err(error) = self
            .consumer
            .seek(&self.topic, partition, offset, Duration::ZERO)
        {
            tracing::warn!(error = %error, partition, "seeking to the stored offset failed");
        }
    }
}

fn incoming<'a>(message: &'a BorrowedMessage<'_>) -> Incoming<'a> {
    Incoming {
        partition: message.partition(),
        offset: message.offset(),
        key: message.key(),
        value: message.payload(),
        traceparent: traceparent(message),
    }
}

/// The record's `traceparent` header, when it has a readable one.
fn traceparent<'a>(message: &'a BorrowedMessage<'_>) -> Option<&'a str> {
    message
        .headers()?
        .iter()
        .find(|header| header.key == vexil_service::telemetry::TRACEPARENT)
        .and_then(|header| std::str::from_utf8(header.value?).ok())
}
