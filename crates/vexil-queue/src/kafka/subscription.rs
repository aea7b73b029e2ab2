//! A reader of one Kafka topic: a librdkafka consumer assigned every partition, fetching
//! ahead in the background with long fetches into one queue per partition, and a
//! [`Cursor`] per partition saying which of its records to return.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt;
use rdkafka::consumer::stream_consumer::StreamPartitionQueue;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset};
use tokio::task::AbortHandle;

use super::consumer::fetch_offset;
use super::cursor::{Cursor, Verdict};
use super::watermarks::{WatermarkContext, Watermarks};
use super::KafkaOptions;
use crate::{
    BoxFuture, Header, PartitionLag, Position, QueueError, Record, StoredRecord, Subscription,
};

/// A moved cursor waits this many fetch waits for its first record before deciding the
/// broker skipped it (see `cursor.rs`).
const STALL_FETCHES: u32 = 4;

type Queue = StreamPartitionQueue<WatermarkContext>;

pub(super) struct KafkaSubscription {
    consumer: Arc<StreamConsumer<WatermarkContext>>,
    /// Partition `n`'s records, in offset order.
    queues: Arc<Vec<Queue>>,
    topic: String,
    cursors: Vec<Cursor>,
    watermarks: Arc<Watermarks>,
    stall: Duration,
    /// The partition whose queue is drained first next time, so that a busy partition
    /// cannot starve the others.
    first_partition: usize,
    /// The task serving the consumer's main queue (statistics, errors).
    events: AbortHandle,
    /// An error met after records were already taken for a batch: returned by the next
    /// call, so that those records are not lost with it.
    deferred_error: Option<QueueError>,
}

impl KafkaSubscription {
    /// Needs a tokio runtime: it serves the consumer's events on a task of its own.
    pub(super) fn new(
        consumer: Arc<StreamConsumer<WatermarkContext>>,
        queues: Vec<Queue>,
        topic: String,
        cursors: Vec<Cursor>,
        watermarks: Arc<Watermarks>,
        options: &KafkaOptions,
    ) -> KafkaSubscription {
        let events = tokio::spawn(serve_events(consumer.clone(), topic.clone())).abort_handle();
        KafkaSubscription {
            consumer,
            queues: Arc::new(queues),
            topic,
            cursors,
            watermarks,
            stall: (options.fetch_wait * STALL_FETCHES).max(Duration::from_secs(1)),
            first_partition: 0,
            events,
            deferred_error: None,
        }
    }

    /// Positions change only between awaits, and only with the records returned, so a
    /// dropped call moves nothing: what librdkafka fetched ahead stays in its queues.
    async fn next(&mut self, max_records: usize) -> Result<Vec<StoredRecord>, QueueError> {
        if let Some(error) = self.deferred_error.take() {
            return Err(error);
        }
        let max_records = max_records.max(1);
        let queues = self.queues.clone();
        let watermarks = self.watermarks.clone();
        let mut records = Vec::new();
        loop {
            // Created before looking at the ends, so that growth after the look wakes it.
            let grown = watermarks.grown();
            let deadline = self.stall_deadline();
            // A moved cursor not yet known to be behind starts its stall clock once the
            // statistics show records past it.
            let awaits_ends = self.cursors.iter().any(Cursor::is_moved);
            let any =
                futures_util::future::select_all(queues.iter().map(|queue| Box::pin(queue.recv())));
            let received = tokio::select! {
                (received, _, _) = any => received,
                () = sleep_until(deadline), if deadline.is_some() => {
                    self.rewind_stalled();
                    continue;
                }
                () = grown, if awaits_ends => continue,
            };
            self.take(received, &mut records)?;
            self.drain(&queues, max_records, &mut records)?;
            if !records.is_empty() {
                return Ok(records);
            }
        }
    }

    /// Adds what the queues already hold, without waiting, partition by partition, up
    /// to `max_records`.
    fn drain(
        &mut self,
        queues: &[Queue],
        max_records: usize,
        records: &mut Vec<StoredRecord>,
    ) -> Result<(), QueueError> {
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
        Ok(())
    }

