//! Waiting for one append's records to be acknowledged: each record carries its slot in a
//! shared [`Pending`], which librdkafka's delivery callback (on the producer's polling
//! thread) fills, waking the appender when the last record is settled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::Message;
use tokio::sync::Notify;

/// One append's records not yet settled (acknowledged or failed), and where the
/// acknowledged ones went.
pub(super) struct Pending {
    remaining: AtomicUsize,
    /// Per record, in the order given: its partition and offset once acknowledged.
    placed: Mutex<Vec<Option<(i32, i64)>>>,
    /// The first failure of any record; the others say the same or less.
    failure: OnceLock<KafkaError>,
    /// Notified once, when `remaining` reaches zero; `Notify` keeps the wake-up for an
    /// appender that starts waiting afterwards.
    settled: Notify,
}

/// The delivery opaque of one record: its append and its index there.
pub(super) struct Slot {
    pub(super) pending: Arc<Pending>,
    pub(super) index: usize,
}

impl Pending {
    /// Counts all `records` up front, so that early acknowledgements cannot settle the
    /// append while later records are still being handed to librdkafka.
    pub(super) fn new(records: usize) -> Pending {
        Pending {
            remaining: AtomicUsize::new(records),
            placed: Mutex::new(vec![None; records]),
            failure: OnceLock::new(),
            settled: Notify::new(),
        }
    }

    /// Resolves once every record is settled.
    pub(super) async fn settled(&self) {
        self.settled.notified().await
    }

    pub(super) fn failure(&self) -> Option<&KafkaError> {
        self.failure.get()
    }

    /// Each record's partition and offset, `None` for one acknowledged without them.
    pub(super) fn placed(&self) -> Vec<Option<(i32, i64)>> {
        self.placed
            .lock()
            .expect("the placement lock is never poisoned: nothing panics holding it")
            .clone()
    }

    fn settle(&self, index: usize, result: Result<(i32, i64), KafkaError>) {
        match result {
            Ok(place) => {
                let mut placed = self
                    .placed
                    .lock()
                    .expect("the placement lock is never poisoned: nothing panics holding it");
                if let Some(slot) = placed.get_mut(index) {
                    *slot = Some(place);
                }
            }
            Err(error) => {
                let _ = self.failure.set(error);
            }
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.settled.notify_one();
        }
    }
}

/// The producer's context: each delivery report settles one record of its append.
pub(super) struct Acknowledgements;

impl ClientContext for Acknowledgements {}

impl ProducerContext for Acknowledgements {
    type DeliveryOpaque = Box<Slot>;

    fn delivery(&self, delivery: &DeliveryResult<'_>, slot: Box<Slot>) {
        let result = match delivery {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((error, _message)) => Err(error.clone()),
        };
        slot.pending.settle(slot.index, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode;

    #[tokio::test]
    async fn settles_once_every_record_is_acknowledged_in_any_order() {
        let pending = Pending::new(3);
        pending.settle(2, Ok((1, 7)));
        pending.settle(0, Ok((0, 4)));
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), pending.settled())
                .await
                .is_err(),
            "settled with a record outstanding"
        );
        pending.settle(1, Ok((1, 6)));
        pending.settled().await;
        assert!(pending.failure().is_none());
        assert_eq!(
            pending.placed(),
            vec![Some((0, 4)), Some((1, 6)), Some((1, 7))]
        );
    }

    #[tokio::test]
    async fn keeps_the_first_failure() {
        let pending = Pending::new(2);
        pending.settle(
            0,
            Err(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageTimedOut,
            )),
        );
        pending.settle(
            1,
            Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)),
        );
        pending.settled().await;
        assert!(matches!(
            pending.failure(),
            Some(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageTimedOut
            ))
        ));
    }
}
