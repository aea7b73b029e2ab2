//! The producer's own rules, against librdkafka's mock cluster (which can refuse requests
//! on demand, which a real broker cannot be made to): which failures replace the producer,
//! flushing, and which settings the operator's properties override. The contract tests
//! cover appending and reading against a real broker.

use std::time::Duration;

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;

const TOPIC: &str = "events";

fn cluster() -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 2, 1).unwrap();
    cluster
}

fn producer(cluster: &MockCluster<'static, DefaultProducerContext>) -> KafkaProducer {
    let mut options = KafkaOptions::new(cluster.bootstrap_servers());
    options.append_timeout = Duration::from_secs(10);
    KafkaProducer::new(&options).unwrap()
}

fn records() -> Vec<Record> {
    vec![
        Record::new(&b"k1"[..], &b"v1"[..], 1).with_header("traceparent", &b"00-1"[..]),
        Record::new(&b"k2"[..], &b"v2"[..], 2),
    ]
}

/// The librdkafka error an append failed with.
fn kafka_code(error: &QueueError) -> Option<RDKafkaErrorCode> {
    match error {
        QueueError::Kafka { source, .. } => source.rdkafka_error_code(),
        _ => None,
    }
}

#[tokio::test]
async fn a_refused_producer_epoch_replaces_the_producer() {
    let cluster = cluster();
    let producer = producer(&cluster);
    producer.append(TOPIC, &records()).await.unwrap();
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH],
    );

    let error = producer.append(TOPIC, &records()).await.unwrap_err();
    assert_eq!(
        kafka_code(&error),
        Some(RDKafkaErrorCode::InvalidProducerEpoch),
        "{error:?}"
    );
    assert_eq!(producer.generation(), 1);
    producer.append(TOPIC, &records()).await.unwrap();
    assert_eq!(producer.generation(), 1);
}

#[tokio::test]
async fn a_fatal_error_replaces_the_producer_whatever_the_append_saw() {
    let cluster = cluster();
    let producer = producer(&cluster);
    producer.append(TOPIC, &records()).await.unwrap();
    // Refusing the oldest request in flight leaves librdkafka unable to tell which records
    // the broker has: it gives up on the producer id (a fatal error).
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER],
    );
    let (generation, inner) = producer.current();
    let refused = records();
    let delivery = Arc::new(Delivery::Counted(Countdown::new(refused.len())));
    producer
        .settle_with(&inner, TOPIC, &refused, delivery.countdown(), |_| {
            delivery.clone()
        })
        .await
        .unwrap_err();
    assert!(inner.client().fatal_error().is_some());

    // Even an append that only timed out replaces a producer librdkafka gave up on.
    producer.replace_if_broken(generation, &inner, &producer.timed_out(TOPIC));
    assert_eq!(producer.generation(), 1);
    producer.append(TOPIC, &records()).await.unwrap();
}

#[tokio::test]
async fn append_all_fails_and_replaces_the_producer_as_append_does() {
    let cluster = cluster();
    let producer = producer(&cluster);
    producer.append_all(TOPIC, &records()).await.unwrap();
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH],
    );

    let error = producer.append_all(TOPIC, &records()).await.unwrap_err();
    assert_eq!(
        kafka_code(&error),
        Some(RDKafkaErrorCode::InvalidProducerEpoch),
        "{error:?}"
    );
    assert_eq!(producer.generation(), 1);
    producer.append_all(TOPIC, &records()).await.unwrap();
}

#[tokio::test]
async fn other_failures_keep_the_producer() {
    let cluster = cluster();
    let producer = producer(&cluster);
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE],
    );

    let error = producer.append(TOPIC, &records()).await.unwrap_err();
    assert_eq!(
        kafka_code(&error),
        Some(RDKafkaErrorCode::MessageSizeTooLarge),
        "{error:?}"
    );
    assert_eq!(producer.generation(), 0);
    producer.append(TOPIC, &records()).await.unwrap();
}

#[tokio::test]
async fn flush_waits_for_the_records_of_abandoned_appends() {
    let cluster = cluster();
    let producer = producer(&cluster);
    producer.append(TOPIC, &records()).await.unwrap();
    cluster.broker_down(-1).unwrap();
    // An append dropped while the broker is down leaves its records with librdkafka.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        producer.append(TOPIC, &records()),
    )
    .await;
    assert!(abandoned.is_err(), "appended to a broker that is down");

    let error = producer
        .flush(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            QueueError::Unflushed {
                records: 2,
                timeout_ms: 200
            }
        ),
        "{error:?}"
    );
    cluster.broker_up(-1).unwrap();
    producer.flush(Duration::from_secs(10)).await.unwrap();
}

#[test]
fn properties_override_the_options_but_not_the_guarantees() {
    let mut options = KafkaOptions::new("127.0.0.1:9");
    options.properties = vec![
        ("linger.ms".into(), "50".into()),
        ("compression.type".into(), "gzip".into()),
        ("acks".into(), "1".into()),
        ("enable.idempotence".into(), "false".into()),
    ];
    let producer = KafkaProducer::new(&options).unwrap();
    let setting = |name| producer.config.get(name);
    assert_eq!(setting("linger.ms"), Some("50"));
    assert_eq!(setting("compression.type"), Some("gzip"));
    assert_eq!(setting("message.timeout.ms"), Some("10000"));
    assert_eq!(setting("acks"), Some("all"));
    assert_eq!(setting("enable.idempotence"), Some("true"));
    assert_eq!(setting("partitioner"), Some("consistent"));
}
