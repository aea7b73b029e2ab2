//! The consumer: opens one librdkafka consumer per subscription, either assigned every
//! partition of its topic at the caller's offsets (`subscribe`) or a member of a consumer
//! group whose rebalances assign partitions (`join`).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::context::SubscriptionContext;
use super::group::Membership;
use super::partitions::{self, Partitions, SharedPartitions};
use super::subscription::{Feed, KafkaStream, KafkaSubscription};
use super::watermarks::{self, Watermarks};
use super::{client_config, millis, KafkaOptions};
use crate::{Assignments, BoxFuture, Consumer, Position, QueueError, Subscription};

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
    /// partitions to a consumer with one; a manual subscription never joins the group and
    /// never commits (the caller keeps its offsets), a joining one replaces it with its
    /// group's.
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
        let opened = self
            .open(topic, self.subscription_config(), |_| None)
            .await?;
        let Opened {
            consumer,
            count,
            partitions,
            watermarks,
        } = opened;
        let mut assignment = TopicPartitionList::new();
        {
            let mut cursors = partitions::lock(&partitions);
            for partition in 0..count {
                cursors.assign(partition, None);
                assignment
                    .add_partition_offset(topic, partition as i32, Offset::Beginning)
                    .map_err(|source| subscribe_failed(topic, source))?;
            }
            for position in start {
                if position.partition >= count {
                    return Err(QueueError::UnknownPartition {
                        topic: topic.to_owned(),
                        partition: position.partition,
                        partitions: count,
                    });
                }
                cursors.assign(position.partition, Some(position.offset));
                assignment
                    .set_partition_offset(
                        topic,
                        position.partition as i32,
                        fetch_offset(position.offset),
                    )
                    .map_err(|source| subscribe_failed(topic, source))?;
            }
        }
        // Each partition's records go to a queue of its own, split off before the
        // assignment starts fetching so that none reach the consumer's main queue, which
        // then carries only librdkafka's events (statistics, errors).
        let queues = (0..count)
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
        tracing::debug!(%topic, partitions = count, "subscribed to Kafka topic");
        let feed = Feed::manual(&consumer, queues, topic);
        Ok(Box::new(KafkaSubscription::new(
            consumer,
            feed,
            topic.to_owned(),
            partitions,
            watermarks,
            &self.options,
        )))
    }

    async fn join_group(
        &self,
        topic: &str,
        group: &str,
        assignments: Arc<dyn Assignments>,
    ) -> Result<Box<dyn Subscription>, QueueError> {
        let mut config = self.subscription_config();
        config.set("group.id", group);
        let opened = self
            .open(topic, config, |partitions| {
                Some(Arc::new(Membership::new(
                    topic,
                    group,
                    assignments,
                    partitions,
                )))
            })
            .await?;
        let Opened {
            consumer,
            partitions,
            watermarks,
            ..
        } = opened;
        let membership = consumer
            .context()
            .membership()
            .expect("a joining consumer's context has its membership");
        // Partitions are given by the rebalances `next_batch` serves from the main queue.
        consumer
            .subscribe(&[topic])
            .map_err(|source| subscribe_failed(topic, source))?;
        tracing::debug!(%topic, %group, "joined Kafka consumer group");
        Ok(Box::new(KafkaSubscription::new(
            consumer,
            Feed::Group { membership },
            topic.to_owned(),
            partitions,
            watermarks,
            &self.options,
        )))
    }

    /// A subscription's consumer, created from `config` with a context whose membership
    /// `membership` makes from the subscription's partitions, with the topic's partition
    /// count and watermarks known. Reads nothing yet.
    async fn open(
        &self,
        topic: &str,
        config: ClientConfig,
        membership: impl FnOnce(SharedPartitions) -> Option<Arc<Membership>>,
    ) -> Result<Opened, QueueError> {
        let watermarks = Arc::new(Watermarks::new());
        // The partition count is known only once connected; the cursors wait for it.
        let partitions = Partitions::new(topic, 0, watermarks.clone()).shared();
        let context =
            SubscriptionContext::new(topic, watermarks.clone(), membership(partitions.clone()));
        let consumer: KafkaStream = config
            .create_with_context(context)
            .map_err(|source| self.client_failed(source))?;
        let consumer = Arc::new(consumer);
        let count = {
            let (consumer, topic, watermarks) =
                (consumer.clone(), topic.to_owned(), watermarks.clone());
            tokio::task::spawn_blocking(move || {
                let count = partition_count(consumer.client(), &topic)?;
                let known =
                    watermarks::query(consumer.as_ref(), &topic, count).map_err(|source| {
                        QueueError::Kafka {
                            action: "query the watermarks of",
                            topic: topic.clone(),
                            source: Box::new(source),
                        }
                    })?;
                watermarks.start(known);
                Ok::<_, QueueError>(count)
            })
            .await
            .map_err(|_| QueueError::Closed)??
        };
        partitions::lock(&partitions).set_count(count);
        Ok(Opened {
            consumer,
            count,
            partitions,
            watermarks,
        })
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

    /// A librdkafka group member (`group.id` = `group`, nothing auto-committed), whose
    /// rebalances go to `assignments` (`group.rs`). Dropping the subscription closes the
    /// consumer, which leaves the group.
    fn join<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
        assignments: Arc<dyn Assignments>,
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, QueueError>> {
        Box::pin(self.join_group(topic, group, assignments))
    }
}

/// A subscription's consumer before it reads.
struct Opened {
    consumer: Arc<KafkaStream>,
    count: u32,
    partitions: SharedPartitions,
    watermarks: Arc<Watermarks>,
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
