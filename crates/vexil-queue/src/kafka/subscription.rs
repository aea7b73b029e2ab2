//! A reader of one Kafka topic: a librdkafka consumer fetching ahead in the background
//! with long fetches, and the [`Partitions`] saying which records to return. The two kinds
//! differ only in where records come from ([`Feed`]) and in who decides which partitions
//! are read: a manual subscription reads every partition, each from a queue of its own; a
//! group member reads the consumer's main queue, which also carries the rebalances that
//! give and take its partitions (`group.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use rdkafka::consumer::stream_consumer::StreamPartitionQueue;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::task::AbortHandle;

use super::consumer::fetch_offset;
use super::context::SubscriptionContext;
use super::cursor::Verdict;
use super::group::Membership;
use super::message::{is_permanent, record};
use super::partitions::{self, SharedPartitions};
use super::watermarks::Watermarks;
use super::KafkaOptions;
use crate::{BoxFuture, PartitionLag, Position, QueueError, StoredRecord, Subscription};

/// A moved cursor waits this many fetch waits for its first record before deciding the
/// broker skipped it (see `cursor.rs`).
const STALL_FETCHES: u32 = 4;

type Queue = StreamPartitionQueue<SubscriptionContext>;
pub(super) type KafkaStream = StreamConsumer<SubscriptionContext>;

/// Where a subscription's records come from.
pub(super) enum Feed {
    /// Partition `n`'s records in `queues[n]`, in offset order; the consumer's main queue
    /// (statistics, errors) is served by a task of its own.
    Manual {
        queues: Arc<Vec<Queue>>,
        events: AbortHandle,
    },
    /// The consumer's main queue: records of every partition held, errors, statistics
    /// and rebalances. Partition queues cannot be split off inside a rebalance callback.
    Group { membership: Arc<Membership> },
}

impl Feed {
    /// A manual feed; needs a tokio runtime, to serve the consumer's events on a task.
    pub(super) fn manual(consumer: &Arc<KafkaStream>, queues: Vec<Queue>, topic: &str) -> Feed {
        let events = tokio::spawn(serve_events(consumer.clone(), topic.to_owned())).abort_handle();
        Feed::Manual {
            queues: Arc::new(queues),
            events,
        }
    }
}

pub(super) struct KafkaSubscription {
    /// Taken only by `drop`, to close the consumer off the async threads.
    consumer: Option<Arc<KafkaStream>>,
    feed: Feed,
    topic: String,
    partitions: SharedPartitions,
    watermarks: Arc<Watermarks>,
    stall: Duration,
    /// The partition whose queue is drained first next time (manual feed), so that a busy
    /// partition cannot starve the others.
    first_partition: usize,
    /// An error met after records were already taken for a batch: returned by the next
    /// call, so that those records are not lost with it.
    deferred_error: Option<QueueError>,
}

/// The sources of one `next_batch` call, cloned out of the subscription so that records
/// borrowed from them can be taken while the subscription changes.
enum Source {
    Queues(Arc<Vec<Queue>>),
    Main(Arc<KafkaStream>),
}

impl Source {
    async fn recv(&self) -> Result<BorrowedMessage<'_>, KafkaError> {
        match self {
            Source::Queues(queues) => {
                let any = futures_util::future::select_all(
                    queues.iter().map(|queue| Box::pin(queue.recv())),
                );
                any.await.0
            }
            Source::Main(consumer) => consumer.recv().await,
        }
    }
}

impl KafkaSubscription {
    pub(super) fn new(
        consumer: Arc<KafkaStream>,
        feed: Feed,
        topic: String,
        partitions: SharedPartitions,
        watermarks: Arc<Watermarks>,
        options: &KafkaOptions,
    ) -> KafkaSubscription {
        KafkaSubscription {
            consumer: Some(consumer),
            feed,
            topic,
            partitions,
            watermarks,
            stall: (options.fetch_wait * STALL_FETCHES).max(Duration::from_secs(1)),
            first_partition: 0,
            deferred_error: None,
        }
    }

    fn consumer(&self) -> &Arc<KafkaStream> {
        self.consumer
            .as_ref()
            .expect("the consumer is taken only when the subscription is dropped")
    }

