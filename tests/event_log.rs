//! Reads an events topic back: where the analytics worker must have got to, and, when a
//! count comes out wrong, whether the events were lost before Kafka (ingest, the broker)
//! or after it (analytics-worker).
//!
//! The end of a partition is where the consumer reports end-of-partition, not the high
//! watermark from `fetch_watermarks`: tansu 0.6 answers that (ListOffsets, latest) with
//! the base offset of the last record batch plus one, so a batch of ten records at
//! offsets 10..=19 gives 11, not 20.

use std::collections::BTreeMap;
use std::time::Duration;

use prost::Message as _;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message as _, Offset, TopicPartitionList};
use serde_json::{json, Value};
use vexil_proto::events::v1::EventEnvelope;

use crate::test_env::required_var;

/// Bounds each read of a (small) topic.
const READ_DEADLINE: Duration = Duration::from_secs(20);

/// One record of an events topic.
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub envelope: EventEnvelope,
}

/// Every record `topic` holds, from the start of each of its `partitions` to its end.
pub async fn read_all(topic: &str, partitions: i32) -> Vec<Record> {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set(
                "bootstrap.servers",
                required_var("VEXIL_TEST_KAFKA_BROKERS"),
            )
            // Never joined or committed: the partitions are assigned, not subscribed.
            .set("group.id", "vexil-system-tests-read-back")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .expect("creating Kafka consumer");
        let mut assignment = TopicPartitionList::new();
        for partition in 0..partitions {
            assignment
                .add_partition_offset(&topic, partition, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&assignment).unwrap();
        let deadline = std::time::Instant::now() + READ_DEADLINE;
        let mut unfinished: Vec<i32> = (0..partitions).collect();
        let mut records = Vec::new();
        while !unfinished.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "reading {topic} back took longer than {READ_DEADLINE:?}; \
                 partitions not read to their end: {unfinished:?}"
            );
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => records.push(Record {
                    partition: message.partition(),
                    offset: message.offset(),
                    envelope: EventEnvelope::decode(message.payload().unwrap_or_default())
                        .expect("records of an events topic are EventEnvelopes"),
                }),
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    unfinished.retain(|unfinished| *unfinished != partition);
                }
                Some(Err(error)) => panic!("failed to read {topic} back: {error}"),
                None => {}
            }
        }
        records
    })
    .await
    .unwrap()
}

/// Per partition holding records, the offset after its last one.
pub fn end_offsets(records: &[Record]) -> BTreeMap<i32, i64> {
    let mut ends = BTreeMap::new();
    for record in records {
        let end = ends.entry(record.partition).or_insert(0);
        *end = (record.offset + 1).max(*end);
    }
    ends
}

/// What `records` hold about `flag_key` and `metric`: records per event kind, evaluations
/// per variation in summary counters, experiment exposures (`feature` events with
/// `inExperiment`) per variation, and the values of the metric's custom events.
pub fn tally(records: &[Record], flag_key: &str, metric: &str) -> Value {
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    let mut summary_counts: BTreeMap<String, i64> = BTreeMap::new();
    let mut exposures: BTreeMap<String, u64> = BTreeMap::new();
    let mut metric_values = Vec::new();
    for Record { envelope, .. } in records {
        *kinds.entry(&envelope.kind).or_default() += 1;
        let event: Value = serde_json::from_slice(&envelope.event_json).unwrap_or(Value::Null);
        match envelope.kind.as_str() {
            "summary" => {
                let counters = event["features"][flag_key]["counters"].as_array();
                for counter in counters.into_iter().flatten() {
                    *summary_counts
                        .entry(counter["variation"].to_string())
                        .or_default() += counter["count"].as_i64().unwrap_or_default();
                }
            }
            "feature" if event["key"] == flag_key && event["reason"]["inExperiment"] == true => {
                *exposures.entry(event["variation"].to_string()).or_default() += 1;
            }
            "custom" if event["key"] == metric => metric_values.push(event["metricValue"].clone()),
            _ => {}
        }
    }
    json!({
        "records": records.len(),
        "kinds": kinds,
        "summaryCountsByVariation": summary_counts,
        "exposuresByVariation": exposures,
        "metricValues": metric_values,
    })
}
