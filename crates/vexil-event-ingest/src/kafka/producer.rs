//! The producer: idempotent, `acks=all`, compressed and batched; a request's records are
//! all acknowledged by the brokers within `kafka.produce_timeout`, or the request fails.
//!
//! Each request waits once: its records share one [`Pending`] count, which librdkafka's
//! delivery callback (on the producer's polling thread) counts down, waking the request
//! when the last record is acknowledged or failed.
//!
//! An idempotent producer can be left unable to write: librdkafka may give up on its
//! producer id (a fatal error), or the broker may refuse every later record for the
//! producer's id or epoch. The second happens after a broker stalls with records in
//! flight: librdkafka then bumps the producer's epoch itself, and a broker that only
//! accepts epochs it handed out (the `tansu` broker the tests run, 0.6) answers
//! `INVALID_PRODUCER_EPOCH` to every record from then on, which librdkafka does not treat
//! as fatal. Either way the first request to see it replaces the producer with a fresh
//! one (a new producer id from the broker), so the service recovers without a restart;
//! a record a request wrote before the replacement is de-duplicated downstream by its
//! payload id and index like any retry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientConfig;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::KafkaConfig;
use crate::records::Records;

/// How long to wait before retrying when librdkafka's local queue is full.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(5);

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
}

/// Cheap to clone; clones share the producer and its connections.
#[derive(Clone)]
pub struct EventProducer {
    current: Arc<RwLock<Generation>>,
    config: Arc<ClientConfig>,
    topic: Arc<str>,
    produce_timeout: Duration,
}

type Inner = ThreadedProducer<Acknowledgements>;

/// The producer in use and how many it replaced.
struct Generation {
    number: u64,
    producer: Arc<Inner>,
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
        let producer = create(&config)?;
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
        records: &Records,
        headers: &OwnedHeaders,
        timestamp_ms: i64,
    ) -> Result<(), ProduceError> {
        let (generation, producer) = self.current();
        let produced = self
            .produce_with(&producer, records, headers, timestamp_ms)
            .await;
        if let Err(error) = &produced {
            self.replace_if_broken(generation, &producer, error);
        }
        produced
    }

    async fn produce_with(
        &self,
        producer: &Inner,
        records: &Records,
        headers: &OwnedHeaders,
        timestamp_ms: i64,
    ) -> Result<(), ProduceError> {
        let deadline = Instant::now() + self.produce_timeout;
        let pending = Arc::new(Pending::default());
        for record in records.iter() {
            loop {
                // Counted before it is sent: its acknowledgement may come at once.
                pending.add_one();
                let outgoing = BaseRecord::with_opaque_to(&self.topic, pending.clone())
                    .key(record.key)
                    .payload(record.value)
                    .headers(headers.clone())
                    .timestamp(timestamp_ms);
                let Err((error, _unsent)) = producer.send(outgoing) else {
                    break;
                };
                // Never the last count: this request still holds its own (see `Pending`).
                pending.remaining.fetch_sub(1, Ordering::AcqRel);
                match error {
                    KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)
                        if Instant::now() + QUEUE_FULL_BACKOFF < deadline =>
                    {
                        tokio::time::sleep(QUEUE_FULL_BACKOFF).await;
                    }
                    KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => {
                        return Err(self.timed_out())
                    }
                    error => return Err(self.failed(error)),
                }
            }
        }
        pending.settle_one();
        match tokio::time::timeout_at(deadline, pending.settled.notified()).await {
            Err(_elapsed) => Err(self.timed_out()),
            Ok(()) => match pending.failure.get() {
                Some(error) => Err(self.failed(error.clone())),
                None => Ok(()),
            },
        }
    }

    /// Waits up to `timeout` for queued records to be acknowledged (at shutdown).
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.current().1.flush(timeout)
    }

    fn current(&self) -> (u64, Arc<Inner>) {
        let current = self
            .current
            .read()
            .expect("the producer lock is never poisoned: nothing panics holding it");
        (current.number, current.producer.clone())
    }

    /// Replaces the producer of `generation` when it hit a fatal error or the broker
    /// refused its producer id or epoch (once, however many requests saw it fail).
    fn replace_if_broken(&self, generation: u64, producer: &Inner, error: &ProduceError) {
        let (code, reason) = match producer.client().fatal_error() {
            Some(fatal) => fatal,
            None => match error {
                ProduceError::Failed {
                    source: KafkaError::MessageProduction(code),
                    ..
                } if refuses_producer_state(*code) => (
                    *code,
                    "the broker refused the producer's id or epoch".to_owned(),
                ),
                _ => return,
            },
        };
        let mut current = self
            .current
            .write()
            .expect("the producer lock is never poisoned: nothing panics holding it");
        if current.number != generation {
            return;
        }
        match create(&self.config) {
            Ok(replacement) => {
                tracing::warn!(%code, reason, "Kafka producer could not write any more; replaced it");
                *current = Generation {
                    number: generation + 1,
                    producer: replacement,
                };
            }
            Err(error) => tracing::error!(
                %code,
                reason,
                error = %error,
                "Kafka producer could not write any more and cannot be replaced"
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

/// Broker answers that refuse every later record of this producer id or epoch: only a
/// new producer id gets records written again.
fn refuses_producer_state(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::InvalidProducerEpoch
            | RDKafkaErrorCode::ProducerFenced
            | RDKafkaErrorCode::OutOfOrderSequenceNumber
            | RDKafkaErrorCode::UnknownProducerId
            | RDKafkaErrorCode::InvalidProducerIdMapping
    )
}

fn create(config: &ClientConfig) -> Result<Arc<Inner>, KafkaError> {
    Inner::from_config_and_context(config, Acknowledgements).map(Arc::new)
}

/// One request's records not yet settled (acknowledged or failed), plus one count the
/// request itself holds until it has sent them all, so that records acknowledged while
/// later ones are still being sent cannot settle the request early.
struct Pending {
    remaining: AtomicUsize,
    /// The first failure of any record.
    failure: OnceLock<KafkaError>,
    /// Notified once, when `remaining` reaches zero; `Notify` keeps the wake-up for a
    /// request that starts waiting afterwards.
    settled: Notify,
}

impl Default for Pending {
    fn default() -> Pending {
        Pending {
            remaining: AtomicUsize::new(1),
            failure: OnceLock::new(),
            settled: Notify::new(),
        }
    }
}

impl Pending {
    fn add_one(&self) {
        self.remaining.fetch_add(1, Ordering::AcqRel);
    }

    fn settle_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.settled.notify_one();
        }
    }
}

/// The producer's context: each delivery report settles one record of its request.
struct Acknowledgements;

impl ClientContext for Acknowledgements {}

impl ProducerContext for Acknowledgements {
    type DeliveryOpaque = Arc<Pending>;

    fn delivery(&self, delivery: &DeliveryResult<'_>, pending: Arc<Pending>) {
        if let Err((error, _message)) = delivery {
            // Only the first failure is kept; the others say the same or less.
            let _ = pending.failure.set(error.clone());
        }
        pending.settle_one();
    }
}
