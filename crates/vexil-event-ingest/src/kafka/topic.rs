//! Creates the events topic at startup when it is missing (`kafka.create_topic`).

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::config::KafkaConfig;

/// Why the topic could not be made sure of.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("failed to create a Kafka admin client")]
    Client(#[source] KafkaError),
    #[error("failed to create topic {topic}")]
    Request {
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error("the brokers refused to create topic {topic}: {code}")]
    Refused {
        topic: String,
        code: RDKafkaErrorCode,
    },
    #[error("timed out creating topic {topic} after {timeout_ms} ms")]
    TimedOut { topic: String, timeout_ms: u128 },
}

/// Creates `kafka.topic` with `kafka.topic_partitions` partitions unless it exists.
pub async fn ensure_topic(kafka: &KafkaConfig, timeout: Duration) -> Result<(), TopicError> {
    let admin: AdminClient<DefaultClientContext> = super::client_config(kafka)
        .create()
        .map_err(TopicError::Client)?;
    let new_topic = NewTopic::new(
        &kafka.topic,
        kafka.topic_partitions,
        TopicReplication::Fixed(kafka.topic_replication_factor),
    );
    let options = AdminOptions::new()
        .request_timeout(Some(timeout))
        .operation_timeout(Some(timeout));
    let results = tokio::time::timeout(timeout, admin.create_topics([&new_topic], &options))
        .await
        .map_err(|_| TopicError::TimedOut {
            topic: kafka.topic.clone(),
            timeout_ms: timeout.as_millis(),
        })?
        .map_err(|source| TopicError::Request {
            topic: kafka.topic.clone(),
            source,
        })?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(TopicError::Refused { topic, code }),
        }
    }
    Ok(())
}
