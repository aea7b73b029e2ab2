//! Where a request's records go: one `vexil_queue::Producer` and topic, chosen at startup
//! (Kafka's in the standalone service, `vexil up`'s embedded queue in-process). Either way
//! the request waits once, for all of its records.

use std::sync::Arc;
use std::time::Duration;

use vexil_queue::{Producer, QueueError};

use crate::envelope::Batch;
use crate::records::Records;

/// Cheap to clone; clones share the producer.
#[derive(Clone)]
pub struct EventSink {
    producer: Arc<dyn Producer>,
    topic: Arc<str>,
}

impl EventSink {
    pub fn new(producer: Arc<dyn Producer>, topic: &str) -> EventSink {
        EventSink {
            producer,
            topic: topic.into(),
        }
    }

    /// Sends every record with the batch's headers and timestamp, and returns once all of
    /// them are durable, within the producer's append timeout (`kafka.produce_timeout` on
    /// Kafka). After an error some records may be durable: a retry of the same payload is
    /// de-duplicated downstream by payload id and index.
    pub async fn send(&self, records: Records, batch: &Batch<'_>) -> Result<(), QueueError> {
        let records = records.into_queue_records(batch.headers(), batch.received_at_unix_ms);
        // No positions: the request only needs to know its records are durable, and on
        // Kafka an append without them costs no allocation per record.
        self.producer.append_all(&self.topic, &records).await
    }

    /// Gives records the producer still holds (those of requests that timed out or were
    /// abandoned) up to `grace` to become durable.
    pub async fn close(&self, grace: Duration) {
        match self.producer.flush(grace).await {
            Ok(()) => tracing::info!("producer flushed"),
            Err(error) => {
                tracing::warn!(error = %error, "producer did not flush before shutdown")
            }
        }
    }
}
