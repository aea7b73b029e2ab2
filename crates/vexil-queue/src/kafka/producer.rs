//! The producer: idempotent, `acks=all`, compressed and batched, each record placed by
//! librdkafka's `consistent` partitioner, which is [`crate::partition_for_key`]. An append
//! returns once every record is acknowledged by all in-sync replicas, or fails within
//! `append_timeout`.
//!
//! An idempotent producer can be left unable to write: librdkafka may give up on its
//! producer id (a fatal error), or the broker may refuse every later record for the
//! producer's id or epoch (after a broker stalls with records in flight, librdkafka bumps
//! the epoch itself, and tansu 0.6 answers `INVALID_PRODUCER_EPOCH` to every record from
//! then on, which librdkafka does not treat as fatal). Either way the first append to see
//! it fail replaces the producer with a fresh one (a new producer id), so the service
//! recovers without a restart; a record written before the replacement is a duplicate
//! for consumers to drop, like any retried one.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use rdkafka::config::FromClientConfigAndContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer as _, ThreadedProducer};
use rdkafka::ClientConfig;
use tokio::time::Instant;

use super::delivery::{Acknowledgements, Countdown, Delivery, Placements};
use super::{client_config, millis, KafkaOptions};
use crate::{BoxFuture, Position, Producer, QueueError, Record};

/// How long to wait before handing a record to librdkafka again when its local queue is
/// full.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(5);

type Inner = ThreadedProducer<Acknowledgements>;

/// A [`Producer`] on Kafka. Cheap to share; concurrent appends share batches and round
/// trips.
pub struct KafkaProducer {
    current: RwLock<Generation>,
    config: ClientConfig,
    brokers: String,
    append_timeout: Duration,
}

/// The producer in use and how many it replaced.
struct Generation {
    number: u64,
    producer: Arc<Inner>,
}

impl KafkaProducer {
    /// Creates the producer; it connects in the background.
    pub fn new(options: &KafkaOptions) -> Result<KafkaProducer, QueueError> {
        let mut config = client_config(
            options,
            &[
                ("compression.type", options.compression.clone()),
                ("linger.ms", millis(options.linger)),
                ("message.timeout.ms", millis(options.append_timeout)),
                ("request.timeout.ms", millis(options.append_timeout)),
            ],
        );
        // After the operator's properties: the queue's guarantees rest on these.
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("partitioner", "consistent");
        let producer = create(&config).map_err(|source| QueueError::KafkaClient {
            role: "producer",
            brokers: options.brokers.clone(),
            source: Box::new(source),
        })?;
        Ok(KafkaProducer {
            current: RwLock::new(Generation {
                number: 0,
                producer,
            }),
            config,
            brokers: options.brokers.clone(),
            append_timeout: options.append_timeout,
        })
    }

    async fn append_records(
        &self,
        topic: &str,
        records: &[Record],
    ) -> Result<Vec<Position>, QueueError> {
        let placements = Arc::new(Placements::new(records.len()));
        self.settle_all(topic, records, &placements.countdown, |index| {
            Arc::new(Delivery::Placed {
                placements: placements.clone(),
                index,
            })
        })
        .await?;
        positions(topic, placements.placed())
    }

    async fn append_all_records(&self, topic: &str, records: &[Record]) -> Result<(), QueueError> {
        let delivery = Arc::new(Delivery::Counted(Countdown::new(records.len())));
        self.settle_all(topic, records, delivery.countdown(), |_| delivery.clone())
            .await
    }

    /// Hands every record to librdkafka with the delivery `delivery_of` gives it (by
    /// index), and waits until `countdown`, which those deliveries settle, reaches zero or
    /// the append times out. Replaces the producer when the failure says it is broken.
    async fn settle_all(
        &self,
        topic: &str,
        records: &[Record],
        countdown: &Countdown,
        delivery_of: impl Fn(usize) -> Arc<Delivery>,
    ) -> Result<(), QueueError> {
        if records.is_empty() {
            return Ok(());
        }
        let (generation, producer) = self.current();
        let settled = self
            .settle_with(&producer, topic, records, countdown, delivery_of)
            .await;
        if let Err(error) = &settled {
            self.replace_if_broken(generation, &producer, error);
        }
        settled
    }

    /// Waits up to `timeout` for every record handed to librdkafka to be settled.
    async fn flush_within(&self, timeout: Duration) -> Result<(), QueueError> {
        let (_, producer) = self.current();
        // librdkafka's flush blocks its thread until the records are settled.
        tokio::task::spawn_blocking(move || {
            producer.flush(timeout).map_err(|_| QueueError::Unflushed {
                records: u64::try_from(producer.in_flight_count()).unwrap_or(0),
                timeout_ms: timeout.as_millis(),
            })
        })
        .await
        .map_err(|_| QueueError::Closed)?
    }

