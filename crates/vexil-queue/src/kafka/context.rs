//! A subscription's librdkafka context: statistics (every `lag_refresh`) update the
//! subscription's watermarks; in a group, rebalances go to its [`Membership`].

use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::TopicPartitionList;

use super::group::Membership;
use super::watermarks::{Watermark, Watermarks};

pub(super) struct SubscriptionContext {
    topic: String,
    watermarks: Arc<Watermarks>,
    /// A joined subscription's group membership; `None` for a manual one.
    membership: Option<Arc<Membership>>,
}

impl SubscriptionContext {
    pub(super) fn new(
        topic: &str,
        watermarks: Arc<Watermarks>,
        membership: Option<Arc<Membership>>,
    ) -> SubscriptionContext {
        SubscriptionContext {
            topic: topic.to_owned(),
            watermarks,
            membership,
        }
    }
}

impl SubscriptionContext {
    pub(super) fn membership(&self) -> Option<Arc<Membership>> {
        self.membership.clone()
    }
}

impl ClientContext for SubscriptionContext {
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        for (partition, stats) in &topic.partitions {
            // Partition -1 is librdkafka's internal one; negative offsets mean unknown.
            let (Ok(partition), Ok(earliest), Ok(end)) = (
                usize::try_from(*partition),
                u64::try_from(stats.lo_offset),
                u64::try_from(stats.hi_offset),
            ) else {
                continue;
            };
            self.watermarks
                .update(partition, Watermark { earliest, end });
        }
    }
}

impl ConsumerContext for SubscriptionContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        error: RDKafkaRespErr,
        list: &mut TopicPartitionList,
    ) {
        match &self.membership {
            Some(membership) => membership.rebalance(consumer, error, list),
            // A manual subscription never joins its group; should librdkafka still ask,
            // it gets what it asks for.
            None => {
                let result = if error == RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
                    consumer.assign(list)
                } else {
                    consumer.unassign()
                };
                if let Err(error) = result {
                    tracing::warn!(topic = %self.topic, error = %error, "applying a rebalance failed");
                }
            }
        }
    }

    /// The group's committed offsets are for tooling only (see `release`), so a failed
    /// commit is worth a debug line, no more.
    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(error) = result {
            tracing::debug!(topic = %self.topic, error = %error, "committing offsets to the group failed");
        }
    }
}
