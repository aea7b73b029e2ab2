//! The consumer loop: reads `EventEnvelope` records in a consumer group, gathers them into
//! per-partition batches, and writes each batch with its end offset in one transaction of
//! the store (`AnalyticsStore::commit`). Offsets live in the store only (Kafka auto-commit is
//! off; the group's Kafka offsets are committed afterwards for lag tooling but never read
//! back), so a crash at any point replays exactly the uncommitted records.
//!
//! A record that carries a `traceparent` header (ingest writes the one of the request that
//! produced it) is classified in a span continuing that trace; each partition batch is written
//! in a span linked to the traced records it holds.

mod classify;
mod context;
mod dead_letter;

pub use classify::{INVALID_ENVELOPE, INVALID_EVENT, UNDECODABLE_ENVELOPE};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vexil_proto::events::v1::DeadLetter;

use crate::config::KafkaConfig;
use crate::metrics::WorkerMetrics;
use crate::store::{AnalyticsStore, CommitOutcome, PartitionBatch};
use classify::{classify, Classified};
use context::{Positions, WorkerContext};
use dead_letter::DeadLetterProducer;

/// A failed batch write is retried this many times (deadlocks, a database restart)
/// before the worker gives up and stops.
const WRITE_ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A batch's span links to at most this many traced records (the OpenTelemetry SDK's
/// default limit of links per span).
const MAX_LINKS_PER_BATCH: usize = 128;

/// Consumes until `shutdown` fires, then writes what it has read and returns.
pub async fn consume(
    kafka: &KafkaConfig,
    store: Arc<dyn AnalyticsStore>,
    metrics: WorkerMetrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let stored = store
        .load_offsets(&kafka.topic)
        .await
        .context("loading stored offsets")?;
    let positions: Positions = Arc::new(Mutex::new(stored));
    let context = WorkerContext::new(kafka.topic.clone(), positions.clone(), metrics.clone());
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
    let mut worker = Worker {
        topic: kafka.topic.clone(),
        consumer,
        store,
        metrics,
        positions,
        dead_letters: DeadLetterProducer::new(kafka)
            .context("creating the dead-letter producer")?,
        pending: Pending::default(),
    };
    tracing::info!(topic = %kafka.topic, group_id = %kafka.group_id, "consuming");
    let result = worker.run(kafka, &shutdown).await;
    // Whatever happened, what was read and not yet written is written if possible.
    let flushed = worker.flush().await;
    result.and(flushed)
}

fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("client.id", "vexil-analytics-worker");
    for (name, value) in &kafka.properties {
        config.set(name, value);
    }
    config
}

struct Worker {
    topic: String,
    consumer: StreamConsumer<WorkerContext>,
    store: Arc<dyn AnalyticsStore>,
    metrics: WorkerMetrics,
    positions: Positions,
    dead_letters: DeadLetterProducer,
    pending: Pending,
}

/// Records read and not yet written.
#[derive(Default)]
struct Pending {
    started: Option<Instant>,
    records: usize,
    partitions: BTreeMap<i32, PartitionBatch>,
    dead_letters: Vec<DeadLetter>,
    ignored: u64,
    /// The `traceparent` headers of the records of each partition batch, for its span's links.
    traceparents: BTreeMap<i32, Vec<String>>,
}

impl Worker {
    async fn run(
        &mut self,
        kafka: &KafkaConfig,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        loop {
            let deadline = self
                .pending
                .started
                .map(|started| started + kafka.batch_linger);
            let linger_over = tokio::select! {
                biased;
                () = shutdown.cancelled() => return Ok(()),
                () = sleep_until(deadline), if deadline.is_some() => true,
                message = self.consumer.recv() => {
                    match message {
                        Ok(message) => take(&mut self.pending, &self.positions, &self.metrics, &self.topic, &message),
                        Err(error) => tracing::warn!(error = %error, "consuming failed; retrying"),
                    }
                    false
                }
            };
            if linger_over || self.pending.records >= kafka.batch_max_records {
                self.flush().await?;
            }
        }
    }