    async fn settle_with(
        &self,
        producer: &Inner,
        topic: &str,
        records: &[Record],
        countdown: &Countdown,
        delivery_of: impl Fn(usize) -> Arc<Delivery>,
    ) -> Result<(), QueueError> {
        let deadline = Instant::now() + self.append_timeout;
        for (index, record) in records.iter().enumerate() {
            let mut outgoing = outgoing(topic, record, delivery_of(index));
            loop {
                match producer.send(outgoing) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), unsent))
                        if Instant::now() + QUEUE_FULL_BACKOFF < deadline =>
                    {
                        tokio::time::sleep(QUEUE_FULL_BACKOFF).await;
                        outgoing = unsent;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        return Err(self.timed_out(topic))
                    }
                    Err((source, _)) => return Err(failed(topic, source)),
                }
            }
        }
        if tokio::time::timeout_at(deadline, countdown.settled())
            .await
            .is_err()
        {
            return Err(self.timed_out(topic));
        }
        match countdown.failure() {
            Some(source) => Err(failed(topic, source.clone())),
            None => Ok(()),
        }
    }

    /// How many producers this one has replaced.
    #[cfg(test)]
    fn generation(&self) -> u64 {
        self.current().0
    }

    fn current(&self) -> (u64, Arc<Inner>) {
        let current = self
            .current
            .read()
            .expect("the producer lock is never poisoned: nothing panics holding it");
        (current.number, current.producer.clone())
    }

    /// Replaces the producer of `generation` when it hit a fatal error (whatever `error`
    /// the append saw, a timeout included) or the broker refused its producer id or epoch
    /// (once, however many appends saw it fail).
    fn replace_if_broken(&self, generation: u64, producer: &Inner, error: &QueueError) {
        let (code, reason) = match producer.client().fatal_error() {
            Some(fatal) => fatal,
            None => match error {
                QueueError::Kafka { source, .. } => match **source {
                    KafkaError::MessageProduction(code) if refuses_producer_state(code) => (
                        code,
                        "the broker refused the producer's id or epoch".to_owned(),
                    ),
                    _ => return,
                },
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
                tracing::warn!(%code, reason, brokers = %self.brokers, "Kafka producer could not write any more; replaced it");
                *current = Generation {
                    number: generation + 1,
                    producer: replacement,
                };
            }
            Err(error) => tracing::error!(
                %code,
                reason,
                brokers = %self.brokers,
                error = %error,
                "Kafka producer could not write any more and cannot be replaced"
            ),
        }
    }

    fn timed_out(&self, topic: &str) -> QueueError {
        QueueError::TimedOut {
            topic: topic.to_owned(),
            timeout_ms: self.append_timeout.as_millis(),
        }
    }
}

impl Producer for KafkaProducer {
    fn append<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [Record],
    ) -> BoxFuture<'a, Result<Vec<Position>, QueueError>> {
        Box::pin(self.append_records(topic, records))
    }

    fn append_all<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [Record],
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(self.append_all_records(topic, records))
    }

    fn flush(&self, timeout: Duration) -> BoxFuture<'_, Result<(), QueueError>> {
        Box::pin(self.flush_within(timeout))
    }
}

/// The record as librdkafka takes it, carrying its delivery. A record without headers
/// gets no header list at all.
fn outgoing<'a>(
    topic: &'a str,
    record: &'a Record,
    delivery: Arc<Delivery>,
) -> BaseRecord<'a, [u8], [u8], Arc<Delivery>> {
    let outgoing = BaseRecord::with_opaque_to(topic, delivery)
        .key(&record.key[..])
        .payload(&record.value[..])
        .timestamp(record.timestamp_ms);
    if record.headers.is_empty() {
        return outgoing;
    }
    let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
    for header in record.headers.iter() {
        headers = headers.insert(Header {
            key: &header.name,
            value: Some(&header.value[..]),
        });
    }
    outgoing.headers(headers)
}

/// Each record's position from its acknowledged partition and offset, in the order given.
fn positions(topic: &str, placed: Vec<Option<(i32, i64)>>) -> Result<Vec<Position>, QueueError> {
    placed
        .into_iter()
        .enumerate()
        .map(|(index, placed)| {
            let position = placed.and_then(|(partition, offset)| {
                Some(Position {
                    partition: u32::try_from(partition).ok()?,
                    offset: u64::try_from(offset).ok()?,
                })
            });
            position.ok_or_else(|| QueueError::NoOffset {
                topic: topic.to_owned(),
                index,
            })
        })
        .collect()
}

fn failed(topic: &str, source: KafkaError) -> QueueError {
    QueueError::Kafka {
        action: "append records to",
        topic: topic.to_owned(),
        source: Box::new(source),
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

#[cfg(test)]
mod tests;
