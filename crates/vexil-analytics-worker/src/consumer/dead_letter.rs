//! Where dead letters go, durably, before the offset past them is committed: a
//! `vexil_queue::Producer`, Kafka's (`vexil_queue::kafka::KafkaProducer`: idempotent,
//! `acks=all`, waiting for every acknowledgement) or the embedded queue's.

use std::sync::Arc;

use prost::Message;
use vexil_proto::events::v1::DeadLetter;

/// Dead letters that are not all durable; some may be, and a retry may duplicate them.
#[derive(Debug, thiserror::Error)]
#[error("failed to produce dead letters to topic {topic}")]
pub struct DeadLetterError {
    topic: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// Dead letters appended to a topic of a queue: Kafka's dead-letter topic, or in `vexil up`
/// a topic of the embedded queue the events come from. Keyed like the original records.
pub struct QueueDeadLetters {
    pub producer: Arc<dyn vexil_queue::Producer>,
    pub topic: String,
}

impl QueueDeadLetters {
    /// Returns once every letter is durable.
    pub async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        let now = super::batch::now_unix_ms();
        let records: Vec<vexil_queue::Record> = letters
            .iter()
            .map(|letter| vexil_queue::Record::new(letter.key.clone(), letter.encode_to_vec(), now))
            .collect();
        self.producer
            .append_all(&self.topic, &records)
            .await
            .map_err(|source| DeadLetterError {
                topic: self.topic.clone(),
                source: Box::new(source),
            })?;
        Ok(())
    }
}
