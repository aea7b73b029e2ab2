//! The consumer's librdkafka callbacks: on assignment, partitions start at the offsets
//! in the `AnalyticsStore` (not at the group's Kafka-committed offsets); statistics feed the
//! consumer-lag gauge.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;

use crate::metrics::WorkerMetrics;

/// The next offset to process per partition of the topic, as committed to the store by
/// this process (loaded at startup, updated after every commit). Another worker may have
/// advanced a partition since; the offset guard of `AnalyticsStore::commit` then fences
/// the first batch and consumption moves to the truly stored offset.
pub type Positions = Arc<Mutex<HashMap<i32, i64>>>;

pub struct WorkerContext {
    topic: String,
    positions: Positions,
    metrics: WorkerMetrics,
}

impl WorkerContext {
    pub fn new(topic: String, positions: Positions, metrics: WorkerMetrics) -> WorkerContext {
        WorkerContext {
            topic,
            positions,
            metrics,
        }
    }

    /// Sets each assigned partition's start: its stored offset, or the beginning of the
    /// partition when this database never committed it.
    fn start_at_stored_offsets(&self, assignment: &mut TopicPartitionList) -> KafkaResult<()> {
        let positions = self
            .positions
            .lock()
            .expect("positions lock is never poisoned");
        let partitions: Vec<(String, i32)> = assignment
            .elements()
            .iter()
            .map(|element| (element.topic().to_owned(), element.partition()))
            .collect();
        for (topic, partition) in partitions {
            let offset = match positions.get(&partition) {
                Some(offset) if topic == self.topic => Offset::Offset(*offset),
                _ => Offset::Beginning,
            };
            assignment.set_partition_offset(&topic, partition, offset)?;
        }
        Ok(())
    }
}

impl ClientContext for WorkerContext {
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        for (partition, stats) in &topic.partitions {
            if *partition >= 0 && stats.consumer_lag >= 0 {
                self.metrics.set_lag(*partition, stats.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for WorkerContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        error: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let result = match error {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if let Err(error) = self.start_at_stored_offsets(partitions) {
                    tracing::error!(error = %error, "setting stored offsets on the assignment failed");
                }
                tracing::info!(partitions = ?partition_numbers(partitions), "partitions assigned");
                if cooperative {
                    consumer.incremental_assign(partitions)
                } else {
                    consumer.assign(partitions)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(partitions = ?partition_numbers(partitions), "partitions revoked");
                if cooperative {
                    consumer.incremental_unassign(partitions)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                tracing::warn!(error = ?other, "rebalance failed");
                consumer.unassign()
            }
        };
        if let Err(error) = result {
            tracing::error!(error = %error, "applying the rebalance failed");
        }
    }
}

fn partition_numbers(partitions: &TopicPartitionList) -> Vec<i32> {
    partitions
        .elements()
        .iter()
        .map(|element| element.partition())
        .collect()
}
