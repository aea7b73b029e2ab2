//! Where a request's records go: Kafka (`kafka::EventProducer`, the standalone service) or
//! a `vexil_queue::Producer` (`vexil up`'s embedded queue, read by the worker in the same
//! process). One enum dispatch per request; either way the request waits once, for all of
//! its records.

use std::sync::Arc;
use std::time::Duration;

use vexil_queue::{Producer, QueueError};

use crate::envelope::Batch;
use crate::kafka::{EventProducer, ProduceError};
use crate::records::Records;

/// Cheap to clone; clones share the producer.
#[derive(Clone)]
pub enum EventSink {
    Kafka(EventProducer),
    Queue {
        producer: Arc<dyn Producer>,
        topic: Arc<str>,
    },
}

/// Why a request's records are not all durable. Some may be: a retry of the same payload
/// is de-duplicated downstream by payload id and index.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Kafka(#[from] ProduceError),
    #[error("the embedded queue did not take the records")]
    Queue(#[from] QueueError),
}

impl EventSink {
    /// Sends every record with the batch's headers and timestamp, and returns once all of
    /// them are acknowledged (Kafka, within `kafka.produce_timeout`) or durable (the
    /// queue, within its own append timeout).
    pub async fn send(&self, records: Records, batch: &Batch<'_>) -> Result<(), SendError> {
        match self {
            EventSink::Kafka(producer) => {
                producer
                    .produce_all(&records, &batch.headers(), batch.received_at_unix_ms)
                    .await?;
            }
            EventSink::Queue { producer, topic } => {
                let records =
                    records.into_queue_records(&batch.queue_headers(), batch.received_at_unix_ms);
                producer.append(topic, &records).await?;
            }
        }
        Ok(())
    }

    /// Gives records still queued in Kafka's producer up to `grace` to be acknowledged.
    /// The embedded queue holds nothing back: an append returns once it is durable.
    pub async fn close(&self, grace: Duration) {
        let EventSink::Kafka(producer) = self else {
            return;
        };
        let producer = producer.clone();
        match tokio::task::spawn_blocking(move || producer.flush(grace)).await {
            Ok(Ok(())) => tracing::info!("producer flushed"),
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "producer did not flush before shutdown")
            }
            Err(error) => tracing::error!(error = %error, "producer flush task failed"),
        }
    }
}
