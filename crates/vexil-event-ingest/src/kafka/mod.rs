//! Kafka: the idempotent producer every request's events go through (`producer.rs`) and
//! creating the topic at startup (`topic.rs`).

mod producer;
mod topic;

pub use producer::{EventProducer, ProduceError};
pub use topic::{ensure_topic, TopicError};

use rdkafka::ClientConfig;

use crate::config::KafkaConfig;

/// Settings shared by the producer and the admin client: the brokers and the operator's
/// extra properties (security, SASL, ...).
fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("client.id", "vexil-event-ingest");
    for (name, value) in &kafka.properties {
        config.set(name, value);
    }
    config
}
