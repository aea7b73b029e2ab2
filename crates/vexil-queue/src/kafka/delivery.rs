//! Waiting for one append's records to be acknowledged: each record carries a
//! [`Delivery`] that librdkafka's delivery callback (on the producer's polling thread)
//! settles, waking the appender when the last record of its append is settled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::Message;
use tokio::sync::Notify;

/// What a record's acknowledgement settles. librdkafka takes one opaque type per producer,
/// so both kinds of append share this one.
pub(super) enum Delivery {
    /// Shared by every record of an append that needs no positions: a record costs a
    /// reference count, and its acknowledgement an atomic decrement, nothing more.
    Counted(Countdown),
    /// One per record of an append that returns positions: where its acknowledgement
    /// writes the record's partition and offset.
    Placed {
        placements: Arc<Placements>,
        index: usize,
    },
}

/// One append's records not yet settled (acknowledged or failed).
pub(super) struct Countdown {
    remaining: AtomicUsize,
    /// The first failure of any record; the others say the same or less.
    failure: OnceLock<KafkaError>,
    /// Notified once, when `remaining` reaches zero; `Notify` keeps the wake-up for an
    /// appender that starts waiting afterwards.
    settled: Notify,
}

/// One append's countdown, and where its acknowledged records went.
pub(super) struct Placements {
    pub(super) countdown: Countdown,
    /// Per record, in the order given: its partition and offset once acknowledged.
    placed: Mutex<Vec<Option<(i32, i64)>>>,
}

impl Delivery {
    /// The countdown of the append this delivery belongs to.
    pub(super) fn countdown(&self) -> &Countdown {
        match self {
            Delivery::Counted(countdown) => countdown,
            Delivery::Placed { placements, .. } => &placements.countdown,
        }
    }

    fn settle(&self, result: Result<(i32, i64), KafkaError>) {
        let result = match (self, result) {
            (Delivery::Placed { placements, index }, Ok(place)) => {
                placements.place(*index, place);
                Ok(())
            }
            (Delivery::Counted(_), Ok(_)) => Ok(()),
            (_, Err(error)) => Err(error),
        };
        self.countdown().settle(result);
    }
}

impl Countdown {
    /// Counts all `records` up front, so that early acknowledgements cannot settle the
    /// append while later records are still being handed to librdkafka.
    pub(super) fn new(records: usize) -> Countdown {
        Countdown {
            remaining: AtomicUsize::new(records),
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

    fn settle(&self, result: Result<(), KafkaError>) {
        if let Err(error) = result {
            let _ = self.failure.set(error);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.settled.notify_one();
        }
    }
}

impl Placements {
    pub(super) fn new(records: usize) -> Placements {
        Placements {
            countdown: Countdown::new(records),
            placed: Mutex::new(vec![None; records]),
        }
    }

    /// Each record's partition and offset, `None` for one acknowledged without them.
    pub(super) fn placed(&self) -> Vec<Option<(i32, i64)>> {
        self.placed
            .lock()
            .expect("the placement lock is never poisoned: nothing panics holding it")
            .clone()
    }

    fn place(&self, index: usize, place: (i32, i64)) {
        let mut placed = self
            .placed
            .lock()
            .expect("the placement lock is never poisoned: nothing panics holding it");
        if let Some(slot) = placed.get_mut(index) {
            *slot = Some(place);
        }
    }
}

/// The producer's context: each delivery report settles one record of its append.
pub(super) struct Acknowledgements;

impl ClientContext for Acknowledgements {}

impl ProducerContext for Acknowledgements {
    type DeliveryOpaque = Arc<Delivery>;

    fn delivery(&self, delivery: &DeliveryResult<'_>, opaque: Arc<Delivery>) {
        let result = match delivery {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((error, _message)) => Err(error.clone()),
        };
        opaque.settle(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode;
    use std::time::Duration;

    fn placed(placements: &Arc<Placements>, index: usize) -> Delivery {
        Delivery::Placed {
            placements: placements.clone(),
            index,
        }
    }

    async fn is_settled(countdown: &Countdown) -> bool {
        tokio::time::timeout(Duration::from_millis(50), countdown.settled())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn settles_once_every_record_is_acknowledged_in_any_order() {
        let placements = Arc::new(Placements::new(3));
        placed(&placements, 2).settle(Ok((1, 7)));
        placed(&placements, 0).settle(Ok((0, 4)));
        assert!(
            !is_settled(&placements.countdown).await,
            "settled with a record outstanding"
        );
        placed(&placements, 1).settle(Ok((1, 6)));
        placements.countdown.settled().await;
        assert!(placements.countdown.failure().is_none());
        assert_eq!(
            placements.placed(),
            vec![Some((0, 4)), Some((1, 6)), Some((1, 7))]
        );
    }

    #[tokio::test]
    async fn a_shared_delivery_settles_after_as_many_acknowledgements_as_records() {
        let delivery = Delivery::Counted(Countdown::new(2));
        delivery.settle(Ok((0, 1)));
        assert!(
            !is_settled(delivery.countdown()).await,
            "settled with a record outstanding"
        );
        delivery.settle(Ok((1, 1)));
        delivery.countdown().settled().await;
        assert!(delivery.countdown().failure().is_none());
    }

    #[tokio::test]
    async fn keeps_the_first_failure() {
        let delivery = Delivery::Counted(Countdown::new(3));
        delivery.settle(Err(KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageTimedOut,
        )));
        delivery.settle(Ok((0, 3)));
        delivery.settle(Err(KafkaError::MessageProduction(
            RDKafkaErrorCode::QueueFull,
        )));
        delivery.countdown().settled().await;
        assert!(matches!(
            delivery.countdown().failure(),
            Some(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageTimedOut
            ))
        ));
    }
}