    /// Dead letters first (acknowledged), then one transaction per partition.
    async fn flush(&mut self) -> anyhow::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        if pending.records == 0 {
            return Ok(());
        }
        if !pending.dead_letters.is_empty() {
            retry("producing dead letters", || {
                self.dead_letters.send_all(&pending.dead_letters)
            })
            .await?;
            self.metrics
                .events("dead_lettered", pending.dead_letters.len() as u64);
        }
        self.metrics.events("ignored", pending.ignored);
        let mut committed = TopicPartitionList::new();
        for batch in pending.partitions.values() {
            let span = tracing::info_span!(
                "write batch",
                otel.name = %format_args!("write {}", self.topic),
                otel.kind = "consumer",
                messaging.system = "kafka",
                messaging.destination.name = %self.topic,
                messaging.destination.partition.id = batch.partition,
                messaging.batch.message_count = batch.next_offset - batch.first_offset,
            );
            let traced = pending.traceparents.get(&batch.partition);
            for traceparent in traced.into_iter().flatten() {
                vexil_service::telemetry::add_remote_link(&span, traceparent);
            }
            let outcome = retry("writing a batch", || self.store.commit(batch))
                .instrument(span)
                .await;
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    self.metrics.batch("failed");
                    return Err(error);
                }
            };
            match outcome {
                CommitOutcome::Committed {
                    counted,
                    duplicates,
                } => {
                    self.metrics.batch("committed");
                    self.metrics.events("counted", counted);
                    self.metrics.events("duplicate", duplicates);
                    self.set_position(batch.partition, batch.next_offset);
                    committed.add_partition_offset(
                        &self.topic,
                        batch.partition,
                        Offset::Offset(batch.next_offset),
                    )?;
                }
                CommitOutcome::Fenced { stored_next_offset } => {
                    self.metrics.batch("fenced");
                    let offset = match stored_next_offset {
                        // Records between the stored offset and this batch never arrived:
                        // the broker skipped them. tansu 0.6 answers a fetch from inside a
                        // record batch with the next batch, where Kafka returns the batch
                        // that holds the offset. Re-read the partition from its beginning;
                        // `take` passes over what is committed.
                        Some(stored) if stored < batch.first_offset => {
                            tracing::warn!(
                                partition = batch.partition,
                                first_offset = batch.first_offset,
                                stored_next_offset = stored,
                                "the broker skipped records after the stored offset; re-reading the partition from its beginning"
                            );
                            Offset::Beginning
                        }
                        _ => {
                            tracing::warn!(
                                partition = batch.partition,
                                first_offset = batch.first_offset,
                                stored_next_offset,
                                "batch already committed elsewhere; resuming at the stored offset"
                            );
                            stored_next_offset.map_or(Offset::Beginning, Offset::Offset)
                        }
                    };
                    if let Some(stored) = stored_next_offset {
                        self.set_position(batch.partition, stored);
                    }
                    if let Err(error) =
                        self.consumer
                            .seek(&self.topic, batch.partition, offset, Duration::ZERO)
                    {
                        tracing::warn!(error = %error, partition = batch.partition, "seeking to the stored offset failed");
                    }
                }
            }
        }
        if committed.count() > 0 {
            // Informational only (lag tooling); the store holds the offsets that count.
            if let Err(error) = self.consumer.commit(&committed, CommitMode::Async) {
                tracing::debug!(error = %error, "committing offsets to Kafka failed");
            }
        }
        Ok(())
    }

    fn set_position(&self, partition: i32, offset: i64) {
        self.positions
            .lock()
            .expect("positions lock is never poisoned")
            .insert(partition, offset);
    }
}

/// Adds a record to the pending batch of its partition, unless it was committed.
fn take(
    pending: &mut Pending,
    positions: &Positions,
    metrics: &WorkerMetrics,
    topic: &str,
    message: &BorrowedMessage<'_>,
) {
    let (partition, offset) = (message.partition(), message.offset());
    let position = positions
        .lock()
        .expect("positions lock is never poisoned")
        .get(&partition)
        .copied();
    if position.is_some_and(|position| offset < position) {
        metrics.events("skipped", 1);
        return;
    }
    pending.started.get_or_insert_with(Instant::now);
    pending.records += 1;
    let batch = pending
        .partitions
        .entry(partition)
        .or_insert_with(|| PartitionBatch {
            topic: topic.to_owned(),
            partition,
            first_offset: offset,
            next_offset: offset,
            candidates: Vec::new(),
        });
    batch.next_offset = offset + 1;
    // Untraced records, and every record while this worker exports nothing, get no span.
    let traceparent = traceparent(message).filter(|_| vexil_service::telemetry::is_exporting());
    let span = match traceparent {
        Some(traceparent) => {
            let span = tracing::info_span!(
                "process record",
                otel.name = %format_args!("process {topic}"),
                otel.kind = "consumer",
                messaging.system = "kafka",
                messaging.destination.name = %topic,
                messaging.destination.partition.id = partition,
                messaging.kafka.offset = offset,
            );
            vexil_service::telemetry::set_remote_parent(&span, Some(traceparent));
            let links = pending.traceparents.entry(partition).or_default();
            if links.len() < MAX_LINKS_PER_BATCH {
                links.push(traceparent.to_owned());
            }
            span
        }
        None => tracing::Span::none(),
    };
    let _entered = span.enter();
    match classify(message.payload()) {
        Classified::Event(candidate) => batch.candidates.push(*candidate),
        Classified::Ignored => pending.ignored += 1,
        Classified::DeadLetter { reason, detail } => {
            tracing::debug!(partition, offset, reason, "dead-lettering a record");
            pending.dead_letters.push(DeadLetter {
                topic: topic.to_owned(),
                partition,
                offset,
                key: message.key().unwrap_or_default().to_vec(),
                value: message.payload().unwrap_or_default().to_vec(),
                reason: reason.to_owned(),
                detail,
                failed_at_unix_ms: now_unix_ms(),
            });
        }
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

async fn retry<T, E, F, Fut>(what: &str, mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) if attempts < WRITE_ATTEMPTS => {
                tracing::warn!(
                    error = format!("{:#}", anyhow::Error::new(error)),
                    what,
                    "retrying"
                );
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempts += 1;
            }
            Err(error) => return Err(anyhow::Error::new(error).context(what.to_owned())),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn now_unix_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
