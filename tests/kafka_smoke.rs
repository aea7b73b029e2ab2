//! Smoke test of the Kafka path on the real broker: topic creation, an idempotent
//! producer and a consumer group that commits what it read.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset};
use tokio::time::{timeout_at, Instant};

use crate::test_env::required_var;

/// Bounds the whole scenario; a healthy local broker needs a few seconds.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(90);
/// Bounds each blocking librdkafka call, well inside the scenario deadline.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn records_produced_idempotently_are_consumed_in_order_and_committed() {
    let brokers = required_var("VEXIL_TEST_KAFKA_BROKERS");
    let deadline = Instant::now() + SCENARIO_DEADLINE;
    let topic = unique_name("vexil-smoke");
    let sent: Vec<(String, String)> = (0..5)
        .map(|i| (format!("flag-{i}"), format!("{{\"version\":{i}}}")))
        .collect();

    create_topic(&brokers, &topic, deadline).await;
    produce(&brokers, &topic, &sent, deadline).await;
    let received = consume_and_commit(&brokers, &topic, sent.len(), deadline).await;

    assert_eq!(received, sent);
}

async fn create_topic(brokers: &str, topic: &str, deadline: Instant) {
    let admin: AdminClient<DefaultClientContext> = client_config(brokers)
        .create()
        .expect("creating Kafka admin client");
    // One partition, so the order of the records is the order they were sent in.
    let new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    let options = AdminOptions::new()
        .request_timeout(Some(CALL_TIMEOUT))
        .operation_timeout(Some(CALL_TIMEOUT));
    let results = timeout_at(deadline, admin.create_topics([&new_topic], &options))
        .await
        .unwrap_or_else(|_| panic!("timed out creating topic {topic} on {brokers}"))
        .unwrap_or_else(|error| panic!("failed to create topic {topic} on {brokers}: {error}"));
    for result in results {
        if let Err((name, code)) = result {
            panic!("broker {brokers} refused to create topic {name}: {code}");
        }
    }
}

async fn produce(brokers: &str, topic: &str, records: &[(String, String)], deadline: Instant) {
    let producer: FutureProducer = client_config(brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", CALL_TIMEOUT.as_millis().to_string())
        .create()
        .expect("creating idempotent Kafka producer");
    for (key, payload) in records {
        let record = FutureRecord::to(topic).key(key).payload(payload);
        let Ok(delivery) = timeout_at(deadline, producer.send(record, CALL_TIMEOUT)).await else {
            panic!("timed out producing {key} to {topic}");
        };
        if let Err((error, _message)) = delivery {
            panic!("failed to produce {key} to {topic}: {error}");
        }
    }
}

/// Reads `count` records from the start of `topic` in a new consumer group, commits
/// the group's position and checks the broker stored it.
async fn consume_and_commit(
    brokers: &str,
    topic: &str,
    count: usize,
    deadline: Instant,
) -> Vec<(String, String)> {
    let consumer: StreamConsumer = client_config(brokers)
        .set("group.id", unique_name("vexil-smoke-group"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("creating Kafka consumer");
    consumer
        .subscribe(&[topic])
        .unwrap_or_else(|error| panic!("failed to subscribe to {topic}: {error}"));

    let mut received = Vec::with_capacity(count);
    while received.len() < count {
        let message = timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out consuming {topic}: got {} of {count} records: {received:?}",
                    received.len()
                )
            })
            .unwrap_or_else(|error| panic!("failed to consume {topic}: {error}"));
        received.push((utf8(message.key()), utf8(message.payload())));
    }

    consumer
        .commit_consumer_state(CommitMode::Sync)
        .unwrap_or_else(|error| panic!("failed to commit offsets for {topic}: {error}"));
    let committed = consumer
        .committed(CALL_TIMEOUT)
        .unwrap_or_else(|error| panic!("failed to fetch committed offsets for {topic}: {error}"));
    let partition = committed
        .find_partition(topic, 0)
        .unwrap_or_else(|| panic!("no committed offset for {topic} partition 0: {committed:?}"));
    let expected = Offset::Offset(i64::try_from(count).unwrap());
    assert_eq!(
        partition.offset(),
        expected,
        "committed offset of {topic} partition 0"
    );

    received
}

fn client_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("socket.timeout.ms", CALL_TIMEOUT.as_millis().to_string());
    config
}

/// A name no earlier run used, so reruns against a long-lived broker never collide.
fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn utf8(bytes: Option<&[u8]>) -> String {
    String::from_utf8(bytes.unwrap_or_default().to_vec()).expect("records are UTF-8")
}
