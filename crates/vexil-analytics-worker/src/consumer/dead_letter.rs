//! Produces `DeadLetter` records (idempotent, `acks=all`) and waits for their
//! acknowledgement, so a dead letter is durable before the offset past it is committed.

use std::time::Duration;

use futures_util::future::try_join_all;
use prost::Message;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use vexil_proto::events::v1::DeadLetter;

use crate::config::KafkaConfig;

#[derive(Debug, thiserror::Error)]
#[error("failed to produce dead letters to topic {topic}")]
pub struct DeadLetterError {
    topic: String,
    #[source]
    source: KafkaError,
}

#[derive(Clone)]
pub struct DeadLetterProducer {
    producer: FutureProducer,
    topic: String,
    timeout: Duration,
}

impl DeadLetterProducer {
    pub fn new(kafka: &KafkaConfig) -> Result<DeadLetterProducer, KafkaError> {
        let producer = super::client_config(kafka)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set(
                "message.timeout.ms",
                kafka.produce_timeout.as_millis().to_string(),
            )
            .create()?;
        Ok(DeadLetterProducer {
            producer,
            topic: kafka.dead_letter_topic.clone(),
            timeout: kafka.produce_timeout,
        })
    }

    /// Produces every letter, keyed like the original record, and waits for all acks.
    pub async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        let values: Vec<Vec<u8>> = letters.iter().map(Message::encode_to_vec).collect();
        let sends = letters.iter().zip(&values).map(|(letter, value)| {
            let record = FutureRecord::to(&self.topic)
                .key(&letter.key)
                .payload(value);
            self.producer.send(record, self.timeout)
        });
        try_join_all(sends)
            .await
            .map_err(|(source, _)| DeadLetterError {
                topic: self.topic.clone(),
                source,
            })?;
        Ok(())
    }
}
