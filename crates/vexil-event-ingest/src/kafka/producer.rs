//! The producer: idempotent, `acks=all`, compressed and batched; a request's records are
//! all acknowledged by the brokers within `kafka.produce_timeout`, or the request fails.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tokio::time::Instant;

use crate::config::KafkaConfig;

/// How long to wait before retrying when librdkafka's local queue is full.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(5);

/// One record to produce: its key and value (an encoded `EventEnvelope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: String,
    pub value: Vec<u8>,
}

/// Why a request's records are not all acknowledged. Some may still have been written:
/// a retry of the same payload is de-duplicated downstream by payload id and index.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("Kafka did not acknowledge the records to topic {topic} within {timeout_ms} ms")]
    TimedOut { topic: Arc<str>, timeout_ms: u128 },
    #[error("failed to produce records to topic {topic}")]
    Failed {
        topic: Arc<str>,
        #[source]
        source: KafkaError,
    },
    #[error("the producer shut down before acknowledging records to topic {topic}")]
    Closed { topic: Arc<str> },
}

/// Cheap to clone; clones share the producer and its connections.
#[derive(Clone)]
pub struct EventProducer {
    producer: FutureProducer,
    topic: Arc<str>,
    produce_timeout: Duration,
}

impl EventProducer {
    /// Creates the producer; it connects in the background.
    pub fn new(kafka: &KafkaConfig) -> Result<EventProducer, KafkaError> {
        let mut config = super::client_config(kafka);
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", &kafka.compression)
            .set("linger.ms", kafka.linger.as_millis().to_string())
            .set(
                "message.timeout.ms",
                kafka.produce_timeout.as_millis().to_string(),
            );
        // The operator's properties win, as in `client_config`.
        for (name, value) in &kafka.properties {
            config.set(name, value);
        }
        Ok(EventProducer {
            producer: config.create()?,
            topic: kafka.topic.as_str().into(),
            produce_timeout: kafka.produce_timeout,
        })
    }

    /// Produces every record and waits until Kafka has acknowledged all of them, at most
    /// `kafka.produce_timeout` from now.
    pub async fn produce_all(
        &self,
        records: &[Record],
        headers: &OwnedHeaders,
        timestamp_ms: i64,
    ) -> Result<(), ProduceError> {
        let deadline = Instant::now() + self.produce_timeout;
        let mut deliveries = Vec::with_capacity(records.len());
        for record in records {
            loop {
                let outgoing = FutureRecord::to(&self.topic)
                    .key(&record.key)
                    .payload(&record.value)
                    .headers(headers.clone())
                    .timestamp(timestamp_ms);
                match self.producer.send_result(outgoing) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        if Instant::now() + QUEUE_FULL_BACKOFF >= deadline {
                            return Err(self.timed_out());
                        }
                        tokio::time::sleep(QUEUE_FULL_BACKOFF).await;
                    }
                    Err((source, _)) => return Err(self.failed(source)),
                }
            }
        }
        let acknowledgements = try_join_all(deliveries.into_iter().map(|delivery| async move {
            match delivery.await {
                Ok(Ok(_delivered)) => Ok(()),
                Ok(Err((source, _message))) => Err(self.failed(source)),
                Err(_canceled) => Err(ProduceError::Closed {
                    topic: self.topic.clone(),
                }),
            }
        }));
        match tokio::time::timeout_at(deadline, acknowledgements).await {
            Ok(result) => result.map(|_| ()),
            Err(_elapsed) => Err(self.timed_out()),
        }
    }

    /// Waits up to `timeout` for queued records to be acknowledged (at shutdown).
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.producer.flush(timeout)
    }

    fn timed_out(&self) -> ProduceError {
        ProduceError::TimedOut {
            topic: self.topic.clone(),
            timeout_ms: self.produce_timeout.as_millis(),
        }
    }

    fn failed(&self, source: KafkaError) -> ProduceError {
        ProduceError::Failed {
            topic: self.topic.clone(),
            source,
        }
    }
}