    /// Adds a received record to `records` if it is the next of its partition; fails on
    /// errors that waiting cannot cure (or defers them while `records` holds some, whose
    /// cursors have already moved).
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
        let index = partition as usize;
        let earliest = self
            .watermarks
            .get()
            .get(index)
            .map_or(0, |watermark| watermark.earliest);
        let Some(cursor) = self.cursors.get_mut(index) else {
            return Ok(());
        };
        match cursor.on_record(offset, earliest) {
            Verdict::Deliver => {
                self.watermarks.observe(index, offset);
                records.push(StoredRecord {
                    position: Position { partition, offset },
                    record: record(&message),
                });
            }
            Verdict::Drop => {}
            Verdict::Rewind => {
                tracing::warn!(
                    topic = %self.topic,
                    partition,
                    expected_offset = cursor.next(),
                    offset,
                    "the broker skipped records after a seek; reading the partition again from its beginning"
                );
                self.rewind(partition);
            }
        }
        Ok(())
    }

    /// The earliest stall deadline of a moved cursor waiting for records it knows exist.
    fn stall_deadline(&mut self) -> Option<Instant> {
        let watermarks = self.watermarks.get();
        self.cursors
            .iter_mut()
            .zip(&watermarks)
            .filter_map(|(cursor, watermark)| cursor.stall_deadline(watermark.end, self.stall))
            .min()
    }

    fn rewind_stalled(&mut self) {
        let now = Instant::now();
        let watermarks = self.watermarks.get();
        let mut stalled = Vec::new();
        for (partition, (cursor, watermark)) in self.cursors.iter_mut().zip(&watermarks).enumerate()
        {
            if cursor.rewind_if_stalled(now, watermark.end, self.stall) {
                tracing::warn!(
                    topic = %self.topic,
                    partition,
                    expected_offset = cursor.next(),
                    end = watermark.end,
                    "no records arrived after a seek although the partition holds some; reading it again from its beginning"
                );
                stalled.push(partition as u32);
            }
        }
        for partition in stalled {
            self.rewind(partition);
        }
    }

    /// Moves librdkafka's fetch position to the partition's beginning; a failure leaves
    /// the cursor waiting, so it is logged and not returned.
    fn rewind(&self, partition: u32) {
        if let Err(error) = self.consumer.seek(
            &self.topic,
            partition as i32,
            Offset::Beginning,
            Duration::ZERO,
        ) {
            tracing::warn!(topic = %self.topic, partition, error = %error, "rewinding a Kafka partition failed");
        }
    }
}

impl Drop for KafkaSubscription {
    fn drop(&mut self) {
        self.events.abort();
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
        let partitions = self.cursors.len() as u32;
        let Some(watermark) = self
            .watermarks
            .get()
            .get(position.partition as usize)
            .copied()
        else {
            return Err(QueueError::UnknownPartition {
                topic: self.topic.clone(),
                partition: position.partition,
                partitions,
            });
        };
        // Asynchronous in librdkafka (a zero timeout): the records it fetched before are
        // discarded, and any that slip through are dropped by the cursor.
        self.consumer
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
        self.cursors[position.partition as usize] =
            Cursor::moved_to(position.offset, watermark.earliest);
        Ok(())
    }

    /// Does nothing beyond checking the partition: Kafka deletes records by the topic's
    /// retention (`retention.ms`, `retention.bytes`), whatever its readers have processed,
    /// so the operator's retention must outlast the longest time a reader may fall behind.
    fn release(&self, position: Position) -> BoxFuture<'_, Result<(), QueueError>> {
        let partitions = self.cursors.len() as u32;
        let topic = &self.topic;
        Box::pin(async move {
            if position.partition >= partitions {
                return Err(QueueError::UnknownPartition {
                    topic: topic.clone(),
                    partition: position.partition,
                    partitions,
                });
            }
            Ok(())
        })
    }

    fn lag(&self) -> Vec<PartitionLag> {
        self.cursors
            .iter()
            .zip(self.watermarks.get())
            .enumerate()
            .map(|(partition, (cursor, watermark))| PartitionLag {
                partition: partition as u32,
                // A position below the earliest retained record reads from that record.
                position: cursor.next().max(watermark.earliest),
                end: watermark.end,
            })
            .collect()
    }
}

/// Serves the consumer's main queue, which librdkafka must have polled for its events:
/// statistics (the watermarks) and client-wide errors, which it recovers from by itself.
/// Records never arrive here: each partition's go to its own queue.
async fn serve_events(consumer: Arc<StreamConsumer<WatermarkContext>>, topic: String) {
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

/// Errors that waiting will not cure: the topic or partition is gone or forbidden, or the
/// consumer itself failed for good.
fn is_permanent(error: &KafkaError) -> bool {
    match error {
        KafkaError::MessageConsumptionFatal(_) => true,
        KafkaError::MessageConsumption(code) => matches!(
            code,
            RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::UnknownTopic
                | RDKafkaErrorCode::UnknownPartition
                | RDKafkaErrorCode::TopicAuthorizationFailed
        ),
        _ => false,
    }
}

/// The record as appended: key, value, headers in order (a header without a value reads
/// back empty) and the producer's timestamp.
fn record(message: &BorrowedMessage<'_>) -> Record {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| Header {
                    name: header.key.to_owned(),
                    value: header.value.map(Bytes::copy_from_slice).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Record {
        key: message
            .key()
            .map(Bytes::copy_from_slice)
            .unwrap_or_default(),
        value: message
            .payload()
            .map(Bytes::copy_from_slice)
            .unwrap_or_default(),
        headers,
        timestamp_ms: message.timestamp().to_millis().unwrap_or(0),
    }
}

/// Sleeps until `deadline`; a branch `select!` disables when there is none.
async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline.into()).await;
    }
}
