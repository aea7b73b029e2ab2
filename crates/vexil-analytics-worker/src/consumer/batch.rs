//! The consume loop: records gathered into per-partition batches (skipping what is
//! committed), classified, and written with dead letters first (acknowledged), then one
//! store transaction per partition, the positions and metrics following each outcome.
//! Reading records, releasing them and seeking are the [`RecordSource`]'s (`queue.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vexil_proto::events::v1::DeadLetter;

use super::classify::{classify, Classified};
use super::dead_letter::QueueDeadLetters;
use crate::config::KafkaConfig;
use crate::metrics::WorkerMetrics;
use crate::store::{AnalyticsStore, CommitOutcome, PartitionBatch};

/// A failed batch write is retried this many times (deadlocks, a database restart)
/// before the worker gives up and stops.
const WRITE_ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A batch's span links to at most this many traced records (the OpenTelemetry SDK's
/// default limit of links per span).
const MAX_LINKS_PER_BATCH: usize = 128;

/// The next offset to process per partition of the topic, as committed to the store by
/// this process (loaded at startup, updated after every commit). Another worker may have
/// advanced a partition since; the offset guard of `AnalyticsStore::commit` then fences
/// the first batch and consumption moves to the truly stored offset.
pub type Positions = Arc<Mutex<HashMap<i32, i64>>>;

/// One record as read from either source, borrowed from it.
pub(super) struct Incoming<'a> {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// The record's `traceparent` header, when it has a readable one.
    pub traceparent: Option<&'a str>,
}

/// What became of one partition batch.
pub(super) enum Written {
    Committed {
        partition: i32,
        next_offset: i64,
    },
    /// The store's offset stood elsewhere: nothing was written, and the source must read
    /// the partition again from `stored_next_offset` (the beginning when `None`).
    Fenced {
        partition: i32,
        first_offset: i64,
        stored_next_offset: Option<i64>,
    },
}

/// The source-specific half of a consume loop.
#[async_trait::async_trait]
pub(super) trait RecordSource: Send {
    /// Waits for the next record or records and hands each to [`Batcher::take`]. Cancel
    /// safe: dropped before it returns, it has taken nothing.
    async fn receive(&mut self, batcher: &mut Batcher);

    /// Where dead letters go; they are durable there before any offset past them commits.
    fn dead_letters(&self) -> &QueueDeadLetters;

    /// Follows a flush's outcomes in the source: lets it forget what is committed and
    /// seeks fenced partitions.
    async fn written(&mut self, written: &[Written]);
}

/// Consumes until `shutdown` fires (or a write fails for good), then writes what it has
/// read and returns.
pub(super) async fn consume_with(
    source: &mut dyn RecordSource,
    batcher: &mut Batcher,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let result = loop {
        let deadline = batcher.deadline();
        let linger_over = tokio::select! {
            biased;
            () = shutdown.cancelled() => break Ok(()),
            () = sleep_until(deadline), if deadline.is_some() => true,
            () = source.receive(batcher) => false,
        };
        if linger_over || batcher.is_full() {
            if let Err(error) = flush(source, batcher).await {
                break Err(error);
            }
        }
    };
    // Whatever happened, what was read and not yet written is written if possible.
    let flushed = flush(source, batcher).await;
    result.and(flushed)
}

async fn flush(source: &mut dyn RecordSource, batcher: &mut Batcher) -> anyhow::Result<()> {
    let written = batcher.flush(source.dead_letters()).await?;
    if !written.is_empty() {
        source.written(&written).await;
    }
    Ok(())
}

