//! Membership of a joined Kafka subscription in its consumer group: librdkafka's rebalance
//! callback asks the caller's [`Assignments`] where the given partitions start, sets their
//! fetch offsets (the group's committed offsets are never read) and assigns them, and gives
//! or takes the subscription's cursors, so that records of a partition are returned only
//! while the member holds it.

use std::collections::BTreeMap;
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext, RebalanceProtocol};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::consumer::fetch_offset;
use super::partitions::{self, SharedPartitions};
use crate::Assignments;

pub(super) struct Membership {
    topic: String,
    group: String,
    assignments: Arc<dyn Assignments>,
    partitions: SharedPartitions,
    /// Notified after each rebalance, so that a waiting subscription looks at its new
    /// partitions (a moved cursor's stall clock, for one).
    changed: Notify,
}

impl Membership {
    pub(super) fn new(
        topic: &str,
        group: &str,
        assignments: Arc<dyn Assignments>,
        partitions: SharedPartitions,
    ) -> Membership {
        Membership {
            topic: topic.to_owned(),
            group: group.to_owned(),
            assignments,
            partitions,
            changed: Notify::new(),
        }
    }

    /// Resolves at the next rebalance after this call.
    pub(super) fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// Applies a rebalance: the eager protocol assigns and revokes whole assignments
    /// (`assign`, `unassign`), the cooperative one only the partitions that move
    /// (`incremental_assign`, `incremental_unassign`).
    pub(super) fn rebalance<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        error: RDKafkaRespErr,
        list: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let result = match error {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.assign(list);
                if cooperative {
                    consumer.incremental_assign(list)
                } else {
                    consumer.assign(list)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.revoke(&self.numbers(list));
                if cooperative {
                    consumer.incremental_unassign(list)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                tracing::warn!(topic = %self.topic, group = %self.group, error = ?other, "rebalance failed; giving up every partition");
                let held = partitions::lock(&self.partitions).held();
                self.revoke(&held);
                consumer.unassign()
            }
        };
        if let Err(error) = result {
            tracing::error!(topic = %self.topic, group = %self.group, error = %error, "applying a rebalance failed");
        }
        self.changed.notify_waiters();
    }

    /// Sets where each given partition starts, before librdkafka fetches any of it.
    fn assign(&self, list: &mut TopicPartitionList) {
        let numbers = self.numbers(list);
        let mut starts = BTreeMap::new();
        for position in self.assignments.assigned(&self.topic, &numbers) {
            if numbers.contains(&position.partition) {
                starts.insert(position.partition, position.offset);
            } else {
                tracing::warn!(topic = %self.topic, partition = position.partition, "a start was given for a partition not assigned; ignored");
            }
        }
        let mut partitions = partitions::lock(&self.partitions);
        for &number in &numbers {
            let start = starts.get(&number).copied();
            let offset = start.map_or(Offset::Beginning, fetch_offset);
            if let Err(error) = list.set_partition_offset(&self.topic, number as i32, offset) {
                tracing::error!(topic = %self.topic, partition = number, error = %error, "setting a partition's start failed");
            }
            partitions.assign(number, start);
        }
        tracing::info!(topic = %self.topic, group = %self.group, partitions = ?numbers, "partitions assigned");
    }

    fn revoke(&self, numbers: &[u32]) {
        if numbers.is_empty() {
            return;
        }
        self.assignments.revoked(&self.topic, numbers);
        let mut partitions = partitions::lock(&self.partitions);
        for &number in numbers {
            partitions.revoke(number);
        }
        tracing::info!(topic = %self.topic, group = %self.group, partitions = ?numbers, "partitions revoked");
    }

    /// The partitions of this member's topic in `list`, in order.
    fn numbers(&self, list: &TopicPartitionList) -> Vec<u32> {
        let mut numbers: Vec<u32> = list
            .elements()
            .iter()
            .filter(|element| element.topic() == self.topic)
            .filter_map(|element| u32::try_from(element.partition()).ok())
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }
}
