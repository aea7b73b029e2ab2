//! The consumer: opens one librdkafka consumer per subscription, assigned every partition
//! of its topic at the caller's offsets.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::cursor::Cursor;
use super::subscription::KafkaSubscription;
use super::watermarks::{self, WatermarkContext, Watermarks};
use super::{client_config, millis, KafkaOptions};
use crate::{BoxFuture, Consumer, Position, QueueError, Subscription};

/// How long a metadata request may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Consumer`] on Kafka. Holds no connection itself: each subscription has its own
/// librdkafka consumer (and connections), and [`Consumer::partitions`] opens a short-lived
/// client, which suits a call made at startup.
pub struct KafkaConsumer {
    options: KafkaOptions,
}

impl KafkaConsumer {
    /// Keeps the options; nothing connects until [`Consumer::partitions`] or
    /// [`Consumer::subscribe`].
    pub fn new(options: KafkaOptions) -> KafkaConsumer {
        KafkaConsumer { options }
    }

    /// A subscription's consumer. It has a `group.id` because librdkafka only assigns
    /// partitions to a consumer with one, but it never joins the group and never commits:
    /// the caller keeps its offsets.
    fn subscription_config(&self) -> ClientConfig {
        let mut config = client_config(
            &self.options,
            &[
                ("fetch.wait.max.ms", millis(self.options.fetch_wait)),
                ("statistics.interval.ms", millis(self.options.lag_refresh)),
            ],
        );
        // After the operator's properties: the subscription's guarantees rest on these.
        config
            .set("group.id", &self.options.client_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            // A start offset below the earliest retained record (or past the end) reads
            // from the earliest one; `Cursor` then drops what is before the position.
            .set("auto.offset.reset", "earliest");
        config
    }

    async fn subscribe_to(
        &self,
        topic: &str,
        start: &[Position],
    ) -> Result<Box<dyn Subscription>, QueueError> {
        let watermarks = Arc::new(Watermarks::new());
        let consumer: StreamConsumer<WatermarkContext> = self
            .subscription_config()
            .create_with_context(WatermarkContext::new(topic, watermarks.clone()))
            .map_err(|source| self.client_failed(source))?;
        let consumer = Arc::new(consumer);
        let partitions = {
            let (consumer, topic, watermarks) =
                (consumer.clone(), topic.to_owned(), watermarks.clone());
            tokio::task::spawn_blocking(move || {
                let partitions = partition_count(consumer.client(), &topic)?;
                let known =
                    watermarks::query(consumer.as_ref(), &topic, partitions).map_err(|source| {
                        QueueError::Kafka {
                            action: "query the watermarks of",
                            topic: topic.clone(),
                            source: Box::new(source),
                        }
                    })?;
                watermarks.start(known);
                Ok::<_, QueueError>(partitions)
            })
            .await
            .map_err(|_| QueueError::Closed)??
        };
        let known = watermarks.get();
        let mut cursors: Vec<Cursor> = known
            .iter()
            .map(|watermark| Cursor::at_earliest(watermark.earliest))
            .collect();
        let mut assignment = TopicPartitionList::new();
        for partition in 0..partitions {
            assignment
                .add_partition_offset(topic, partition as i32, Offset::Beginning)
                .map_err(|source| subscribe_failed(topic, source))?;
        }
        for position in start {
            let Some(cursor) = cursors.get_mut(position.partition as usize) else {
                return Err(QueueError::UnknownPartition {
                    topic: topic.to_owned(),
                    partition: position.partition,
                    partitions,
                });
            };
            *cursor =
                Cursor::moved_to(position.offset, known[position.partition as usize].earliest);
            assignment
                .set_partition_offset(
                    topic,
                    position.partition as i32,
                    fetch_offset(position.offset),
                )
                .map_err(|source| subscribe_failed(topic, source))?;
        }
        // Each partition's records go to a queue of its own, split off before the
        // assignment starts fetching so that none reach the consumer's main queue, which
        // then carries only librdkafka's events (statistics, errors).
        let queues = (0..partitions)
            .map(|partition| {
                consumer
                    .split_partition_queue(topic, partition as i32)
                    .ok_or_else(|| {
                        subscribe_failed(
                            topic,
                            KafkaError::Subscription(format!("no queue for partition {partition}")),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        consumer
            .assign(&assignment)
            .map_err(|source| subscribe_failed(topic, source))?;
        tracing::debug!(%topic, partitions, "subscribed to Kafka topic");
        Ok(Box::new(KafkaSubscription::new(
            consumer,
            queues,
            topic.to_owned(),
            cursors,
            watermarks,
            &self.options,
        )))
    }

    fn client_failed(&self, source: KafkaError) -> QueueError {
        QueueError::KafkaClient {
            role: "consumer",
            brokers: self.options.brokers.clone(),
            source: Box::new(source),
        }
    }
}

impl Consumer for KafkaConsumer {
    fn partitions<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<u32, QueueError>> {
        Box::pin(async move {
            // No group: this client only asks for metadata.
            let client: BaseConsumer = client_config(&self.options, &[])
                .create()
                .map_err(|source| self.client_failed(source))?;
            let topic = topic.to_owned();
            tokio::task::spawn_blocking(move || partition_count(client.client(), &topic))
                .await
                .map_err(|_| QueueError::Closed)?
        })
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        start: &'a [Position],
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, QueueError>> {
        Box::pin(self.subscribe_to(topic, start))
    }
}

/// Where librdkafka starts fetching for a position: offsets past `i64::MAX` cannot exist,
/// so those wait at the end.
pub(super) fn fetch_offset(offset: u64) -> Offset {
    i64::try_from(offset).map_or(Offset::End, Offset::Offset)
}

/// The topic's partition count from the brokers' metadata. Blocks.
fn partition_count<C: rdkafka::ClientContext>(
    client: &rdkafka::client::Client<C>,
    topic: &str,
) -> Result<u32, QueueError> {
    let failed = |source| QueueError::Kafka {
        action: "look up the partitions of",
        topic: topic.to_owned(),
        source: Box::new(source),
    };
    let metadata = client
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .map_err(failed)?;
    let Some(found) = metadata.topics().iter().find(|found| found.name() == topic) else {
        return Err(failed(KafkaError::MetadataFetch(
            rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition,
        )));
    };
    if let Some(error) = found.error() {
        return Err(failed(KafkaError::MetadataFetch(error.into())));
    }
    match u32::try_from(found.partitions().len()) {
        Ok(partitions) if partitions > 0 => Ok(partitions),
        _ => Err(failed(KafkaError::MetadataFetch(
            rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition,
        ))),
    }
}

fn subscribe_failed(topic: &str, source: KafkaError) -> QueueError {
    QueueError::Kafka {
        action: "subscribe to",
        topic: topic.to_owned(),
        source: Box::new(source),
    }
}