/// Records read and not yet written, and how to write them.
pub(super) struct Batcher {
    topic: String,
    store: Arc<dyn AnalyticsStore>,
    metrics: WorkerMetrics,
    positions: Positions,
    batch_max_records: usize,
    batch_linger: Duration,
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

impl Batcher {
    /// A batcher for `kafka.topic` (its batch keys too), starting at the offsets the store
    /// holds for it.
    pub async fn load(
        kafka: &KafkaConfig,
        store: Arc<dyn AnalyticsStore>,
        metrics: WorkerMetrics,
    ) -> anyhow::Result<Batcher> {
        let stored = store
            .load_offsets(&kafka.topic)
            .await
            .context("loading stored offsets")?;
        Ok(Batcher {
            topic: kafka.topic.clone(),
            store,
            metrics,
            positions: Arc::new(Mutex::new(stored)),
            batch_max_records: kafka.batch_max_records,
            batch_linger: kafka.batch_linger,
            pending: Pending::default(),
        })
    }

    /// The next offset to read per partition, shared with whoever starts partitions.
    pub fn positions(&self) -> Positions {
        self.positions.clone()
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// When the pending records must be written, `batch_linger` after the first.
    fn deadline(&self) -> Option<Instant> {
        self.pending
            .started
            .map(|started| started + self.batch_linger)
    }

    /// Whether every record read so far is written.
    pub fn is_idle(&self) -> bool {
        self.pending.records == 0
    }

    fn is_full(&self) -> bool {
        self.pending.records >= self.batch_max_records
    }

    /// Adds a record to the pending batch of its partition, unless it was committed.
    pub fn take(&mut self, record: Incoming<'_>) {
        let Incoming {
            partition, offset, ..
        } = record;
        let position = self
            .positions
            .lock()
            .expect("positions lock is never poisoned")
            .get(&partition)
            .copied();
        if position.is_some_and(|position| offset < position) {
            self.metrics.events("skipped", 1);
            return;
        }
        let topic = self.topic.as_str();
        let pending = &mut self.pending;
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
        let traceparent = record
            .traceparent
            .filter(|_| vexil_service::telemetry::is_exporting());
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
        match classify(record.value) {
            Classified::Event(candidate) => batch.candidates.push(*candidate),
            Classified::Ignored => pending.ignored += 1,
            Classified::DeadLetter { reason, detail } => {
                tracing::debug!(partition, offset, reason, "dead-lettering a record");
                pending.dead_letters.push(DeadLetter {
                    topic: topic.to_owned(),
                    partition,
                    offset,
                    key: record.key.unwrap_or_default().to_vec(),
                    value: record.value.unwrap_or_default().to_vec(),
                    reason: reason.to_owned(),
                    detail,
                    failed_at_unix_ms: now_unix_ms(),
                });
            }
        }
    }

    /// Dead letters first (acknowledged), then one transaction per partition. Returns
    /// what became of each partition batch; on an error, the batches before it stay
    /// committed and the worker stops.
    async fn flush(&mut self, dead_letters: &QueueDeadLetters) -> anyhow::Result<Vec<Written>> {
        let pending = std::mem::take(&mut self.pending);
        if pending.records == 0 {
            return Ok(Vec::new());
        }
        if !pending.dead_letters.is_empty() {
            retry("producing dead letters", || {
                dead_letters.send_all(&pending.dead_letters)
            })
            .await?;
            self.metrics
                .events("dead_lettered", pending.dead_letters.len() as u64);
        }
        self.metrics.events("ignored", pending.ignored);
        let mut written = Vec::with_capacity(pending.partitions.len());
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
                    written.push(Written::Committed {
                        partition: batch.partition,
                        next_offset: batch.next_offset,
                    });
                }
                CommitOutcome::Fenced { stored_next_offset } => {
                    self.metrics.batch("fenced");
                    if let Some(stored) = stored_next_offset {
                        self.set_position(batch.partition, stored);
                    }
                    written.push(Written::Fenced {
                        partition: batch.partition,
                        first_offset: batch.first_offset,
                        stored_next_offset,
                    });
                }
            }
        }
        Ok(written)
    }

    fn set_position(&self, partition: i32, offset: i64) {
        self.positions
            .lock()
            .expect("positions lock is never poisoned")
            .insert(partition, offset);
    }
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

pub(super) fn now_unix_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
