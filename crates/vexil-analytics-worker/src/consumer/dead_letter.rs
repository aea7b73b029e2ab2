//! Where dead letters go, durably, before the offset past them is committed: the
//! `DeadLetterSink` trait, with Kafka's producer (idempotent, `acks=all`, waiting for every
//! acknowledgement) and a `vexil_queue::Producer` (the embedded queue) behind it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use prost::Message;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use vexil_proto::events::v1::DeadLetter;

use crate::config::KafkaConfig;

/// Dead letters that are not all durable; some may be, and a retry may duplicate them.
#[derive(Debug, thiserror::Error)]
#[error("failed to produce dead letters to topic {topic}")]
pub struct DeadLetterError {
    topic: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// Appends `DeadLetter` records, keyed like the original records.
#[async_trait::async_trait]
pub trait DeadLetterSink: Send + Sync {
    /// Returns once every letter is durable.
    async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError>;
}

#[derive(Clone)]
pub struct DeadLetterProducer {
    producer: FutureProducer,
    topic: String,
    timeout: Duration,
}

impl DeadLetterProducer {
    pub fn new(kafka: &KafkaConfig) -> Result<DeadLetterProducer, KafkaError> {
        let producer = super::kafka::client_config(kafka)
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
}

#[async_trait::async_trait]
impl DeadLetterSink for DeadLetterProducer {
    async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
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
                source: Box::new(source),
            })?;
        Ok(())
    }
}

/// Dead letters appended to a topic of a `vexil_queue` (in `vexil up`, the queue the
/// events come from).
pub struct QueueDeadLetters {
    pub producer: Arc<dyn vexil_queue::Producer>,
    pub topic: String,
}

#[async_trait::async_trait]
impl DeadLetterSink for QueueDeadLetters {
    async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        let now = super::batch::now_unix_ms();
        let records: Vec<vexil_queue::Record> = letters
            .iter()
            .map(|letter| vexil_queue::Record::new(letter.key.clone(), letter.encode_to_vec(), now))
            .collect();
        self.producer
            .append(&self.topic, &records)
            .await
            .map_err(|source| DeadLetterError {
                topic: self.topic.clone(),
                source: Box::new(source),
            })?;
        Ok(())
    }
}
