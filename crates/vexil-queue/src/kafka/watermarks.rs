//! The partitions' watermarks (earliest retained offset, end) a subscription's `lag`
//! answers from without I/O: queried with ListOffsets when the subscription starts, then
//! taken from librdkafka's statistics every `lag_refresh`, which carry the high watermark
//! of the latest fetch response of each partition, so keeping them current costs the
//! brokers nothing.
//!
//! The fetch responses are also the reliable source: tansu 0.6 answers a ListOffsets for
//! the latest offset with its last record batch's base offset plus one, short of the end
//! when that batch holds several records. Watermarks only grow, so the start's low answer
//! is soon replaced by the statistics'.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

/// How long one watermark query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One partition's watermarks, as last known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Watermark {
    /// The earliest retained offset.
    pub(super) earliest: u64,
    /// The offset the next appended record will take (the high watermark).
    pub(super) end: u64,
}

pub(super) struct Watermarks {
    partitions: Mutex<Vec<Watermark>>,
    /// Notified whenever a watermark grows.
    grown: Notify,
}

impl Watermarks {
    /// Knows no partition until [`Watermarks::start`].
    pub(super) fn new() -> Watermarks {
        Watermarks {
            partitions: Mutex::new(Vec::new()),
            grown: Notify::new(),
        }
    }

    /// Takes the answer of the query made when the subscription starts.
    pub(super) fn start(&self, known: Vec<Watermark>) {
        *self.partitions() = known;
    }

    /// The watermarks as last known, one per partition.
    pub(super) fn get(&self) -> Vec<Watermark> {
        self.partitions().clone()
    }

    /// Takes a newer answer for one partition. Watermarks only grow (an answer sent before
    /// an append may arrive after a later one), so each keeps the larger value.
    pub(super) fn update(&self, partition: usize, answer: Watermark) {
        let grown = match self.partitions().get_mut(partition) {
            Some(known) if answer.earliest > known.earliest || answer.end > known.end => {
                known.earliest = known.earliest.max(answer.earliest);
                known.end = known.end.max(answer.end);
                true
            }
            _ => false,
        };
        if grown {
            self.grown.notify_waiters();
        }
    }

    /// Resolves when a watermark grows after this call.
    pub(super) fn grown(&self) -> Notified<'_> {
        self.grown.notified()
    }

    /// A record at `offset` was read, so the partition's end is past it.
    pub(super) fn observe(&self, partition: usize, offset: u64) {
        self.update(
            partition,
            Watermark {
                earliest: 0,
                end: offset + 1,
            },
        );
    }

    fn partitions(&self) -> std::sync::MutexGuard<'_, Vec<Watermark>> {
        self.partitions
            .lock()
            .expect("the watermark lock is never poisoned: nothing panics holding it")
    }
}

/// Asks the brokers for every partition's watermarks: one ListOffsets request per leader
/// for the earliest offsets and one for the ends, whatever the partition count. Blocks.
pub(super) fn query<C: ConsumerContext>(
    consumer: &impl Consumer<C>,
    topic: &str,
    partitions: u32,
) -> Result<Vec<Watermark>, KafkaError> {
    let earliest = list_offsets(consumer, topic, partitions, Offset::Beginning)?;
    let ends = list_offsets(consumer, topic, partitions, Offset::End)?;
    Ok(earliest
        .into_iter()
        .zip(ends)
        .map(|(earliest, end)| Watermark { earliest, end })
        .collect())
}

/// The offset of each partition at `at` (the beginning or the end), 0 where the answer
/// has none.
fn list_offsets<C: ConsumerContext>(
    consumer: &impl Consumer<C>,
    topic: &str,
    partitions: u32,
    at: Offset,
) -> Result<Vec<u64>, KafkaError> {
    let mut request = TopicPartitionList::new();
    for partition in 0..partitions {
        // The logical offsets are the ListOffsets timestamps for earliest and latest.
        request.add_partition_offset(topic, partition as i32, at)?;
    }
    let answer = consumer.offsets_for_times(request, QUERY_TIMEOUT)?;
    let mut offsets = vec![0; partitions as usize];
    for element in answer.elements() {
        element.error()?;
        if let (Ok(partition), Offset::Offset(offset)) =
            (usize::try_from(element.partition()), element.offset())
        {
            if let Some(slot) = offsets.get_mut(partition) {
                *slot = u64::try_from(offset).unwrap_or(0);
            }
        }
    }
    Ok(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(earliest: u64, end: u64) -> Watermark {
        Watermark { earliest, end }
    }

    #[test]
    fn watermarks_only_grow() {
        let watermarks = Watermarks::new();
        watermarks.update(0, at(1, 1));
        assert_eq!(
            watermarks.get(),
            vec![],
            "no partition known before the start"
        );
        watermarks.start(vec![at(0, 5), at(2, 9)]);
        watermarks.update(0, at(1, 4));
        watermarks.update(1, at(0, 12));
        watermarks.update(7, at(1, 1));
        assert_eq!(watermarks.get(), vec![at(1, 5), at(2, 12)]);
        watermarks.observe(0, 7);
        watermarks.observe(1, 3);
        assert_eq!(watermarks.get(), vec![at(1, 8), at(2, 12)]);
    }
}