    /// Positions change only between awaits, and only with the records returned, so a
    /// dropped call moves nothing: what librdkafka fetched ahead stays in its queues.
    async fn next(&mut self, max_records: usize) -> Result<Vec<StoredRecord>, QueueError> {
        if let Some(error) = self.deferred_error.take() {
            return Err(error);
        }
        let max_records = max_records.max(1);
        let (source, membership) = match &self.feed {
            Feed::Manual { queues, .. } => (Source::Queues(queues.clone()), None),
            Feed::Group { membership } => (
                Source::Main(self.consumer().clone()),
                Some(membership.clone()),
            ),
        };
        let watermarks = self.watermarks.clone();
        let mut records = Vec::new();
        loop {
            // Created before looking at the ends and the partitions, so that growth or a
            // rebalance after the look wakes them.
            let grown = watermarks.grown();
            let rebalanced = membership.as_ref().map(|membership| membership.changed());
            let (deadline, awaits_ends) = {
                let mut partitions = partitions::lock(&self.partitions);
                (
                    partitions.stall_deadline(self.stall),
                    partitions.awaits_ends(),
                )
            };
            let received = tokio::select! {
                received = source.recv() => received,
                () = sleep_until(deadline), if deadline.is_some() => {
                    self.rewind_stalled();
                    continue;
                }
                // A moved cursor not yet known to be behind starts its stall clock once
                // the statistics show records past it.
                () = grown, if awaits_ends => continue,
                () = notified(rebalanced) => continue,
            };
            self.take(received, &mut records)?;
            self.drain(&source, max_records, &mut records)?;
            if !records.is_empty() {
                return Ok(records);
            }
        }
    }

