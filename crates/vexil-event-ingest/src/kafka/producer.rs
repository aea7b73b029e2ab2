//! The producer: idempotent, `acks=all`, compressed and batched; a request's records are
//! all acknowledged by the brokers within `kafka.produce_timeout`, or the request fails.
//!
//! An idempotent producer can hit a fatal error (librdkafka gives up on its producer id,
//! for example after a broker stalled with requests in flight); it then refuses every
//! record for the rest of its life. The first request to see that replaces it with a
//! fresh producer, so the service recovers without a restart.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::future::try_join_all;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::ClientConfig;
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
    current: Arc<RwLock<Generation>>,
    config: Arc<ClientConfig>,
    topic: Arc<str>,
    produce_timeout: Duration,
}

/// The producer in use and how many it replaced.
struct Generation {
    number: u64,
    producer: FutureProducer,
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
            )
            // A request to a stalled broker is abandoned (and, being idempotent, safely
            // retried) after the time a client waits anyway, not librdkafka's 30 s: until
            // then, an idempotent producer holds back every later record.
            .set(
                "request.timeout.ms",
                kafka.produce_timeout.as_millis().to_string(),
            );
        // The operator's properties win, as in `client_config`.
        for (name, value) in &kafka.properties {
            config.set(name, value);
        }
        let producer = config.create()?;
        Ok(EventProducer {
            current: Arc::new(RwLock::new(Generation {
                number: 0,
                producer,
            })),
            config: Arc::new(config),
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
        let (generation, producer) = self.current();
        let produced = self
            .produce_with(&producer, records, headers, timestamp_ms)
            .await;
        if produced.is_err() {
            self.replace_if_fatal(generation, &producer);
        }
        produced
    }

    async fn produce_with(
        &self,
        producer: &FutureProducer,
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
                match producer.send_result(outgoing) {
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
        self.current().1.flush(timeout)
    }

    fn current(&self) -> (u64, FutureProducer) {
        let current = self
            .current
            .read()
            .expect("the producer lock is never poisoned: nothing panics holding it");
        (current.number, current.producer.clone())
    }

    /// Replaces the producer of `generation` when it hit a fatal error (once, however
    /// many requests saw it fail).
    fn replace_if_fatal(&self, generation: u64, producer: &FutureProducer) {
        let Some((code, reason)) = producer.client().fatal_error() else {
            return;
        };
        let mut current = self
            .current
            .write()
            .expect("the producer lock is never poisoned: nothing panics holding it");
        if current.number != generation {
            return;
        }
        match self.config.create::<FutureProducer>() {
            Ok(replacement) => {
                tracing::warn!(%code, reason, "Kafka producer hit a fatal error; replaced it");
                *current = Generation {
                    number: generation + 1,
                    producer: replacement,
                };
            }
            Err(error) => tracing::error!(
                %code,
                reason,
                error = %error,
                "Kafka producer hit a fatal error and cannot be replaced"
            ),
        }
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