    /// Adds what the feed already holds, without waiting, up to `max_records`: partition
    /// by partition from a manual feed's queues.
    fn drain(
        &mut self,
        source: &Source,
        max_records: usize,
        records: &mut Vec<StoredRecord>,
    ) -> Result<(), QueueError> {
        match source {
            Source::Queues(queues) => {
                let count = queues.len();
                for step in 0..count {
                    let queue = &queues[(self.first_partition + step) % count];
                    while records.len() < max_records {
                        match queue.recv().now_or_never() {
                            Some(received) => self.take(received, records)?,
                            None => break,
                        }
                    }
                }
                self.first_partition = (self.first_partition + 1) % count.max(1);
            }
            Source::Main(consumer) => {
                while records.len() < max_records {
                    match consumer.recv().now_or_never() {
                        Some(received) => self.take(received, records)?,
                        None => break,
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds a received record to `records` if it is the next of a partition read now;
    /// fails on errors that waiting cannot cure (or defers them while `records` holds some,
    /// whose cursors have already moved).
    fn take(
        &mut self,
        received: Result<BorrowedMessage<'_>, KafkaError>,
        records: &mut Vec<StoredRecord>,
    ) -> Result<(), QueueError> {
        let message = match received {
            Ok(message) => message,
            Err(error) if is_permanent(&error) => {
                let error = QueueError::Kafka {
                    action: "read",
                    topic: self.topic.clone(),
                    source: Box::new(error),
                };
                if records.is_empty() {
                    return Err(error);
                }
                self.deferred_error = Some(error);
                return Ok(());
            }
            Err(error) => {
                // Librdkafka reconnects and retries by itself.
                tracing::warn!(topic = %self.topic, error = %error, "reading from Kafka failed; retrying");
                return Ok(());
            }
        };
        let (Ok(partition), Ok(offset)) = (
            u32::try_from(message.partition()),
            u64::try_from(message.offset()),
        ) else {
            return Ok(());
        };
        let (verdict, expected_offset) = {
            let mut partitions = partitions::lock(&self.partitions);
            let verdict = partitions.on_record(partition, offset);
            (verdict, partitions.next(partition))
        };
        match verdict {
            Some(Verdict::Deliver) => records.push(StoredRecord {
                position: Position { partition, offset },
                record: record(&message),
            }),
            // Before the position, or of a partition not read now (fetched before a
            // revocation).
            Some(Verdict::Drop) | None => {}
            Some(Verdict::Rewind) => {
                tracing::warn!(
                    topic = %self.topic,
                    partition,
                    expected_offset,
                    offset,
                    "the broker skipped records after a seek; reading the partition again from its beginning"
                );
                self.rewind(partition);
            }
        }
        Ok(())
    }

    fn rewind_stalled(&mut self) {
        let stalled = partitions::lock(&self.partitions).stalled(self.stall);
        for partition in stalled {
            self.rewind(partition);
        }
    }

    /// Moves librdkafka's fetch position to the partition's beginning; a failure leaves
    /// the cursor waiting, so it is logged and not returned.
    fn rewind(&self, partition: u32) {
        if let Err(error) = self.consumer().seek(
            &self.topic,
            partition as i32,
            Offset::Beginning,
            Duration::ZERO,
        ) {
            tracing::warn!(topic = %self.topic, partition, error = %error, "rewinding a Kafka partition failed");
        }
    }

    /// Commits `position` to the group, asynchronously, if the member holds its partition
    /// (the new holder of a revoked one commits its own).
    fn commit(&self, position: Position) -> Result<(), QueueError> {
        let failed = |source| QueueError::Kafka {
            action: "commit an offset of",
            topic: self.topic.clone(),
            source: Box::new(source),
        };
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(
            &self.topic,
            position.partition as i32,
            fetch_offset(position.offset),
        )
        .map_err(failed)?;
        self.consumer()
            .commit(&list, CommitMode::Async)
            .map_err(failed)
    }
}

impl Drop for KafkaSubscription {
    /// A group member leaves its group here: librdkafka's close revokes its partitions
    /// (calling `Assignments::revoked`) and waits for the brokers, so it runs off the
    /// async threads when there is a runtime.
    fn drop(&mut self) {
        if let Feed::Manual { events, .. } = &self.feed {
            events.abort();
        }
        if let (Feed::Group { .. }, Some(consumer)) = (&self.feed, self.consumer.take()) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn_blocking(move || drop(consumer));
            }
        }
    }
}

impl Subscription for KafkaSubscription {
    fn next_batch(
        &mut self,
        max_records: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredRecord>, QueueError>> {
        Box::pin(self.next(max_records))
    }

    fn seek(&mut self, position: Position) -> Result<(), QueueError> {
        let mut partitions = partitions::lock(&self.partitions);
        partitions.check(position.partition)?;
        // Asynchronous in librdkafka (a zero timeout): the records it fetched before are
        // discarded, and any that slip through are dropped by the cursor.
        self.consumer()
            .seek(
                &self.topic,
                position.partition as i32,
                fetch_offset(position.offset),
                Duration::ZERO,
            )
            .map_err(|source| QueueError::Kafka {
                action: "seek in",
                topic: self.topic.clone(),
                source: Box::new(source),
            })?;
        partitions.seek(position)
    }

    /// Kafka deletes records by the topic's retention (`retention.ms`, `retention.bytes`),
    /// whatever its readers have processed, so the operator's retention must outlast the
    /// longest time a reader may fall behind. A manual subscription only checks the
    /// partition; a group member commits the offset to the group for tooling, never read
    /// back, when it holds the partition.
    fn release(&self, position: Position) -> BoxFuture<'_, Result<(), QueueError>> {
        let checked = partitions::lock(&self.partitions).check(position.partition);
        let result = match (checked, &self.feed) {
            (Ok(()), Feed::Group { .. }) => self.commit(position),
            (Err(QueueError::NotAssigned { .. }), Feed::Group { .. }) => Ok(()),
            (checked, _) => checked,
        };
        Box::pin(std::future::ready(result))
    }

    fn lag(&self) -> Vec<PartitionLag> {
        partitions::lock(&self.partitions).lag()
    }
}

/// Serves a manual subscription's main queue, which librdkafka must have polled for its
/// events: statistics (the watermarks) and client-wide errors, which it recovers from by
/// itself. Records never arrive here: each partition's go to its own queue.
async fn serve_events(consumer: Arc<KafkaStream>, topic: String) {
    loop {
        match consumer.recv().await {
            Ok(message) => tracing::error!(
                %topic,
                partition = message.partition(),
                offset = message.offset(),
                "a Kafka record reached the main queue instead of its partition's; it is skipped"
            ),
            Err(error) => tracing::warn!(%topic, error = %error, "Kafka consumer error"),
        }
    }
}

/// Sleeps until `deadline`; a branch `select!` disables when there is none.
async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline.into()).await;
    }
}

/// Resolves on `notified`; never without one.
async fn notified(notified: Option<tokio::sync::futures::Notified<'_>>) {
    match notified {
        Some(notified) => notified.await,
        None => std::future::pending().await,
    }
}
